"""Runtime parameters: set_parameter, clear_parameter, list_parameters
(/api/parameters/{component}/{vhost}/{name})."""

from __future__ import annotations

from typing import Annotated

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, columns_arg, parse_json, resource_app
from lavinmqctl.session import session

PANEL = "Parameters"
COLUMNS = ["component", "name", "value"]
app = resource_app()

Component = Annotated[
    str, typer.Argument(help="Component, e.g. shovel or federation-upstream", metavar="COMPONENT")
]
ParameterName = Annotated[str, typer.Argument(help="Parameter name", metavar="NAME")]


@app.command("set_parameter", rich_help_panel=PANEL)
def set_parameter(
    ctx: typer.Context,
    component: Component,
    name: ParameterName,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="JSON value")],
    vhost: VHost = None,
) -> None:
    """Sets a runtime parameter."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    body = {"component": component, "vhost": vh, "name": name, "value": parse_json(value, "value")}
    sess.info(
        f'Setting runtime parameter "{name}" for component "{component}" '
        f'to "{value}" in vhost "{vh}" ...'
    )
    sess.api.put(api_path("parameters", component, vh, name), body)


@app.command("clear_parameter", rich_help_panel=PANEL)
def clear_parameter(
    ctx: typer.Context, component: Component, name: ParameterName, vhost: VHost = None
) -> None:
    """Clears (removes) a runtime parameter."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(
        f'Clearing runtime parameter "{name}" for component "{component}" in vhost "{vh}" ...'
    )
    sess.api.delete(api_path("parameters", component, vh, name))


@app.command("list_parameters", rich_help_panel=PANEL)
def list_parameters(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg(" ".join(COLUMNS))] = None,
    vhost: VHost = None,
) -> None:
    """Lists runtime parameters of a vhost."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing runtime parameters for vhost {vh} ...")
    rows = [p for p in sess.api.get_list("/api/parameters") if p.get("vhost") == vh]
    sess.rows(rows, columns or COLUMNS)
