"""Definitions: export_definitions, import_definitions (/api/definitions[/{vhost}])."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lavinmqctl import output
from lavinmqctl.client import CtlError, api_path
from lavinmqctl.options import ScopeVHost, parse_json_object, resource_app
from lavinmqctl.session import session

PANEL = "Definitions"
app = resource_app()


def _definitions_path(vhost: str | None) -> str:
    return "/api/definitions" if vhost is None else api_path("definitions", vhost)


def _scope(vhost: str | None) -> str:
    return "all virtual hosts" if vhost is None else f'vhost "{vhost}"'


@app.command("export_definitions", rich_help_panel=PANEL)
def export_definitions(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Where to write them; - is stdout")
    ] = "-",
    vhost: ScopeVHost = None,
) -> None:
    """Exports definitions in JSON (of one vhost with -p)."""
    sess = session(ctx)
    vh = vhost if vhost is not None else sess.vhost
    text = output.to_json(sess.api.get(_definitions_path(vh)), pretty=True)
    if file == "-":
        typer.echo(text)
        return
    try:
        Path(file).write_text(text + "\n")
    except OSError as exc:
        raise CtlError(f"cannot write {file}: {exc.strerror or exc}") from None
    sess.info(f"Exported definitions for {_scope(vh)} to {file}")


@app.command("import_definitions", rich_help_panel=PANEL)
def import_definitions(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Definitions JSON file; - reads stdin")
    ],
    vhost: ScopeVHost = None,
) -> None:
    """Import definitions in JSON (into one vhost with -p)."""
    sess = session(ctx)
    vh = vhost if vhost is not None else sess.vhost
    try:
        data = typer.get_binary_stream("stdin").read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise CtlError(f"cannot read {file}: {exc.strerror or exc}") from None
    parse_json_object(data.decode(errors="replace"), f"definitions in {file}")
    sess.info(f"Importing definitions for {_scope(vh)} from {file} ...")
    sess.api.post(_definitions_path(vh), data)
