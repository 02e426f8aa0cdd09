"""Queues: list_queues, create_queue, delete_queue, purge_queue (/api/queues/{vhost}/{name})."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lavinmqctl.client import api_path
from lavinmqctl.options import VHost, columns_arg, parse_json_object, resource_app
from lavinmqctl.session import session

PANEL = "Queues"
app = resource_app()

QueueName = Annotated[str, typer.Argument(help="Queue name", metavar="QUEUE")]


def _flag(name: str, text: str) -> Any:
    return typer.Option(name, help=text)


def _opt(name: str, text: str) -> Any:
    return typer.Option(name, help=text, show_default=False)


Durable = Annotated[bool, _flag("--durable", "Make the queue durable")]
AutoDelete = Annotated[
    bool, _flag("--auto-delete", "Auto delete queue when last consumer is removed")
]
Expires = Annotated[int | None, _opt("--expires", "Delete the queue after this many ms unused")]
MaxLength = Annotated[int | None, _opt("--max-length", "Set a max length for the queue")]
MessageTTL = Annotated[int | None, _opt("--message-ttl", "Message time to live (ms)")]
DeliveryLimit = Annotated[
    int | None,
    _opt("--delivery-limit", "How many times a message will be delivered before dead lettered"),
]
RejectOnOverflow = Annotated[
    bool,
    _flag(
        "--reject-on-overflow",
        "Reject publish if max-length is met, otherwise messages in the queue are dropped",
    ),
]
DLX = Annotated[
    str | None, _opt("--dead-letter-exchange", "To which exchange to dead letter messages")
]
DLRK = Annotated[
    str | None, _opt("--dead-letter-routing-key", "Which routing key to use when dead lettering")
]
Stream = Annotated[bool, _flag("--stream-queue", "Create a Stream Queue")]
Arguments = Annotated[str | None, _opt("--arguments", "More x-arguments as a JSON object")]


def queue_arguments(
    expires: int | None,
    max_length: int | None,
    message_ttl: int | None,
    delivery_limit: int | None,
    dlx: str | None,
    dlrk: str | None,
    reject_on_overflow: bool,
    stream: bool,
) -> dict[str, Any]:
    """The x-arguments for LavinMQ's ``create_queue`` flags."""
    pairs: list[tuple[str, Any]] = [
        ("x-expires", expires),
        ("x-max-length", max_length),
        ("x-message-ttl", message_ttl),
        ("x-delivery-limit", delivery_limit),
        ("x-dead-letter-exchange", dlx),
        ("x-dead-letter-routing-key", dlrk),
        ("x-overflow", "reject-publish" if reject_on_overflow else None),
        ("x-queue-type", "stream" if stream else None),
    ]
    return {k: v for k, v in pairs if v is not None}


@app.command("list_queues", rich_help_panel=PANEL)
def list_queues(
    ctx: typer.Context,
    columns: Annotated[list[str] | None, columns_arg("name messages")] = None,
    vhost: VHost = None,
) -> None:
    """Lists queues and their properties."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f"Listing queues for vhost {vh} ...")
    sess.rows(sess.api.get_list(api_path("queues", vh)), columns or ["name", "messages"])


@app.command("create_queue", rich_help_panel=PANEL)
def create_queue(
    ctx: typer.Context,
    name: QueueName,
    vhost: VHost = None,
    durable: Durable = False,
    auto_delete: AutoDelete = False,
    expires: Expires = None,
    max_length: MaxLength = None,
    message_ttl: MessageTTL = None,
    delivery_limit: DeliveryLimit = None,
    reject_on_overflow: RejectOnOverflow = False,
    dead_letter_exchange: DLX = None,
    dead_letter_routing_key: DLRK = None,
    stream_queue: Stream = False,
    arguments: Arguments = None,
) -> None:
    """Create queue."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    args = parse_json_object(arguments, "--arguments") if arguments else {}
    args.update(
        queue_arguments(
            expires,
            max_length,
            message_ttl,
            delivery_limit,
            dead_letter_exchange,
            dead_letter_routing_key,
            reject_on_overflow,
            stream_queue,
        )
    )
    sess.info(f'Creating queue "{name}" in vhost "{vh}" ...')
    body = {"durable": durable, "auto_delete": auto_delete, "arguments": args}
    sess.api.put(api_path("queues", vh, name), body)


@app.command("delete_queue", rich_help_panel=PANEL)
def delete_queue(
    ctx: typer.Context,
    name: QueueName,
    vhost: VHost = None,
    if_unused: Annotated[
        bool, _flag("--if-unused", "Only delete the queue if it has no consumers")
    ] = False,
    if_empty: Annotated[
        bool, _flag("--if-empty", "Only delete the queue if it has no messages")
    ] = False,
) -> None:
    """Delete queue."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    query = "&".join(
        q for q, on in (("if-unused=true", if_unused), ("if-empty=true", if_empty)) if on
    )
    sess.info(f'Deleting queue "{name}" in vhost "{vh}" ...')
    sess.api.delete(api_path("queues", vh, name) + (f"?{query}" if query else ""))


@app.command("purge_queue", rich_help_panel=PANEL)
def purge_queue(ctx: typer.Context, name: QueueName, vhost: VHost = None) -> None:
    """Purges a queue (removes all messages in it)."""
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    sess.info(f'Purging queue "{name}" in vhost "{vh}" ...')
    sess.api.delete(api_path("queues", vh, name, "contents"))


@app.command("pause_queue", rich_help_panel=PANEL)
def pause_queue(ctx: typer.Context, name: QueueName, vhost: VHost = None) -> None:
    """Pause all consumers on a queue (no deliveries until resume_queue)."""
    _pause_or_resume(ctx, name, vhost, "pause")


@app.command("resume_queue", rich_help_panel=PANEL)
def resume_queue(ctx: typer.Context, name: QueueName, vhost: VHost = None) -> None:
    """Resume all consumers on a queue."""
    _pause_or_resume(ctx, name, vhost, "resume")


def _pause_or_resume(ctx: typer.Context, name: str, vhost: str | None, action: str) -> None:
    sess = session(ctx)
    vh = sess.vhost_for(vhost)
    verb = "Pausing" if action == "pause" else "Resuming"
    sess.info(f'{verb} queue "{name}" in vhost "{vh}" ...')
    sess.api.put(api_path("queues", vh, name, action))
