"""Exchanges: list_exchanges, create_exchange, delete_exchange (/api/exchanges/{vhost}/{name})."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, columns_arg, parse_json_object, resource_app
from lavinmqctl.session import session

PANEL = "Exchanges"
app = resource_app()

ExchangeName = Annotated[str, typer.Argument(help="Exchange name", metavar="NAME")]


def _flag(name: str, text: str) -> Any:
    return typer.Option(name, help=text)


def _opt(name: str, text: str) -> Any:
    return typer.Option(name, help=text, show_default=False)


ExchangeType = Annotated[
    str, typer.Argument(help="direct, fanout, topic, headers or a plugin type", metavar="TYPE")
]
AutoDelete = Annotated[bool, _flag("--auto-delete", "Auto delete exchange")]
Durable = Annotated[bool, _flag("--durable", "Make the exchange durable")]
Internal = Annotated[bool, _flag("--internal", "Make the exchange internal")]
Delayed = Annotated[bool, _flag("--delayed", "Make the exchange delayed")]
AlternateExchange = Annotated[
    str | None, _opt("--alternate-exchange", "Exchange to route all unroutable messages to")
]
PersistMessages = Annotated[
    int | None, _opt("--persist-messages", "Number of messages to persist in the exchange")
]
PersistMs = Annotated[
    int | None, _opt("--persist-ms", "Persist messages in the exchange for this amount of time")
]
Arguments = Annotated[str | None, _opt("--arguments", "More x-arguments as a JSON object")]


@app.command("list_exchanges", rich_help_panel=PANEL)
def list_exchanges(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg("name type")] = None,
    vhost: VHost = None,
) -> None:
    """Lists exchanges."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing exchanges for vhost {vh} ...")
    sess.rows(sess.api.get_list(api_path("exchanges", vh)), columns or ["name", "type"])


@app.command("create_exchange", rich_help_panel=PANEL)
def create_exchange(
    ctx: typer.Context,
    exchange_type: ExchangeType,
    name: ExchangeName,
    vhost: VHost = None,
    auto_delete: AutoDelete = False,
    durable: Durable = False,
    internal: Internal = False,
    delayed: Delayed = False,
    alternate_exchange: AlternateExchange = None,
    persist_messages: PersistMessages = None,
    persist_ms: PersistMs = None,
    arguments: Arguments = None,
) -> None:
    """Create exchange."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    args = parse_json_object(arguments, "--arguments") if arguments else {}
    pairs = (
        ("x-alternate-exchange", alternate_exchange),
        ("x-persist-messages", persist_messages),
        ("x-persist-ms", persist_ms),
        ("x-delayed-exchange", True if delayed else None),
    )
    args.update({k: v for k, v in pairs if v is not None})
    body = {
        "type": exchange_type,
        "durable": durable,
        "auto_delete": auto_delete,
        "internal": internal,
        "arguments": args,
    }
    sess.info(f'Creating {exchange_type} exchange "{name}" in vhost "{vh}" ...')
    sess.api.put(api_path("exchanges", vh, name), body)


@app.command("delete_exchange", rich_help_panel=PANEL)
def delete_exchange(
    ctx: typer.Context,
    name: ExchangeName,
    vhost: VHost = None,
    if_unused: Annotated[
        bool, _flag("--if-unused", "Only delete the exchange if it has no bindings")
    ] = False,
) -> None:
    """Delete exchange."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Deleting exchange "{name}" in vhost "{vh}" ...')
    sess.api.delete(api_path("exchanges", vh, name) + ("?if-unused=true" if if_unused else ""))
