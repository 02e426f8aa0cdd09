"""Direct exchange: exact routing-key match, and the default (nameless) exchange."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lavinmq.amqp.types import FieldTable
from lavinmq.broker.exchange.base import Destination, Exchange, RefCounted

_NONE: tuple[Destination, ...] = ()


class DirectExchange(Exchange):
    """Routes to destinations bound with exactly the message's routing key."""

    TYPE = "direct"
    __slots__ = ("_index",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: dict[str, RefCounted] = {}

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        return self._index.get(routing_key) or _NONE

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        entry = self._index.get(routing_key)
        if entry is None:
            entry = self._index[routing_key] = RefCounted()
        entry.add(dest)

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        if self._index[routing_key].remove(dest):
            del self._index[routing_key]


class DefaultExchange(Exchange):
    """The nameless exchange: every queue is implicitly bound by its own name.

    It holds no bindings; it looks the queue up in the vhost through ``lookup``.
    """

    TYPE = "direct"
    __slots__ = ("_lookup",)

    def __init__(self, lookup: Callable[[str], Destination | None], vhost_name: str = "/") -> None:
        super().__init__("", vhost_name, durable=True)
        self._lookup = lookup

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        queue = self._lookup(routing_key)
        return (queue,) if queue is not None else _NONE

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        raise AssertionError("the default exchange cannot be bound")

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        raise AssertionError("the default exchange cannot be unbound")
