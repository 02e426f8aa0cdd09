"""Exchange base: bindings, exchange-to-exchange routing, and the Destination protocol."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from lavinmq.amqp.types import FieldTable

if TYPE_CHECKING:
    from lavinmq.broker.queue.queue import Queue

Destination = Any
"""A Queue or an Exchange; both have ``name`` and ``IS_QUEUE``."""


def args_key(arguments: FieldTable | None) -> str:
    """A hashable identity for binding arguments."""
    return repr(sorted(arguments.items())) if arguments else ""


class Exchange:
    """Base class of every exchange type.

    Bindings are kept as ``{(destination, routing_key, args_key): arguments}``; each
    subclass keeps its own routing index up to date in ``_index_add``/``_index_remove``.
    """

    TYPE: ClassVar[str] = ""
    IS_QUEUE: ClassVar[bool] = False
    __slots__ = (
        "__weakref__",
        "_bindings",
        "arguments",
        "auto_delete",
        "durable",
        "internal",
        "name",
        "policy",
        "stats",
        "vhost_name",
    )

    def __init__(
        self,
        name: str,
        vhost_name: str = "/",
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: FieldTable | None = None,
    ) -> None:
        self.name = name
        self.vhost_name = vhost_name
        self.durable = durable
        self.auto_delete = auto_delete
        self.internal = internal
        self.arguments: FieldTable = arguments or {}
        self.policy: Any = None
        self.stats: Any = None
        self._bindings: dict[tuple[Destination, str, str], FieldTable] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def bind(self, dest: Destination, routing_key: str, arguments: FieldTable | None) -> bool:
        """Add a binding; False when it already existed."""
        key = (dest, routing_key, args_key(arguments))
        if key in self._bindings:
            return False
        self._bindings[key] = arguments or {}
        self._index_add(dest, routing_key, arguments or {})
        return True

    def unbind(self, dest: Destination, routing_key: str, arguments: FieldTable | None) -> bool:
        """Remove a binding; False when it did not exist."""
        key = (dest, routing_key, args_key(arguments))
        args = self._bindings.pop(key, None)
        if args is None:
            return False
        self._index_remove(dest, routing_key, args)
        return True

    def remove_destination(self, dest: Destination) -> int:
        """Remove every binding to ``dest`` (it was deleted); return how many."""
        keys = [k for k in self._bindings if k[0] is dest]
        for key in keys:
            self._index_remove(dest, key[1], self._bindings.pop(key))
        return len(keys)

    def bindings(self) -> Iterator[tuple[Destination, str, FieldTable]]:
        """(destination, routing_key, arguments) of every binding."""
        for (dest, rk, _), args in list(self._bindings.items()):
            yield dest, rk, args

    def has_binding(
        self, dest: Destination, routing_key: str, arguments: FieldTable | None
    ) -> bool:
        return (dest, routing_key, args_key(arguments)) in self._bindings

    @property
    def binding_count(self) -> int:
        return len(self._bindings)

    def is_bound_to(self, dest: Destination) -> bool:
        return any(k[0] is dest for k in self._bindings)

    def route(
        self,
        routing_key: str,
        headers: FieldTable | None,
        out: dict[Queue, None],
        visited: set[Exchange] | None = None,
    ) -> None:
        """Add every queue reached from this exchange to ``out`` (an ordered set),
        following exchange-to-exchange bindings once each."""
        for dest in self.match(routing_key, headers):
            if dest.IS_QUEUE:
                out[dest] = None
            else:
                if visited is None:
                    visited = {self}
                if dest not in visited:
                    visited.add(dest)
                    dest.route(routing_key, headers, out, visited)

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        """Destinations bound with a key/arguments that match this message."""
        raise NotImplementedError

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        raise NotImplementedError

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Broker shutdown (exchanges that keep files close them here)."""

    def delete(self) -> None:
        """The exchange was deleted (exchanges that keep files remove them here)."""

    def details(self) -> dict[str, Any]:
        """The RabbitMQ management API shape of this exchange."""
        return {
            "name": self.name,
            "vhost": self.vhost_name,
            "type": self.TYPE,
            "durable": self.durable,
            "auto_delete": self.auto_delete,
            "internal": self.internal,
            "arguments": self.arguments,
        }


class RefCounted:
    """A multiset of destinations: a destination bound twice (different arguments) under
    the same key must still be routed to once, and stay until both bindings are gone."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[Destination, int] = {}

    def add(self, dest: Destination) -> None:
        self._counts[dest] = self._counts.get(dest, 0) + 1

    def remove(self, dest: Destination) -> bool:
        """Decrement; True when the multiset became empty."""
        left = self._counts[dest] - 1
        if left:
            self._counts[dest] = left
        else:
            del self._counts[dest]
        return not self._counts

    def __iter__(self) -> Iterator[Destination]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)
