"""The batched publish path: a run of publishes with identical method arguments.

A publisher streaming to one exchange and routing key arrives as one ``PublishBatch``
per read (see ``lavinmq.amqp.connection``). Exchange lookup, permission checks, routing
and confirm bookkeeping are then done once per batch, and the records are built and
appended in a tight loop. Batches that need per-message decisions (headers for routing,
user_id checks, transactions, queues with limits) take the one-by-one path instead.
"""

from __future__ import annotations

from typing import cast

from lavinmq.amqp import spec
from lavinmq.amqp.events import Body
from lavinmq.broker.message import encode_records, return_frames
from lavinmq.broker.queue.queue import Queue
from lavinmq.server.publisher import NACK, WAITING, PublishHandlers
from lavinmq.storage import StoreFullError

# Properties flag bits (high byte, low byte) that need per-message handling: headers
# (routing on headers, CC/BCC), expiration (TTL), reply_to (direct reply-to) and
# user_id (must match the login).
_HEADERS_HI = 0x20 | 0x01 | 0x02
_USER_ID_LO = 0x10
_EMPTY = b"\x00\x00"


def _simple(contents: list[Body]) -> bool:
    for i in range(0, len(contents), 2):
        p = contents[i]
        if p != _EMPTY and (p[0] & _HEADERS_HI or p[1] & _USER_ID_LO):
            return False
    return True


class BatchPublishHandlers(PublishHandlers):
    """Adds ``on_publish_batch`` to the publishing side of a channel."""

    def on_publish_batch(self, m: spec.BasicPublish, contents: list[Body]) -> None:
        if self.closing:
            return
        if (
            len(contents) == 2
            or self.in_tx
            or m.immediate
            or not _simple(contents)
            or self.conn.config.set_timestamp  # each one stamped on its own
        ):
            for i in range(0, len(contents), 2):
                self.on_publish(m, cast(bytes, contents[i]), contents[i + 1])
            return
        self._publish_batch(m, contents)

    def _publish_batch(self, m: spec.BasicPublish, contents: list[Body]) -> None:
        vhost = self.vhost
        ex = vhost.exchanges.get(m.exchange)
        if ex is None or ex.internal or not self._allowed(1, m.exchange):
            self._check_exchange(m.exchange)
        assert ex is not None
        queues = vhost.route(ex, m.routing_key, None, len(contents) // 2)
        if (
            any(not q.accepts_batches for q in queues)
            or (self.conn.user is not None and self.conn.user.topic_permissions)
            or (not m.exchange and m.routing_key.startswith("amq.rabbitmq.reply-to."))
        ):
            for i in range(0, len(contents), 2):
                self.on_publish(m, cast(bytes, contents[i]), contents[i + 1])
            return
        count = len(contents) // 2
        self.stat_publish += count
        er = self._er_cache.get((m.exchange, m.routing_key)) or self._exchange_rk(
            m.exchange, m.routing_key
        )
        needs_sync, stored = False, count
        if queues:
            needs_sync, stored = self._store_batch(queues, er, contents)
        elif m.mandatory:
            self._return_all(er, contents)
        if self.confirm:
            first = self._seq + 1
            self._seq += count
            if needs_sync and stored:
                self._special[first] = WAITING
                self.conn.broker.tick.after_sync(lambda: self._synced(first))
            for seq in range(first + stored, first + count):  # the disk is full (rare)
                self._special[seq] = NACK
            self.conn.confirm_pending(self)

    def _store_batch(
        self, queues: dict[Queue, None], er: bytes, contents: list[Body]
    ) -> tuple[bool, int]:
        """Store the batch in every queue: (whether its confirms wait for an fsync, how
        many of its messages, the first ones, every queue got: fewer if the disk is full;
        those are acked, the rest nacked)."""
        records, persistent = encode_records(er, contents)
        needs_sync, stored = False, len(records)
        conn, last = self.conn, len(queues) - 1
        for i, q in enumerate(queues):
            try:
                q.publish_many(records)
            except StoreFullError as exc:
                self.store_full(exc)  # closes the channel unless in confirm mode
                stored = exc.stored if i == last else 0  # later queues got none
            if persistent and q.durable:
                q.request_sync()
                needs_sync = True
            if q.congested or q.ack_gated:
                q.throttle(conn)
            if stored < len(records):
                break
        return needs_sync, stored

    def _return_all(self, er: bytes, contents: list[Body]) -> None:
        frame_max = self.conn.frame_max
        for i in range(0, len(contents), 2):
            self.stat_return += 1
            self.conn.send_frames(
                return_frames(
                    self.number,
                    312,
                    "NO_ROUTE",
                    er,
                    cast(bytes, contents[i]),
                    contents[i + 1],
                    frame_max,
                )
            )
