"""Name validation and the redeclare equivalence rules of exchanges and queues.

Redeclaring an entity with different properties is a 406 PRECONDITION_FAILED whose text
names the property, with RabbitMQ's wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lavinmq.amqp.errors import AccessRefused, CommandInvalid, PreconditionFailed
from lavinmq.amqp.types import FieldTable

if TYPE_CHECKING:
    from lavinmq.broker.exchange import Exchange
    from lavinmq.broker.queue.queue import Queue


def valid_name(name: str) -> bool:
    """Names are up to 255 bytes of UTF-8 without control characters (no newlines)."""
    return len(name.encode()) <= 255 and all(" " <= ch != "\x7f" for ch in name)


def check_new_name(kind: str, name: str, builtin_ok: bool) -> None:
    """A new ``kind`` (exchange or queue) may take ``name``: valid, and not ``amq.*``
    unless ``builtin_ok`` (the broker's own, or a replayed server-named queue)."""
    if name.startswith("amq.") and not builtin_ok:
        raise AccessRefused(f"{kind} name '{name}' contains reserved prefix 'amq.*'")
    if not valid_name(name):
        raise PreconditionFailed(f"{kind} name '{name}' is not valid")


def unknown_exchange_type(type_: str) -> Exception:
    """A declare with an exchange type the broker lacks (a connection error, as RabbitMQ)."""
    return CommandInvalid(f"unknown exchange type '{type_}'")


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def check_equivalent_exchange(
    ex: Exchange,
    type_: str,
    durable: bool,
    auto_delete: bool,
    internal: bool,
    arguments: FieldTable,
) -> None:
    for field, mine, theirs in (
        ("type", ex.TYPE, type_),
        ("durable", ex.durable, durable),
        ("auto_delete", ex.auto_delete, auto_delete),
        ("internal", ex.internal, internal),
    ):
        if mine != theirs:
            raise PreconditionFailed(
                f"inequivalent arg '{field}' for exchange '{ex.name}' in vhost '{ex.vhost_name}': "
                f"received '{_fmt(theirs)}' but current is '{_fmt(mine)}'"
            )
    if ex.name and not ex.name.startswith("amq.") and ex.arguments != arguments:
        raise PreconditionFailed(
            f"inequivalent arg 'arguments' for exchange '{ex.name}' in vhost '{ex.vhost_name}'"
        )


def check_equivalent_queue(
    q: Queue, durable: bool, exclusive: bool, auto_delete: bool, arguments: FieldTable
) -> None:
    for field, mine, theirs in (
        ("durable", q.durable, durable),
        ("exclusive", q.exclusive, exclusive),
        ("auto_delete", q.auto_delete, auto_delete),
    ):
        if mine != theirs:
            raise PreconditionFailed(
                f"inequivalent arg '{field}' for queue '{q.name}' in vhost '{q.vhost_name}': "
                f"received '{_fmt(theirs)}' but current is '{_fmt(mine)}'"
            )
    for key in set(q.arguments) | set(arguments):
        if q.arguments.get(key) != arguments.get(key):
            raise PreconditionFailed(
                f"inequivalent arg '{key}' for queue '{q.name}' in vhost '{q.vhost_name}': "
                f"received '{_fmt(arguments.get(key))}' but current is '{_fmt(q.arguments.get(key))}'"
            )
