"""Delivery from a queue to its consumers, and publisher flow control.

Deliveries run in a per-queue loop scheduled once per event-loop iteration (not per
message) and deliver up to ``_budget`` messages / ``BYTE_BUDGET`` bytes before yielding,
so one busy queue can't starve the rest of the broker. A plain queue with one consumer
hands runs of messages over in one call (``_deliver_batches``); otherwise messages go one
at a time, round-robin by consumer priority, through the queue's rules (TTL, delivery
limit, single active consumer) in ``_deliver_checked``.
"""

from __future__ import annotations

import time
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from lavinmq.broker.interfaces import DeliveryTarget

if TYPE_CHECKING:
    from lavinmq.broker.message import Record
    from lavinmq.broker.queue.settings import QueueSettings
    from lavinmq.broker.tick import Tick
    from lavinmq.storage import MessageStore

FLOW_BACKLOG = 1024
POLL_IDLE = 0.1
"""Seconds without a Basic.Get after which a queue no longer counts as polled."""
BATCH = 256
BYTE_BUDGET = 4 * 1024 * 1024
"""Bytes a delivery loop may frame per event-loop iteration (bounds memory per tick)."""
NO_WAITERS: frozenset[Any] = frozenset()
"""Shared by every queue holding no publisher (an empty set per queue is 216 bytes)."""


class DeliveryMixin:
    """Consumers and the delivery loop of a Queue (state lives in Queue.__slots__)."""

    # No __slots__ here: two bases with slots can't be combined, and mypy checks a mixin's
    # attribute writes against its own __slots__. Queue declares them all.
    store: MessageStore
    settings: QueueSettings
    deleted: bool
    paused: bool
    congested: bool
    unacked: int
    stat_deliver: int
    stat_ack: int
    stat_redeliver: int
    _tick: Tick
    _consumers: tuple[DeliveryTarget, ...]
    _rr: int
    _scheduled: bool
    _budget: int
    _plain: bool
    _in_runs: bool
    _flow_waiters: AbstractSet[Any]
    ack_gated: bool
    _last_used: float

    def has_ready_consumer(self) -> bool:
        """Whether a message published now could be delivered at once (``immediate``)."""
        return any(c.ready() for c in self._consumers)

    def schedule_delivery(self) -> None:
        """A consumer may have gained capacity, or messages were requeued."""
        if not self._scheduled and self._consumers and not self.deleted:
            self._scheduled = True
            self._tick.call_soon(self._deliver_loop)

    def _deliver_loop(self) -> None:
        self._scheduled = False
        store = self.store
        if not self._consumers or self.deleted or self.paused:
            store.release_held()
            return
        if self._in_runs and len(self._consumers) == 1:
            if not self._plain and not self._expire_due():
                self._scheduled = True  # more expired messages than one call takes
                self._tick.call_soon(self._deliver_loop)
                return
            delivered, byte_budget = self._deliver_batches(self._consumers[0])
        else:
            delivered, byte_budget = self._deliver_one_by_one()
        store.release_held()  # whatever was not delivered now is read back later
        # Out of budget (messages or bytes) with more ready: consumers are keeping up only
        # as fast as this loop runs, so publishers to this queue get held (flow control).
        exhausted = (delivered >= self._budget or byte_budget <= 0) and store.ready > 0
        if delivered:
            self.stat_deliver += delivered
            self._tick.store_dirty(store)
            if exhausted:
                self._scheduled = True
                self._tick.call_soon(self._deliver_loop)
        self._update_flow(exhausted)

    def _deliver_batches(self, consumer: DeliveryTarget) -> tuple[int, int]:
        """One consumer: shift runs of messages and hand each run over in one call, so
        framing a whole run is one (compiled) call and one socket write."""
        shift = self.store.shift
        budget = self._budget
        byte_budget = BYTE_BUDGET
        delivered = 0
        while delivered < budget and byte_budget > 0:
            want = min(consumer.room(), budget - delivered, BATCH)
            if want <= 0:
                break
            positions: list[int] = []
            records: list[Record] = []
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
            consumer.deliver_batch(self, positions, records, flags)  # type: ignore[arg-type]
            self._settle_delivered(consumer, positions, flags)
            delivered += len(positions)
            if len(positions) < want and byte_budget > 0:
                break
        return delivered, byte_budget

    def _settle_delivered(
        self, consumer: DeliveryTarget, positions: list[int], flags: list[bool]
    ) -> None:
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

    def _deliver_one_by_one(self) -> tuple[int, int]:
        """Several consumers or queue rules: one message at a time (RabbitMQ's fairness)."""
        shift = self.store.shift
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
                self._rr = rr  # nothing was delivered: that consumer keeps its turn
                break
            pos, record, redelivered = item
            if not self._plain:
                record = self._deliverable(pos, bytes(record), redelivered)  # type: ignore[assignment]
                if record is None:
                    self._rr = rr
                    continue
            consumer.deliver(self, pos, record, redelivered)  # type: ignore[arg-type]
            delivered += 1
            byte_budget -= len(record)
            if redelivered:
                self.stat_redeliver += 1
            if consumer.no_ack:
                self._ack_delivered(pos)
            else:
                self.unacked += 1
        return delivered, byte_budget

    def _deliverable(self, pos: int, record: bytes, redelivered: bool) -> bytes | None:
        """Apply TTL and delivery limit; None when the message was dropped instead."""
        raise NotImplementedError

    def _expire_due(self) -> bool:
        raise NotImplementedError

    def _ack_delivered(self, pos: int) -> None:
        raise NotImplementedError

    def _next_consumer(self) -> DeliveryTarget | None:
        consumers = self._consumers
        count = len(consumers)
        if count == 1 or self.settings.single_active_consumer:
            first = consumers[0]
            return first if first.ready() else None
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

    # -- flow control -------------------------------------------------------------------
    # Consumers can't keep up when the delivery loop runs out of budget with messages
    # left, or when a consumer's socket is full. Publishers to such a queue stop being
    # read until it catches up: otherwise a publisher that never yields (one uvloop read
    # is up to 2 MiB of publishes) starves the consumers in this single-threaded loop.

    def _update_flow(self, busy: bool) -> None:
        backlog = self.store.ready > FLOW_BACKLOG
        consumers = self._consumers
        congested = busy or (backlog and any(c.write_blocked() for c in consumers))
        # Consumers that can take no more until their own acks come back get one round
        # trip per loop iteration: their publishers are read in short slices meanwhile
        # (see Reading.read_less), else a publisher's 512 KiB per iteration starve them.
        self.ack_gated = (
            backlog and not congested and bool(consumers) and not any(c.ready() for c in consumers)
        )
        if congested == self.congested:
            return
        self.congested = congested
        if not congested:
            self._release_publishers()

    def _polled(self) -> None:
        """A Basic.Get: a poller gets one message per round trip, like consumers waiting
        for their acks, so a backlog gates the queue's publishers the same way."""
        if not self._consumers and self.store.ready > FLOW_BACKLOG:
            self.ack_gated = True

    def _forget_poller(self) -> None:
        """Publishing to a polled queue: it stops gating ``POLL_IDLE`` seconds after the
        last Basic.Get (``_last_used``)."""
        if time.monotonic() - self._last_used > POLL_IDLE:
            self.ack_gated = False

    def throttle(self, publisher: Any) -> None:
        """Slow down ``publisher`` (a connection that just published here) as this queue's
        flow state asks: not read until the queue catches up while it is ``congested``,
        read in short slices while it is ``ack_gated``. Publish paths call it only when
        one of the two is set (two slot reads per message instead of a call)."""
        if self.congested:
            if publisher not in self._flow_waiters:
                self._flow_waiters = {publisher, *self._flow_waiters}  # rare: a copy is fine
                publisher.pause_reading_for(self)
        elif self.ack_gated:
            publisher.read_less()

    def _release_publishers(self) -> None:
        waiters, self._flow_waiters = self._flow_waiters, NO_WAITERS
        for publisher in waiters:
            publisher.resume_reading_for(self)
