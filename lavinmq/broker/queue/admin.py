"""What operators do to a queue beyond AMQP: pause and resume it (as LavinMQ), and the
management API's view of it.

A paused queue keeps taking messages but gives none out: no deliveries to its consumers
(they stay subscribed) and Basic.Get finds it empty; the management API's "get
messages" still works. The state is a ``paused`` file in the queue's directory, so a
durable queue is still paused after a restart.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from lavinmq.storage.fsync import fsync_directory

if TYPE_CHECKING:
    from lavinmq.broker.interfaces import DeliveryTarget
    from lavinmq.broker.queue.settings import QueueSettings
    from lavinmq.storage import MessageStore

PAUSED_FILE = "paused"


class AdminMixin:
    """Pause/resume and ``details`` of ``Queue`` (which declares the attributes)."""

    # No __slots__, as the other mixins: Queue declares them all.
    name: str
    vhost_name: str
    durable: bool
    exclusive: bool
    auto_delete: bool
    arguments: dict[str, Any]
    store: MessageStore
    settings: QueueSettings
    unacked: int
    paused: bool
    ack_gated: bool
    _consumers: tuple[DeliveryTarget, ...]

    if TYPE_CHECKING:  # Queue's and DeliveryMixin's

        @property
        def active_consumer(self) -> DeliveryTarget | None: ...

        def schedule_delivery(self) -> None: ...

    def _paused_on_disk(self) -> bool:
        return os.path.exists(os.path.join(self.store.directory, PAUSED_FILE))

    def pause(self) -> None:
        """Stop giving out messages until ``resume``."""
        if self.paused:
            return
        self.paused = True
        self.ack_gated = False  # its consumers wait for resume, not for their acks
        directory = self.store.directory
        os.makedirs(directory, exist_ok=True)  # a store makes it at its first record
        with open(os.path.join(directory, PAUSED_FILE), "wb"):
            pass
        # The store would not sync a directory it finds made: its entry must last too.
        fsync_directory(directory)
        fsync_directory(os.path.dirname(directory))

    def resume(self) -> None:
        """Give out messages again, starting with a delivery loop now."""
        if not self.paused:
            return
        self.paused = False
        try:
            os.unlink(os.path.join(self.store.directory, PAUSED_FILE))
        except FileNotFoundError:
            pass
        self.schedule_delivery()

    def details(self) -> dict[str, Any]:
        """The RabbitMQ management API shape of this queue (without rates)."""
        store = self.store
        active = self.active_consumer
        out: dict[str, Any] = {
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
            "state": "paused" if self.paused else "running",
            "effective_arguments": self.settings.effective_arguments(),
        }
        if active is not None:
            out["single_active_consumer_tag"] = active.tag
        return out
