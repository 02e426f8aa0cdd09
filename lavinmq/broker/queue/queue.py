"""A queue: a message store on disk plus the consumers that drain it.

Messages are never held in RAM: ``publish`` appends the record to the queue's segment
store; deliveries read it back (mmap) when a consumer has capacity. A queue with a
million messages costs what an empty one does, plus disk.

A queue without TTL, limits, delivery limit or single active consumer is *plain* and
takes the fast paths (batched publish, batched delivery); otherwise every message goes
through the rules in ``rules.py``. Delivery and flow control live in ``delivery.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lavinmq.amqp.types import FieldTable
from lavinmq.broker.interfaces import DeliveryTarget
from lavinmq.broker.message import Record
from lavinmq.broker.queue.admin import AdminMixin
from lavinmq.broker.queue.delivery import NO_WAITERS, DeliveryMixin
from lavinmq.broker.queue.rules import (
    EXPIRY_MESSAGES,
    EXPIRY_QUEUE_TTL,
    NO_COUNTS,
    RulesMixin,
    coarse_monotonic,
)
from lavinmq.broker.queue.settings import QueueSettings, resolve
from lavinmq.storage import MessageStore, StoreFullError
from lavinmq.storage.message_store import HOLD_MIN

if TYPE_CHECKING:
    from lavinmq.broker.tick import Tick
    from lavinmq.broker.vhost import VHost

log = logging.getLogger(__name__)
NO_ARGUMENTS: FieldTable = {}
"""Shared by every queue declared without arguments (never mutated)."""


class Queue(RulesMixin, DeliveryMixin, AdminMixin):
    """One AMQP queue."""

    IS_QUEUE: ClassVar[bool] = True
    __slots__ = (
        "_budget",
        "_consumers",
        "_delivery_counts",
        "_expire_handle",
        "_expires_handle",
        "_expiry",
        "_flow_waiters",
        "_had_consumers",
        "_in_runs",
        "_last_used",
        "_on_empty_consumers",
        "_operator_policy",
        "_plain",
        "_policy",
        "_rr",
        "_scheduled",
        "_tick",
        "ack_gated",
        "arguments",
        "auto_delete",
        "congested",
        "deleted",
        "durable",
        "exclusive",
        "name",
        "owner",
        "paused",
        "settings",
        "stat_ack",
        "stat_deliver",
        "stat_get",
        "stat_publish",
        "stat_redeliver",
        "stat_reject",
        "store",
        "unacked",
        "vhost",
        "vhost_name",
    )

    def __init__(
        self,
        name: str,
        directory: Path | str,
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
        vhost: VHost | None = None,
    ) -> None:
        self.name = name
        self.vhost_name = vhost_name
        self.vhost = vhost
        self.durable = durable
        self.exclusive = exclusive
        self.auto_delete = auto_delete
        self.arguments: FieldTable = arguments or NO_ARGUMENTS
        self.owner = owner
        self.store = self._open_store(directory, segment_size)
        self.unacked = 0
        self.deleted = False
        self.paused = durable and self._paused_on_disk()
        self.congested = self.ack_gated = False
        self.stat_publish = self.stat_deliver = self.stat_ack = 0
        self.stat_get = self.stat_redeliver = self.stat_reject = 0
        self._tick = tick
        self._consumers: tuple[DeliveryTarget, ...] = ()
        self._flow_waiters: AbstractSet[Any] = NO_WAITERS
        self._rr = 0
        self._scheduled = False
        self._had_consumers = False
        self._on_empty_consumers: Any = None
        self._budget = budget
        self._policy: Any = None
        self._operator_policy: Any = None
        self._expiry = 0
        self._delivery_counts: dict[int, int] = NO_COUNTS
        self._expire_handle: asyncio.TimerHandle | None = None
        self._expires_handle: asyncio.TimerHandle | None = None
        self._last_used = coarse_monotonic()
        self._apply_settings()

    def _open_store(self, directory: Path | str, segment_size: int) -> MessageStore:
        return MessageStore(directory, segment_size)

    def __repr__(self) -> str:
        return f"<Queue {self.vhost_name}/{self.name}>"

    # -- settings and policies ----------------------------------------------------------

    @property
    def policy(self) -> Any:
        """The effective policy (a ``parameters.Policy`` or None); setting it re-applies."""
        return self._policy

    @policy.setter
    def policy(self, policy: Any) -> None:
        self._policy = policy
        self._apply_settings()

    @property
    def operator_policy(self) -> Any:
        return self._operator_policy

    @operator_policy.setter
    def operator_policy(self, policy: Any) -> None:
        self._operator_policy = policy
        self._apply_settings()

    def _apply_settings(self) -> None:
        self.settings: QueueSettings = resolve(
            self.arguments,
            getattr(self._policy, "definition", None),
            getattr(self._operator_policy, "definition", None),
        )
        has_ttl = self.settings.message_ttl is not None
        self._expiry = self._expiry & EXPIRY_MESSAGES | (EXPIRY_QUEUE_TTL if has_ttl else 0)
        self._plain = self.settings.plain and not self._expiry
        self._in_runs = self._plain or self._fifo_rules()
        if self._expire_handle is not None:
            self._expire_handle.cancel()
            self._expire_handle = None
        if self._expiry:
            self._schedule_expiry()
        if self.settings.has_limits:
            self._drop_overflow()
        self._arm_expires()
        self.schedule_delivery()

    def mark_expiring(self) -> None:
        """A message with an ``expiration`` property is about to be published here."""
        if not self._expiry & EXPIRY_MESSAGES:
            self._expiry |= EXPIRY_MESSAGES
            self._plain = self._in_runs = False

    # -- publishing ---------------------------------------------------------------------

    def publish(self, record: Record) -> bool:
        """Append a message record; False when the queue refuses it (overflow)."""
        if self._plain:
            self.store.push(record)
            self.stat_publish += 1
            if len(record) >= HOLD_MIN and self._consumers:
                self.store.hold_pushed((record,))  # delivered from memory, not read back
        elif not self._publish_checked(bytes(record)):  # the rules read it as bytes
            return False
        self._schedule_after_publish()
        return True

    def _schedule_after_publish(self) -> None:
        """After a store: deliver, and let a polled queue stop gating its publishers once
        its poller went quiet (on every publish path, with rules or without)."""
        if self.ack_gated and not self._consumers:
            self._forget_poller()
        if self._consumers and not self._scheduled:
            self._scheduled = True
            self._tick.call_soon(self._deliver_loop)

    def publish_internal(self, record: Record) -> bool:
        """Dead-lettered messages enter through the same rules (a refused one is dropped)."""
        return self.publish(record)

    @property
    def accepts_batches(self) -> bool:
        """Whether publish_many may be used: no rule to enforce per message on publish
        (length limits are; TTL, dead-lettering and the rest act later)."""
        return self._plain or not self.settings.has_limits

    def publish_many(self, records: list[Record]) -> None:
        """Append records that all passed the same routing (the batched publish path).

        Raises:
            StoreFullError: the first ``stored`` records are in the queue, the rest not.
        """
        try:
            self.store.push_many(records)
        except StoreFullError as exc:
            if exc.stored:
                self._published(records[: exc.stored])
            raise
        self._published(records)

    def _published(self, records: list[Record]) -> None:
        self.stat_publish += len(records)
        if len(records[-1]) >= HOLD_MIN and self._consumers:
            self.store.hold_pushed(records)  # delivered from memory, not read back
        if self._expiry:
            self._schedule_expiry()
        self._schedule_after_publish()

    def request_sync(self) -> None:
        """The last publish must be fdatasync'ed before it is confirmed."""
        self._tick.sync(self.store)

    # -- consumers ----------------------------------------------------------------------

    @property
    def consumers(self) -> tuple[DeliveryTarget, ...]:
        return self._consumers

    @property
    def consumer_count(self) -> int:
        return len(self._consumers)

    @property
    def message_count(self) -> int:
        """Messages ready for delivery (as Queue.DeclareOk reports)."""
        return self.store.ready

    @property
    def active_consumer(self) -> DeliveryTarget | None:
        """With x-single-active-consumer, the consumer that gets the messages."""
        if self.settings.single_active_consumer and self._consumers:
            return self._consumers[0]
        return None

    def has_exclusive_consumer(self) -> bool:
        return any(c.exclusive for c in self._consumers)

    def add_consumer(self, consumer: DeliveryTarget) -> None:
        # Copy-on-write tuple: consumers change rarely, and an idle queue then costs no
        # list object (100,000 idle queues is a benchmark).
        consumers = (*self._consumers, consumer)
        if not self.settings.single_active_consumer:
            consumers = tuple(sorted(consumers, key=lambda c: -c.priority))
        self._consumers = consumers
        self._had_consumers = True
        self.touch()
        if self._expires_handle is not None:
            self._expires_handle.cancel()
            self._expires_handle = None
        self.schedule_delivery()

    def remove_consumer(self, consumer: DeliveryTarget) -> None:
        """Forget a consumer; an auto-delete queue goes away with its last consumer."""
        if consumer not in self._consumers:
            return
        self._consumers = tuple(c for c in self._consumers if c is not consumer)
        if self._consumers:
            self.schedule_delivery()  # with single active consumer, the next one takes over
            return
        self._update_flow(False)
        self.touch()
        self._arm_expires()
        if self.auto_delete and self._had_consumers and self._on_empty_consumers is not None:
            self._tick.call_soon(self._on_empty_consumers)

    def on_last_consumer_gone(self, callback: Any) -> None:
        """Register the vhost's auto-delete callback."""
        self._on_empty_consumers = callback

    # -- get / ack / reject -------------------------------------------------------------

    def get(self, no_ack: bool, force: bool = False) -> tuple[int, bytes, bool] | None:
        """Basic.Get: the next ready message, or None (always while paused, unless
        ``force``: the management API's get)."""
        if self.paused and not force:
            return None
        self.touch()
        self._polled()
        while True:
            shifted = self.store.shift()
            if shifted is None:
                return None
            pos, record, redelivered = shifted
            if self._plain:
                item = (pos, bytes(record), redelivered)  # a held record: rare, copied
                break
            checked = self._deliverable(pos, bytes(record), redelivered)
            if checked is not None:
                item = (pos, checked, redelivered)
                break
        self.stat_get += 1
        if item[2]:
            self.stat_redeliver += 1
        if no_ack:
            self._ack_delivered(item[0])
        else:
            self.unacked += 1
        self._tick.store_dirty(self.store)
        return item

    def ack(self, pos: int) -> None:
        if self.deleted:
            return
        self._ack_delivered(pos)
        self.unacked -= 1
        self.stat_ack += 1
        self._tick.store_dirty(self.store)

    def reject(self, pos: int, requeue: bool) -> None:
        """Basic.Reject/Nack/Recover of an unacked message."""
        if self.deleted:
            return
        self.unacked -= 1
        if not self._plain or self.settings.dead_letter_exchange is not None:
            self._rejected(pos, requeue)
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
        self.congested = self.ack_gated = False
        self._release_publishers()
        for handle in (self._expire_handle, self._expires_handle):
            if handle is not None:
                handle.cancel()
        consumers, self._consumers = self._consumers, ()
        for consumer in consumers:
            consumer.cancel_by_server()
        self.store.delete()

    def close(self) -> None:
        """Broker shutdown: flush and close the store, keep it on disk."""
        for handle in (self._expire_handle, self._expires_handle):
            if handle is not None:
                handle.cancel()
        self.store.close()
