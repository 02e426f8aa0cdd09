"""State shared by a channel's handler mixins, and permission checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AccessRefused

if TYPE_CHECKING:
    from lavinmq.broker.queue.queue import Queue
    from lavinmq.broker.vhost import VHost
    from lavinmq.server.consumer import Consumer
    from lavinmq.server.direct_reply import DirectReplyConsumer
    from lavinmq.server.protocol import AMQPProtocol

Unacked = tuple["Queue", int, "Consumer | None"]


class ChannelState:
    """Attributes of a channel; the mixins in channel_*.py and publisher.py use these."""

    def __init__(self, conn: AMQPProtocol, number: int) -> None:
        assert conn.vhost is not None
        self.conn = conn
        self.number = number
        self.vhost: VHost = conn.vhost
        self.closing = False
        self.cleaned = False
        self.flow_active = True
        self.consumers: dict[str, Consumer] = {}
        self.unacked: dict[int, Unacked] = {}
        self.delivery_tag = 0
        self.last_queue = ""
        self.direct_reply: DirectReplyConsumer | None = None
        self.prefetch_count = conn.config.default_consumer_prefetch
        self.global_prefetch = 0
        self.stat_publish = self.stat_deliver = self.stat_ack = 0
        self.stat_confirm = self.stat_return = self.stat_get = self.stat_redeliver = 0
        self._perm_cache: dict[tuple[int, str], bool] = {}
        self._perm_owner: Any = None

    def send(self, method: spec.Method) -> None:
        raise NotImplementedError

    def _settle(
        self, entries: list[tuple[int, Queue, int, Consumer | None]], ack: bool, requeue: bool
    ) -> None:
        raise NotImplementedError

    # -- permissions (RabbitMQ's configure/write/read regexes) ---------------------------

    def _allowed(self, kind: int, name: str) -> bool:
        user = self.conn.user
        assert user is not None
        perms = user.permissions.get(self.vhost.name)
        if perms is not self._perm_owner:
            self._perm_cache.clear()
            self._perm_owner = perms
        key = (kind, name)
        hit = self._perm_cache.get(key)
        if hit is None:
            if perms is None:
                hit = False
            elif kind == 0:
                hit = perms.can_configure(name)
            elif kind == 1:
                hit = perms.can_write(name)
            else:
                hit = perms.can_read(name)
            if len(self._perm_cache) > 1024:
                self._perm_cache.clear()
            self._perm_cache[key] = hit
        return hit

    def check_configure(self, what: str, name: str) -> None:
        if not self._allowed(0, name):
            raise self._refused("configure", what, name)

    def check_write(self, what: str, name: str) -> None:
        if not self._allowed(1, name):
            raise self._refused("write", what, name)

    def check_read(self, what: str, name: str) -> None:
        if not self._allowed(2, name):
            raise self._refused("read", what, name)

    def check_topic(
        self, kind: str, exchange: str, routing_key: str, class_id: int = 0, method_id: int = 0
    ) -> None:
        """Topic permissions: ``kind`` "write" for publish, "read" for binding."""
        user = self.conn.user
        if user is not None and not user.can_topic(kind, self.vhost.name, exchange, routing_key):
            raise AccessRefused(
                f"{kind} access to topic '{routing_key}' in exchange '{exchange}' in vhost "
                f"'{self.vhost.name}' refused for user '{self.conn.user_name}'",
                class_id,
                method_id,
            )

    def _refused(self, kind: str, what: str, name: str) -> AccessRefused:
        shown = name or ("amq.default" if what == "exchange" else name)
        return AccessRefused(
            f"{kind} access to {what} '{shown}' in vhost '{self.vhost.name}' refused for user "
            f"'{self.conn.user_name}'"
        )

    # -- delivery capacity ----------------------------------------------------------------

    @property
    def can_deliver(self) -> bool:
        """Flow is on, the socket is writable, and the global prefetch has room."""
        return (
            self.flow_active
            and self.conn.writable
            and not self.closing
            and (not self.global_prefetch or len(self.unacked) < self.global_prefetch)
        )

    def resume_deliveries(self) -> None:
        """Capacity came back: let every queue we consume from deliver again."""
        for consumer in self.consumers.values():
            consumer.queue.schedule_delivery()

    def next_delivery_tag(self) -> int:
        self.delivery_tag += 1
        return self.delivery_tag
