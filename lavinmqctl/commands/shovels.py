"""Shovels and federation upstreams: list_shovels, add_shovel, delete_shovel,
list_federations, add_federation, delete_federation (LavinMQ's lavinmqctl names).

Both are runtime parameters (components ``shovel`` and ``federation-upstream``); status
comes from /api/shovels.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, resource_app
from lavinmqctl.session import session

PANEL = "Shovels and federation"
app = resource_app()
Name = Annotated[str, typer.Argument(help="Name", metavar="NAME")]


def _opt(help_text: str) -> Any:
    return typer.Option(help=help_text, show_default=False)


def _put_parameter(
    ctx: typer.Context,
    component: str,
    name: str,
    vhost: str | None,
    value: dict[str, Any],
    what: str,
) -> None:
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Adding {what} "{name}" to vhost "{vh}" ...')
    body = {
        "component": component,
        "vhost": vh,
        "name": name,
        "value": {k: v for k, v in value.items() if v is not None},
    }
    sess.api.put(api_path("parameters", component, vh, name), body)


def _delete_parameter(
    ctx: typer.Context, component: str, name: str, vhost: str | None, what: str
) -> None:
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Deleting {what} "{name}" from vhost "{vh}" ...')
    sess.api.delete(api_path("parameters", component, vh, name))


@app.command("list_shovels", rich_help_panel=PANEL)
def list_shovels(ctx: typer.Context, vhost: VHost = None) -> None:
    """Lists shovels and their state."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing shovels for vhost {vh} ...")
    rows = sess.api.get_list(api_path("shovels", vh))
    sess.rows(rows, ["name", "vhost", "state"])


@app.command("add_shovel", rich_help_panel=PANEL)
def add_shovel(
    ctx: typer.Context,
    name: Name,
    src_uri: Annotated[str, typer.Option("--src-uri", help="Source URI (required)")],
    dest_uri: Annotated[str, typer.Option("--dest-uri", help="Destination URI (required)")],
    src_queue: Annotated[str | None, typer.Option("--src-queue", help="Source queue")] = None,
    dest_queue: Annotated[
        str | None, typer.Option("--dest-queue", help="Destination queue")
    ] = None,
    src_exchange: Annotated[
        str | None, typer.Option("--src-exchange", help="Source exchange")
    ] = None,
    dest_exchange: Annotated[
        str | None, typer.Option("--dest-exchange", help="Destination exchange")
    ] = None,
    src_exchange_key: Annotated[
        str | None, typer.Option("--src-exchange-key", help="Source routing key")
    ] = None,
    dest_exchange_key: Annotated[
        str | None, typer.Option("--dest-exchange-key", help="Destination routing key")
    ] = None,
    src_prefetch_count: Annotated[
        int, typer.Option("--src-prefetch-count", help="Source prefetch")
    ] = 1000,
    src_delete_after: Annotated[
        str, typer.Option("--src-delete-after", help="never, queue-length or a count")
    ] = "never",
    ack_mode: Annotated[
        str, typer.Option("--ack-mode", help="on-confirm, on-publish or no-ack")
    ] = "on-confirm",
    reconnect_delay: Annotated[int, typer.Option("--reconnect-delay", help="Seconds")] = 5,
    vhost: VHost = None,
) -> None:
    """Creates a shovel."""
    value = {
        "src-uri": src_uri,
        "dest-uri": dest_uri,
        "src-queue": src_queue,
        "dest-queue": dest_queue,
        "src-exchange": src_exchange,
        "dest-exchange": dest_exchange,
        "src-exchange-key": src_exchange_key,
        "dest-exchange-key": dest_exchange_key,
        "src-prefetch-count": src_prefetch_count,
        "src-delete-after": src_delete_after,
        "ack-mode": ack_mode,
        "reconnect-delay": reconnect_delay,
    }
    _put_parameter(ctx, "shovel", name, vhost, value, "shovel")


@app.command("delete_shovel", rich_help_panel=PANEL)
def delete_shovel(ctx: typer.Context, name: Name, vhost: VHost = None) -> None:
    """Deletes a shovel."""
    _delete_parameter(ctx, "shovel", name, vhost, "shovel")


@app.command("list_federations", rich_help_panel=PANEL)
def list_federations(ctx: typer.Context, vhost: VHost = None) -> None:
    """Lists federation upstreams."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing federation upstreams for vhost {vh} ...")
    rows = sess.api.get_list(api_path("parameters", "federation-upstream", vh))
    sess.rows(rows, ["name", "component", "value.uri"])


@app.command("add_federation", rich_help_panel=PANEL)
def add_federation(
    ctx: typer.Context,
    name: Name,
    uri: Annotated[str, typer.Option("--uri", help="Upstream URI (required)")],
    expires: Annotated[
        int | None, typer.Option("--expires", help="Upstream queue expiry (ms)")
    ] = None,
    message_ttl: Annotated[
        int | None, typer.Option("--message-ttl", help="Upstream queue message TTL (ms)")
    ] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", help="Maximum hops")] = 1,
    prefetch_count: Annotated[int, typer.Option("--prefetch-count", help="Prefetch")] = 1000,
    reconnect_delay: Annotated[int, typer.Option("--reconnect-delay", help="Seconds")] = 1,
    ack_mode: Annotated[
        str, typer.Option("--ack-mode", help="on-confirm, on-publish or no-ack")
    ] = "on-confirm",
    consumer_tag: Annotated[
        str | None, typer.Option("--consumer-tag", help="Link consumer tag")
    ] = None,
    exchange: Annotated[str | None, typer.Option("--exchange", help="Upstream exchange")] = None,
    queue: Annotated[str | None, typer.Option("--queue", help="Upstream queue")] = None,
    vhost: VHost = None,
) -> None:
    """Creates a federation upstream."""
    value = {
        "uri": uri,
        "expires": expires,
        "message-ttl": message_ttl,
        "max-hops": max_hops,
        "prefetch-count": prefetch_count,
        "reconnect-delay": reconnect_delay,
        "ack-mode": ack_mode,
        "consumer-tag": consumer_tag,
        "exchange": exchange,
        "queue": queue,
    }
    _put_parameter(ctx, "federation-upstream", name, vhost, value, "federation upstream")


@app.command("delete_federation", rich_help_panel=PANEL)
def delete_federation(ctx: typer.Context, name: Name, vhost: VHost = None) -> None:
    """Deletes a federation upstream."""
    _delete_parameter(ctx, "federation-upstream", name, vhost, "federation upstream")
