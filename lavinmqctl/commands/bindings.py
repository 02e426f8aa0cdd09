"""Bindings: list_bindings (/api/bindings/{vhost})."""

from __future__ import annotations

from typing import Annotated

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, columns_arg, resource_app
from lavinmqctl.session import session

PANEL = "Exchanges"
DEFAULT_COLUMNS = ["source", "destination", "destination_type", "routing_key", "arguments"]
app = resource_app()


@app.command("list_bindings", rich_help_panel=PANEL)
def list_bindings(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg(" ".join(DEFAULT_COLUMNS))] = None,
    vhost: VHost = None,
) -> None:
    """Lists bindings (an empty source is the default exchange)."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing bindings for vhost {vh} ...")
    sess.rows(sess.api.get_list(api_path("bindings", vh)), columns or DEFAULT_COLUMNS)
