"""Virtual hosts and their limits: add_vhost, delete_vhost, list_vhosts, set_vhost_limits,
clear_vhost_limits, list_vhost_limits (/api/vhosts, /api/vhost-limits)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lavinmqctl.client import CtlError, api_path
from lavinmqctl.options import VHost, columns_arg, parse_json_object, resource_app
from lavinmqctl.session import session

PANEL = "Virtual Hosts"
app = resource_app()

VHostName = Annotated[str, typer.Argument(help="Virtual host name", metavar="VHOST")]


@app.command("add_vhost", rich_help_panel=PANEL)
def add_vhost(
    ctx: typer.Context,
    name: VHostName,
    description: Annotated[
        str | None, typer.Option("--description", help="Description", show_default=False)
    ] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Comma-separated tags", show_default=False)
    ] = None,
    default_queue_type: Annotated[
        str | None,
        typer.Option("--default-queue-type", help="classic, quorum or stream", show_default=False),
    ] = None,
) -> None:
    """Creates a virtual host."""
    sess = session(ctx)
    body = {
        k: v
        for k, v in (
            ("description", description),
            ("tags", tags),
            ("default_queue_type", default_queue_type),
        )
        if v is not None
    }
    sess.info(f'Adding vhost "{name}" ...')
    sess.api.put(api_path("vhosts", name), body)


@app.command("delete_vhost", rich_help_panel=PANEL)
def delete_vhost(ctx: typer.Context, name: VHostName) -> None:
    """Deletes a virtual host."""
    sess = session(ctx)
    sess.info(f'Deleting vhost "{name}" ...')
    sess.api.delete(api_path("vhosts", name))


@app.command("list_vhosts", rich_help_panel=PANEL)
def list_vhosts(
    ctx: typer.Context, columns: Annotated[list[str] | None, columns_arg("name")] = None
) -> None:
    """Lists virtual hosts."""
    sess = session(ctx)
    sess.info("Listing vhosts ...")
    sess.rows(sess.api.get_list("/api/vhosts"), columns or ["name"])


@app.command("set_vhost_limits", rich_help_panel=PANEL)
def set_vhost_limits(
    ctx: typer.Context,
    limits: Annotated[
        str,
        typer.Argument(
            metavar="JSON",
            help='Limits, e.g. \'{"max-connections": 100, "max-queues": 10}\'; '
            "a negative value removes the limit",
        ),
    ],
    vhost: VHost = None,
) -> None:
    """Set VHost limits (max-connections, max-queues)."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    values = parse_json_object(limits, "limits")
    if not values:
        raise CtlError("limits must name at least one limit (max-connections, max-queues)")
    sess.info(f'Applying limits to vhost "{vh}" ...')
    for name, value in values.items():
        sess.api.put(api_path("vhost-limits", vh, name), {"value": value})


def _current_limits(ctx: typer.Context, vh: str) -> dict[str, Any]:
    rows = session(ctx).api.get_list(api_path("vhost-limits", vh))
    return dict(rows[0].get("value") or {}) if rows else {}


@app.command("clear_vhost_limits", rich_help_panel=PANEL)
def clear_vhost_limits(ctx: typer.Context, vhost: VHost = None) -> None:
    """Remove all limits of a vhost."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Clearing limits of vhost "{vh}" ...')
    for name in _current_limits(ctx, vh):
        sess.api.delete(api_path("vhost-limits", vh, name))


@app.command("list_vhost_limits", rich_help_panel=PANEL)
def list_vhost_limits(
    ctx: typer.Context,
    vhost: VHost = None,
    all_vhosts: Annotated[bool, typer.Option("--global", help="Limits of every vhost")] = False,
) -> None:
    """Show the limits of a vhost (or of all with --global)."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info("Listing limits ..." if all_vhosts else f'Listing limits of vhost "{vh}" ...')
    path = "/api/vhost-limits" if all_vhosts else api_path("vhost-limits", vh)
    rows = [
        {"vhost": r.get("vhost"), "limits": r.get("value", {})} for r in sess.api.get_list(path)
    ]
    sess.rows(rows, ["vhost", "limits"])
