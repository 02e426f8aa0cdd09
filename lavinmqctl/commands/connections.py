"""Connections, channels, consumers: list_connections, close_connection,
close_all_connections, list_channels, list_consumers (/api/connections, /api/channels,
/api/consumers)."""

from __future__ import annotations

from typing import Annotated

import typer

from lavinmqctl.client import ApiError, api_path
from lavinmqctl.options import ScopeVHost, VHost, columns_arg, resource_app
from lavinmqctl.session import session

PANEL = "Connections"
DEFAULT_REASON = "Closed via lavinmqctl"
CONNECTION_COLUMNS = ["user", "peer_host", "peer_port", "state"]
CHANNEL_COLUMNS = ["name", "user", "consumer_count", "messages_unacknowledged"]
CONSUMER_COLUMNS = [
    "queue.name",
    "channel_details.name",
    "consumer_tag",
    "ack_required",
    "prefetch_count",
    "arguments",
]
app = resource_app()

Reason = Annotated[str, typer.Argument(help="Reason given to the client", metavar="REASON")]


@app.command("list_connections", rich_help_panel=PANEL)
def list_connections(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg(" ".join(CONNECTION_COLUMNS))] = None,
) -> None:
    """Lists AMQP 0.9.1 connections for the node."""
    sess = session(ctx)
    sess.info("Listing connections ...")
    sess.rows(sess.api.get_list("/api/connections"), columns or CONNECTION_COLUMNS)


@app.command("close_connection", rich_help_panel=PANEL)
def close_connection(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(help="Connection name, as list_connections name shows it", metavar="NAME"),
    ],
    reason: Reason = DEFAULT_REASON,
) -> None:
    """Instructs the broker to close a connection by name."""
    sess = session(ctx)
    sess.info(f"Closing connection {name} ...")
    sess.api.delete(api_path("connections", name), headers={"X-Reason": reason})


@app.command("close_all_connections", rich_help_panel=PANEL)
def close_all_connections(
    ctx: typer.Context, reason: Reason = DEFAULT_REASON, vhost: ScopeVHost = None
) -> None:
    """Instructs the broker to close all connections for the specified vhost or entire node."""
    sess = session(ctx)
    vh = vhost if vhost is not None else sess.vhost
    path = "/api/connections" if vh is None else api_path("vhosts", vh, "connections")
    closed = []
    for conn in sess.api.get_list(path):
        name = str(conn.get("name"))
        sess.info(f"Closing connection {name} ...")
        try:
            sess.api.delete(api_path("connections", name), headers={"X-Reason": reason})
        except ApiError as exc:
            if exc.status != 404:  # 404: it went away by itself meanwhile
                raise
            continue
        closed.append({"name": name})
    sess.rows(closed, ["name"])


@app.command("list_channels", rich_help_panel=PANEL)
def list_channels(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg(" ".join(CHANNEL_COLUMNS))] = None,
) -> None:
    """Lists channels for the node."""
    sess = session(ctx)
    sess.info("Listing channels ...")
    sess.rows(sess.api.get_list("/api/channels"), columns or CHANNEL_COLUMNS)


@app.command("list_consumers", rich_help_panel=PANEL)
def list_consumers(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg(" ".join(CONSUMER_COLUMNS))] = None,
    vhost: VHost = None,
) -> None:
    """Lists consumers in a vhost."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing consumers in vhost {vh} ...")
    sess.rows(sess.api.get_list(api_path("consumers", vh)), columns or CONSUMER_COLUMNS)
