"""Durable definitions as AMQP method frames: what to log, how to replay, how to compact.

Each vhost's ``definitions.amqp`` holds the declare/delete/bind/unbind methods of durable
entities, encoded as the method frames they came in as (server-named queues are logged
with the name the server gave them). At boot the frames are replayed in order; on
shutdown and when the log has grown well past the live state, it is rewritten from the
in-memory state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from lavinmq.amqp import spec
from lavinmq.amqp.errors import SyntaxError_
from lavinmq.amqp.frames import decode_arguments, method_frame
from lavinmq.amqp.types import FieldTable

if TYPE_CHECKING:
    from lavinmq.broker.vhost import VHost

LOGGED = (
    spec.ExchangeDeclare,
    spec.ExchangeDelete,
    spec.ExchangeBind,
    spec.ExchangeUnbind,
    spec.QueueDeclare,
    spec.QueueDelete,
    spec.QueueBind,
    spec.QueueUnbind,
)

GARBAGE = (spec.ExchangeDelete, spec.ExchangeUnbind, spec.QueueDelete, spec.QueueUnbind)
"""Records that make earlier ones obsolete: the reason to compact."""


def is_durable(dest: Any) -> bool:
    """Whether a binding destination outlives a restart (exclusive queues do not)."""
    return bool(dest.durable) and not getattr(dest, "exclusive", False)


def encode(method: spec.Method) -> bytes:
    """A definitions-log record: the method frame on channel 0."""
    return method_frame(0, method)


def decode(frame: bytes) -> spec.Method:
    """Decode a definitions-log record back into its method.

    Raises:
        ValueError: when the record is not a logged definition method.
    """
    if len(frame) < 12 or frame[0] != 1 or frame[-1] != 0xCE:
        raise ValueError("not a method frame")
    index = int.from_bytes(frame[7:11], "big")
    cls = spec.METHODS.get(index)
    if cls is None or cls not in LOGGED:
        raise ValueError(f"unexpected method index {index:#x} in definitions log")
    try:
        return decode_arguments(cls, memoryview(frame)[11:-1])
    except SyntaxError_ as exc:  # a damaged record is skipped
        raise ValueError(f"undecodable {cls.NAME} record in definitions log: {exc}") from exc


def snapshot(vhost: VHost) -> Iterator[bytes]:
    """The records that recreate the vhost's current durable state."""
    for ex in vhost.exchanges.values():
        if ex.durable and ex.name and not ex.name.startswith("amq."):
            yield encode(
                spec.ExchangeDeclare(
                    exchange=ex.name,
                    type=ex.TYPE,
                    durable=True,
                    auto_delete=ex.auto_delete,
                    internal=ex.internal,
                    arguments=ex.arguments,
                )
            )
    for q in vhost.queues.values():
        if q.durable and not q.exclusive:
            yield encode(
                spec.QueueDeclare(
                    queue=q.name, durable=True, auto_delete=q.auto_delete, arguments=q.arguments
                )
            )
    for ex in vhost.exchanges.values():
        if not ex.durable:
            continue
        for dest, rk, args in ex.bindings():
            if not is_durable(dest):
                continue
            if dest.IS_QUEUE:
                yield encode(
                    spec.QueueBind(
                        queue=dest.name, exchange=ex.name, routing_key=rk, arguments=args
                    )
                )
            else:
                yield encode(
                    spec.ExchangeBind(
                        destination=dest.name, source=ex.name, routing_key=rk, arguments=args
                    )
                )


def replay(vhost: VHost, m: spec.Method) -> None:
    """Apply one logged definition method at boot (nothing is logged again)."""
    if isinstance(m, spec.ExchangeDeclare):
        vhost.declare_exchange(
            m.exchange,
            m.type,
            m.durable,
            m.auto_delete,
            m.internal,
            m.arguments,
            log_it=False,
            builtin_ok=True,
        )
    elif isinstance(m, spec.ExchangeDelete):
        vhost.delete_exchange(m.exchange, log_it=False)
    elif isinstance(m, spec.QueueDeclare):
        vhost.declare_queue(
            m.queue,
            durable=m.durable,
            auto_delete=m.auto_delete,
            arguments=m.arguments,
            log_it=False,
            builtin_ok=True,
        )
    elif isinstance(m, spec.QueueDelete):
        vhost.delete_queue(m.queue, log_it=False)
    elif isinstance(m, spec.QueueBind | spec.QueueUnbind):
        vhost.apply_binding(
            m.exchange,
            vhost.get_queue(m.queue),
            m.routing_key,
            m.arguments,
            isinstance(m, spec.QueueBind),
            log_it=False,
        )
    elif isinstance(m, spec.ExchangeBind | spec.ExchangeUnbind):
        vhost.apply_binding(
            m.source,
            vhost.get_exchange(m.destination),
            m.routing_key,
            m.arguments,
            isinstance(m, spec.ExchangeBind),
            log_it=False,
        )


def binding_method(source: str, dest: Any, rk: str, args: FieldTable, add: bool) -> spec.Method:
    """The log record of a binding change between durable ends."""
    if dest.IS_QUEUE:
        if add:
            return spec.QueueBind(queue=dest.name, exchange=source, routing_key=rk, arguments=args)
        return spec.QueueUnbind(queue=dest.name, exchange=source, routing_key=rk, arguments=args)
    if add:
        return spec.ExchangeBind(
            destination=dest.name, source=source, routing_key=rk, arguments=args
        )
    return spec.ExchangeUnbind(destination=dest.name, source=source, routing_key=rk, arguments=args)
