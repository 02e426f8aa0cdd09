"""A queue: a message store on disk plus the consumers that drain it.

Messages are never held in RAM: ``publish`` appends the record to the queue's segment
store; deliveries read it back (mmap) when a consumer has capacity. A queue with a
million messages costs what an empty one does, plus disk.

Deliveries run in a per-queue loop scheduled once per event-loop iteration (not per
message), delivering up to ``budget`` messages before yielding so one busy queue can't
starve the rest of the broker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lavinmq.amqp.types import FieldTable
from lavinmq.broker.interfaces import DeliveryTarget
from lavinmq.storage import MessageStore

if TYPE_CHECKING:
    from lavinmq.broker.tick import Tick

log = logging.getLogger(__name__)
FLOW_BACKLOG = 1024
BATCH = 256
BYTE_BUDGET = 4 * 1024 * 1024
"""Bytes a delivery loop may frame per event-loop iteration (bounds memory per tick)."""


class Queue:
    """One AMQP queue."""

    IS_QUEUE: ClassVar[bool] = True
    __slots__ = (
        "__weakref__",
        "_budget",
        "_consumers",
        "_flow_waiters",
        "_had_consumers",
        "_on_empty_consumers",
        "_rr",
        "_scheduled",
        "_tick",
        "arguments",
        "auto_delete",
        "congested",
        "deleted",
        "durable",
        "exclusive",
        "name",
        "owner",
        "policy",
        "stat_ack",
        "stat_deliver",
        "stat_get",
        "stat_publish",
        "stat_redeliver",
        "stat_reject",
        "store",
        "unacked",
        "vhost_name",
    )

    def __init__(
        self,
        name: str,
        directory: Path,
        tick: Tick,
        *,
        vhost_name: str = "/",
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: FieldTable | None = None,
        owner: Any = None,
        segment_size: int = 8 * 1024 * 1024,
        budget: int = 4096,
    ) -> None:
        self.name = name
        self.vhost_name = vhost_name
        self.durable = durable
        self.exclusive = exclusive
        self.auto_delete = auto_delete
        self.arguments: FieldTable = arguments or {}
        self.owner = owner
        self.policy: Any = None
        self.store = MessageStore(directory, segment_size)
        self.unacked = 0
        self.deleted = False
        self.congested = False
        self._flow_waiters: set[Any] = set()
        self.stat_publish = self.stat_deliver = self.stat_ack = 0
        self.stat_get = self.stat_redeliver = self.stat_reject = 0
        self._tick = tick
        self._consumers: list[DeliveryTarget] = []
        self._rr = 0
        self._scheduled = False
        self._had_consumers = False
        self._on_empty_consumers: Any = None
        self._budget = budget

    def __repr__(self) -> str:
        return f"<Queue {self.vhost_name}/{self.name}>"

    # -- publishing ---------------------------------------------------------------------

    def publish(self, record: bytes) -> bool:
        """Append a message record; False when the queue refuses it."""
        self.store.push(record)
        self.stat_publish += 1
        if self._consumers and not self._scheduled:
            self._scheduled = True
            self._tick.call_soon(self._deliver_loop)
        return True

    @property
    def accepts_batches(self) -> bool:
        """Whether publish_many may be used (no per-message limits to enforce)."""
        return True

    def publish_many(self, records: list[bytes]) -> None:
        """Append records that all passed the same routing (the batched publish path)."""
        push = self.store.push
        for record in records:
            push(record)
        self.stat_publish += len(records)
        if self._consumers and not self._scheduled:
            self._scheduled = True
            self._tick.call_soon(self._deliver_loop)

    def request_sync(self) -> None:
        """The last publish must be fdatasync'ed before it is confirmed."""
        self._tick.sync(self.store)

    # -- consumers ----------------------------------------------------------------------

    @property
    def consumers(self) -> list[DeliveryTarget]:
        return self._consumers

    @property
    def consumer_count(self) -> int:
        return len(self._consumers)

    @property
    def message_count(self) -> int:
        """Messages ready for delivery (as Queue.DeclareOk reports)."""
        return self.store.ready

    def has_exclusive_consumer(self) -> bool:
        return any(c.exclusive for c in self._consumers)

    def add_consumer(self, consumer: DeliveryTarget) -> None:
        self._consumers.append(consumer)
        self._consumers.sort(key=lambda c: -c.priority)
        self._had_consumers = True
        self.schedule_delivery()

    def remove_consumer(self, consumer: DeliveryTarget) -> None:
        """Forget a consumer; an auto-delete queue goes away with its last consumer."""
        try:
            self._consumers.remove(consumer)
        except ValueError:
            return
        if not self._consumers:
            self._update_flow(False)
        if not self._consumers and self.auto_delete and self._had_consumers:
            if self._on_empty_consumers is not None:
                self._tick.call_soon(self._on_empty_consumers)

    def on_last_consumer_gone(self, callback: Any) -> None:
        """Register the vhost's auto-delete callback."""
        self._on_empty_consumers = callback

    def schedule_delivery(self) -> None:
        """A consumer may have gained capacity, or messages were requeued."""
        if not self._scheduled and self._consumers and not self.deleted:
            self._scheduled = True
            self._tick.call_soon(self._deliver_loop)

    def _next_consumer(self) -> DeliveryTarget | None:
        consumers = self._consumers
        count = len(consumers)
        if count == 1:
            only = consumers[0]
            return only if only.ready() else None
        # consumers is sorted by priority: try the highest group first, round-robin
        # within a group of equal priority (x-priority semantics).
        i = 0
        while i < count:
            prio = consumers[i].priority
            j = i + 1
            while j < count and consumers[j].priority == prio:
                j += 1
            size = j - i
            for k in range(size):
                cand = consumers[i + (self._rr + k) % size]
                if cand.ready():
                    self._rr += k + 1
                    return cand
            i = j
        return None

    def _deliver_loop(self) -> None:
        self._scheduled = False
        if not self._consumers or self.deleted:
            return
        if len(self._consumers) == 1:
            delivered = self._deliver_batches(self._consumers[0])
        else:
            delivered = self._deliver_round_robin()
        store = self.store
        exhausted = delivered >= self._budget and store.ready > 0
        if delivered:
            self.stat_deliver += delivered
            self._tick.store_dirty(store)
            if exhausted:
                self._scheduled = True
                self._tick.call_soon(self._deliver_loop)
        self._update_flow(exhausted)

    def _deliver_batches(self, consumer: DeliveryTarget) -> int:
        """One consumer: shift runs of messages and hand each run over in one call, so
        the framing of a whole run is one (compiled) call and one socket write."""
        store = self.store
        shift = store.shift
        budget = self._budget
        byte_budget = BYTE_BUDGET
        delivered = 0
        while delivered < budget and byte_budget > 0:
            want = min(consumer.room(), budget - delivered, BATCH)
            if want <= 0:
                break
            positions: list[int] = []
            records: list[bytes] = []
            flags: list[bool] = []
            while len(positions) < want and byte_budget > 0:
                item = shift()
                if item is None:
                    break
                positions.append(item[0])
                records.append(item[1])
                flags.append(item[2])
                byte_budget -= len(item[1])
            if not positions:
                break
            consumer.deliver_batch(self, positions, records, flags)
            self._settle_delivered(consumer, positions, flags)
            delivered += len(positions)
            if len(positions) < want and byte_budget > 0:
                break
        return delivered

    def _settle_delivered(self, consumer: DeliveryTarget, positions: list[int], flags: list[bool]) -> None:
        redelivered = flags.count(True)
        if redelivered:
            self.stat_redeliver += redelivered
        if consumer.no_ack:
            ack = self.store.ack
            for pos in positions:
                ack(pos)
            self.stat_ack += len(positions)
        else:
            self.unacked += len(positions)

    def _deliver_round_robin(self) -> int:
        """Several consumers: one message at a time, rotating (RabbitMQ's fairness)."""
        store = self.store
        shift = store.shift
        budget = self._budget
        byte_budget = BYTE_BUDGET
        delivered = 0
        while delivered < budget and byte_budget > 0:
            rr = self._rr
            consumer = self._next_consumer()
            if consumer is None:
                break
            item = shift()
            if item is None:
                self._rr = rr  # nothing to deliver: that consumer keeps its turn
                break
            pos, record, redelivered = item
            consumer.deliver(self, pos, record, redelivered)
            delivered += 1
            byte_budget -= len(record)
            if redelivered:
                self.stat_redeliver += 1
            if consumer.no_ack:
                store.ack(pos)
                self.stat_ack += 1
            else:
                self.unacked += 1
        return delivered

    # -- flow control -------------------------------------------------------------------
    # Consumers can't keep up when the delivery loop runs out of budget with messages
    # left, or when a consumer's socket is full. Publishers to such a queue stop being
    # read until it catches up: otherwise a publisher that never yields (one uvloop read
    # is up to 2 MiB of publishes) starves the consumers in this single-threaded loop.

    def _update_flow(self, busy: bool) -> None:
        congested = busy or (
            self.store.ready > FLOW_BACKLOG and any(c.write_blocked() for c in self._consumers)
        )
        if congested == self.congested:
            return
        self.congested = congested
        if not congested:
            self._release_publishers()

    def hold_publisher(self, publisher: Any) -> None:
        """Pause reading ``publisher`` (a connection) until this queue catches up."""
        if publisher not in self._flow_waiters:
            self._flow_waiters.add(publisher)
            publisher.pause_reading_for(self)

    def _release_publishers(self) -> None:
        waiters, self._flow_waiters = self._flow_waiters, set()
        for publisher in waiters:
            publisher.resume_reading_for(self)

    # -- get / ack / reject -------------------------------------------------------------

    def get(self, no_ack: bool) -> tuple[int, bytes, bool] | None:
        """Basic.Get: the next ready message, or None."""
        item = self.store.shift()
        if item is None:
            return None
        self.stat_get += 1
        if item[2]:
            self.stat_redeliver += 1
        if no_ack:
            self.store.ack(item[0])
        else:
            self.unacked += 1
        self._tick.store_dirty(self.store)
        return item

    def ack(self, pos: int) -> None:
        if self.deleted:
            return
        self.store.ack(pos)
        self.unacked -= 1
        self.stat_ack += 1
        self._tick.store_dirty(self.store)

    def reject(self, pos: int, requeue: bool) -> None:
        """Basic.Reject/Nack/Recover of an unacked message."""
        if self.deleted:
            return
        self.unacked -= 1
        if requeue:
            self.store.requeue(pos)
            self.schedule_delivery()
        else:
            self.stat_reject += 1
            self.store.ack(pos)
        self._tick.store_dirty(self.store)

    def purge(self) -> int:
        count = self.store.purge()
        self._tick.store_dirty(self.store)
        return count

    # -- lifecycle ----------------------------------------------------------------------

    def delete(self) -> None:
        """Cancel every consumer and remove the store from disk."""
        if self.deleted:
            return
        self.deleted = True
        self.congested = False
        self._release_publishers()
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.cancel_by_server()
        self.store.delete()

    def close(self) -> None:
        """Broker shutdown: flush and close the store, keep it on disk."""
        self.store.close()

    def details(self) -> dict[str, Any]:
        """The RabbitMQ management API shape of this queue (without rates)."""
        store = self.store
        return {
            "name": self.name,
            "vhost": self.vhost_name,
            "durable": self.durable,
            "exclusive": self.exclusive,
            "auto_delete": self.auto_delete,
            "arguments": self.arguments,
            "consumers": len(self._consumers),
            "messages": store.count,
            "messages_ready": store.ready,
            "messages_unacknowledged": self.unacked,
            "message_bytes": store.bytesize,
            "message_bytes_ready": store.ready_bytesize,
            "state": "running",
        }
