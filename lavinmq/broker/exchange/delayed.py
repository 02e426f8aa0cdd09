"""The delayed-message exchange (``x-delayed-message``, as RabbitMQ's plugin and LavinMQ).

Routing follows ``x-delayed-type`` (direct, fanout, topic or headers). A message with an
``x-delay`` header (milliseconds > 0) is held in the exchange's own segment store on
disk and routed when it is due, so delays survive a restart; other messages route at
once. In memory the exchange keeps only a heap of (due time, position).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lavinmq.amqp.errors import PreconditionFailed
from lavinmq.amqp.properties import BasicProperties
from lavinmq.amqp.types import FieldTable
from lavinmq.broker.exchange.base import Destination, Exchange
from lavinmq.broker.message import RecordView
from lavinmq.storage import MessageStore

if TYPE_CHECKING:
    from lavinmq.broker.queue.queue import Queue
    from lavinmq.broker.tick import Tick

TYPE = "x-delayed-message"


def x_delay(headers: FieldTable | None) -> int:
    """The ``x-delay`` header in ms (0 when absent or not a positive number)."""
    value = (headers or {}).get("x-delay")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


class DelayedExchange(Exchange):
    """An exchange of type ``x-delayed-message``."""

    TYPE = TYPE
    __slots__ = ("_heap", "_inner", "_store", "_tick", "_timer")

    def __init__(
        self,
        name: str,
        vhost_name: str,
        inner: Exchange,
        store_dir: Path,
        tick: Tick,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, vhost_name, **kwargs)
        self._inner = inner
        self._tick = tick
        self._store = MessageStore(store_dir)
        self._heap: list[tuple[int, int]] = []
        self._timer: Any = None
        self._recover()

    @property
    def held(self) -> int:
        """Messages waiting for their delay."""
        return len(self._heap)

    def _recover(self) -> None:
        while (item := self._store.shift()) is not None:
            pos, record, _ = item
            heapq.heappush(self._heap, (_due(bytes(record)), pos))
        self._arm()

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        return self._inner.match(routing_key, headers)

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        self._inner._index_add(dest, routing_key, arguments)

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        self._inner._index_remove(dest, routing_key, arguments)

    def hold(self, record: bytes, delay_ms: int) -> None:
        """Keep ``record`` until ``delay_ms`` after its timestamp, then route it."""
        self._store.push(record)
        pos, _, _ = self._store.shift() or (0, b"", False)
        heapq.heappush(self._heap, (RecordView(record).timestamp + delay_ms, pos))
        self._tick.store_dirty(self._store)
        self._arm()

    def sync_source(self) -> MessageStore:
        """The store to include in a group commit for a persistent delayed message."""
        return self._store

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._heap:
            delay = max(0.0, (self._heap[0][0] - time.time() * 1000) / 1000)
            self._timer = self._tick.loop.call_later(delay, self._release)

    def _release(self) -> None:
        self._timer = None
        now = time.time() * 1000
        while self._heap and self._heap[0][0] <= now:
            _, pos = heapq.heappop(self._heap)
            record = self._store.read(pos)
            view = RecordView(record)
            headers = BasicProperties.decode(view.properties).headers
            out: dict[Queue, None] = {}
            self.route(view.routing_key, headers, out)
            for queue in out:
                queue.publish(record)
            self._store.ack(pos)
        self._tick.store_dirty(self._store)
        self._arm()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._store.close()

    def delete(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._heap.clear()
        self._store.delete()

    def details(self) -> dict[str, Any]:
        out = super().details()
        out["messages_delayed"] = len(self._heap)
        return out


def _due(record: bytes) -> int:
    view = RecordView(record)
    headers = BasicProperties.decode(view.properties).headers
    return view.timestamp + x_delay(headers)


def inner_type(arguments: FieldTable) -> str:
    """The validated ``x-delayed-type`` argument.

    Raises:
        PreconditionFailed: when it is missing or not an exchange type.
    """
    kind = arguments.get("x-delayed-type")
    if kind not in ("direct", "fanout", "topic", "headers"):
        raise PreconditionFailed(
            "Invalid argument, 'x-delayed-type' must be an existing exchange type"
        )
    return str(kind)
