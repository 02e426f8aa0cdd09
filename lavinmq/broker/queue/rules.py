"""Queue rules beyond plain FIFO: TTL, length limits, dead-lettering, delivery limit, and
queue expiry. A queue with none of them set never runs this code (``_plain``).

- Message TTL (``x-message-ttl``/policy, and per-message ``expiration``): a message
  expires when it reaches the head of the queue past its time, checked on delivery and
  by a timer armed for the head message, so expired messages leave even without
  consumers. Precision is the event loop's timer (well under 0.1 s).
- Length limits (``x-max-length``/``-bytes``, counted over ready messages as stored, as
  LavinMQ): ``drop-head`` dead-letters the oldest, ``reject-publish`` refuses the new one
  (the publisher gets a nack), ``reject-publish-dlx`` refuses and dead-letters it.
- Delivery limit (``x-delivery-limit``): a message requeued that many times is
  dead-lettered instead of delivered again; redeliveries carry ``x-delivery-count``.
- Queue expiry (``x-expires``): an unused queue (no consumers, no get, no redeclare) is
  deleted after that many milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from lavinmq.amqp.properties import FLAG_EXPIRATION, BasicProperties, peek_expiration
from lavinmq.broker.message import RecordView, encode_record
from lavinmq.broker.queue.dead_letter import DELIVERY_LIMIT, EXPIRED, MAXLEN, REJECTED, dead_letter

NO_COUNTS: dict[int, int] = {}
"""Shared by every queue without requeue counts (only read and popped from, never written)."""

if TYPE_CHECKING:
    from lavinmq.broker.queue.settings import QueueSettings
    from lavinmq.broker.tick import Tick
    from lavinmq.broker.vhost import VHost
    from lavinmq.storage import MessageStore

EXPIRY_MESSAGES = 1
"""A ``Queue._expiry`` bit: messages with an ``expiration`` property were published."""
EXPIRY_QUEUE_TTL = 2
"""A ``Queue._expiry`` bit: a queue message TTL applies."""
EXPIRE_BATCH = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


_clock = 0.0


def coarse_monotonic() -> float:
    """``time.monotonic()`` to the millisecond: queues created in the same millisecond
    share one float object (24 bytes each for 100,000 idle queues otherwise)."""
    global _clock
    now = time.monotonic()
    if now - _clock >= 0.001:
        _clock = now
    return _clock


class RulesMixin:
    """The rule-enforcing paths of a Queue (state lives in Queue.__slots__)."""

    # No __slots__ here: two bases with slots can't be combined, and mypy checks a mixin's
    # attribute writes against its own __slots__. Queue declares them all.
    name: str
    store: MessageStore
    settings: QueueSettings
    deleted: bool
    stat_publish: int
    stat_reject: int
    vhost: VHost | None
    _tick: Tick
    _consumers: tuple[Any, ...]
    _expiry: int
    """``EXPIRY_*`` bits, 0 when nothing here can expire (one slot for both: every slot
    is paid by each of thousands of idle queues)."""
    _delivery_counts: dict[int, int]
    _expire_handle: asyncio.TimerHandle | None
    _expires_handle: asyncio.TimerHandle | None
    _last_used: float

    # -- publish ------------------------------------------------------------------------

    def _publish_checked(self, record: bytes) -> bool:
        s = self.settings
        if s.has_limits and s.overflow != "drop-head" and self._full(len(record)):
            if s.overflow == "reject-publish-dlx":
                self._dead_letter(record, MAXLEN)
            return False
        self._push(record)
        self.stat_publish += 1
        if s.has_limits:
            self._drop_overflow()
        if self._expiry:
            self._schedule_expiry()
        return True

    def _push(self, record: bytes) -> None:
        self.store.push(record)

    def _full(self, size: int) -> bool:
        s = self.settings
        store = self.store
        if s.max_length is not None and store.ready + 1 > s.max_length:
            return True
        return s.max_length_bytes is not None and store.ready_bytesize + size > s.max_length_bytes

    def _drop_overflow(self) -> None:
        s = self.settings
        store = self.store
        while (s.max_length is not None and store.ready > s.max_length) or (
            s.max_length_bytes is not None and store.ready_bytesize > s.max_length_bytes
        ):
            item = store.shift()
            if item is None:
                break
            self._dead_letter(bytes(item[1]), MAXLEN)
            store.ack(item[0])
        self._tick.store_dirty(store)

    def _dead_letter(self, record: bytes, reason: str) -> None:
        if self.vhost is not None and self.settings.dead_letter_exchange is not None:
            dead_letter(self.vhost, self, record, reason)  # type: ignore[arg-type]

    # -- TTL ----------------------------------------------------------------------------

    def _expires_at(self, record: bytes) -> int | None:
        ttl = self.settings.message_ttl
        view = RecordView(record)
        if record[view.props_start] & (FLAG_EXPIRATION >> 8):
            raw = peek_expiration(view.properties)
            if raw is not None and raw.isdigit():
                ttl = int(raw) if ttl is None else min(ttl, int(raw))
        return None if ttl is None else view.timestamp + ttl

    def _schedule_expiry(self) -> None:
        if self._expire_handle is not None or self.deleted:
            return
        item = self.store.peek()
        if item is None:
            return
        at = self._expires_at(item[1])
        if at is None:
            return
        delay = max(0.0, (at - now_ms()) / 1000)
        self._expire_handle = self._tick.loop.call_later(delay, self._expire_head)

    def _expire_head(self) -> None:
        self._expire_handle = None
        if self.deleted:
            return
        self._expire_due()
        self._tick.store_dirty(self.store)
        self._schedule_expiry()

    def _expire_due(self) -> bool:
        """Expire the messages at the head that are past their time, up to
        ``EXPIRE_BATCH``; True when the head is now one that is not (or none is left)."""
        if not self._expiry:
            return True  # nothing expires (peeking would copy the head for nothing)
        store = self.store
        now = now_ms()
        for _ in range(EXPIRE_BATCH):
            item = store.peek()
            if item is None:
                return True
            at = self._expires_at(item[1])
            if at is None or at > now:
                return True
            store.shift()
            self._expire(item[0], item[1])
        return False

    def _fifo_rules(self) -> bool:
        """Whether messages become undeliverable in queue order only: no per-message
        ``expiration`` and no delivery limit (queue TTL expires the oldest first). Then
        once the head is not expired none behind it is, and deliveries go out in runs
        (``DeliveryMixin._deliver_batches``) instead of checked one by one."""
        return not self._expiry & EXPIRY_MESSAGES and self.settings.delivery_limit is None

    def _expire(self, pos: int, record: bytes) -> None:
        self._dead_letter(record, EXPIRED)
        self.store.ack(pos)
        self._delivery_counts.pop(pos, None)

    # -- delivery -----------------------------------------------------------------------

    def _deliverable(self, pos: int, record: bytes, redelivered: bool) -> bytes | None:
        """Apply TTL and the delivery limit to a shifted message; None when dropped."""
        if self._expiry:
            at = self._expires_at(record)
            if at is not None and now_ms() >= at:
                self._expire(pos, record)
                return None
        limit = self.settings.delivery_limit
        if limit is not None and redelivered:
            count = self._delivery_counts.get(pos, 0)
            if count > limit:
                self._dead_letter(record, DELIVERY_LIMIT)
                self.store.ack(pos)
                self._delivery_counts.pop(pos, None)
                return None
            if count:
                return _with_header(record, "x-delivery-count", count)
        return record

    def _ack_delivered(self, pos: int) -> None:
        self.store.ack(pos)
        self._delivery_counts.pop(pos, None)

    def _rejected(self, pos: int, requeue: bool) -> None:
        """Bookkeeping for Basic.Reject/Nack of an unacked message (rules only)."""
        if requeue:
            if self.settings.delivery_limit is not None:
                if self._delivery_counts is NO_COUNTS:
                    self._delivery_counts = {}
                self._delivery_counts[pos] = self._delivery_counts.get(pos, 0) + 1
            return
        self._delivery_counts.pop(pos, None)
        if self.settings.dead_letter_exchange is not None:
            self._dead_letter(self.store.read(pos), REJECTED)

    # -- queue expiry -------------------------------------------------------------------

    def touch(self) -> None:
        """The queue was used (consume, get, redeclare): restart its x-expires clock."""
        self._last_used = time.monotonic()

    def _arm_expires(self) -> None:
        if self._expires_handle is not None:
            self._expires_handle.cancel()
            self._expires_handle = None
        expires = self.settings.expires
        if expires is None or self.deleted or self._consumers:
            return
        idle = time.monotonic() - self._last_used
        delay = max(0.0, expires / 1000 - idle)
        self._expires_handle = self._tick.loop.call_later(delay, self._check_expires)

    def _check_expires(self) -> None:
        self._expires_handle = None
        expires = self.settings.expires
        if expires is None or self.deleted or self._consumers or self.vhost is None:
            return
        if time.monotonic() - self._last_used >= expires / 1000 - 0.001:
            self.vhost.delete_queue(self.name)
        else:
            self._arm_expires()


def _with_header(record: bytes, key: str, value: Any) -> bytes:
    view = RecordView(record)
    props = BasicProperties.decode(view.properties)
    props.headers = {**(props.headers or {}), key: value}
    return bytes(encode_record(view.exchange_rk, props.encode(), view.body, view.timestamp))
