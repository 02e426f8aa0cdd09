"""A Basic.Consume subscription: the ``DeliveryTarget`` a queue delivers to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lavinmq.amqp import spec
from lavinmq.amqp.types import FieldTable
from lavinmq.broker.message import (
    LARGE_BODY,
    Record,
    deliver_batch,
    deliver_frames,
    shortstr,
)

UNLIMITED = 1 << 30

if TYPE_CHECKING:
    from lavinmq.broker.queue.queue import Queue
    from lavinmq.server.channel import Channel


class Consumer:
    """Delivers messages of one queue to one channel, within its prefetch window."""

    __slots__ = (
        "arguments",
        "channel",
        "ctag",
        "exclusive",
        "no_ack",
        "prefetch",
        "priority",
        "queue",
        "tag",
        "unacked",
    )

    def __init__(
        self,
        channel: Channel,
        queue: Queue,
        tag: str,
        *,
        no_ack: bool,
        exclusive: bool,
        prefetch: int,
        priority: int = 0,
        arguments: FieldTable | None = None,
    ) -> None:
        self.channel = channel
        self.queue = queue
        self.tag = tag
        self.ctag = shortstr(tag)
        self.no_ack = no_ack
        self.exclusive = exclusive
        self.prefetch = prefetch
        self.priority = priority
        self.arguments: FieldTable = arguments or {}
        self.unacked = 0

    def __repr__(self) -> str:
        return f"<Consumer {self.tag!r} on {self.queue.name!r}>"

    def ready(self) -> bool:
        if not self.channel.can_deliver:
            return False
        return self.no_ack or not self.prefetch or self.unacked < self.prefetch

    def room(self) -> int:
        channel = self.channel
        if not channel.can_deliver:
            return 0
        room = UNLIMITED
        if self.prefetch and not self.no_ack:
            room = self.prefetch - self.unacked
        if channel.global_prefetch:
            room = min(room, channel.global_prefetch - len(channel.unacked))
        return room

    def deliver_batch(
        self, queue: Queue, positions: list[int], records: list[Record], redelivered: list[bool]
    ) -> None:
        # Hot path: one compiled call frames the whole run into one buffer.
        channel = self.channel
        first = channel.delivery_tag + 1
        count = len(records)
        channel.delivery_tag += count
        conn = channel.conn
        if len(records[-1]) > LARGE_BODY:  # runs of large messages: zero-copy frames
            for i, record in enumerate(records):
                conn.send_frames(
                    deliver_frames(
                        channel.number, self.ctag, first + i, redelivered[i], record, conn.frame_max
                    )
                )
        else:
            conn.send(
                deliver_batch(
                    channel.number, self.ctag, first, records, redelivered, conn.frame_max
                )
            )
        channel.stat_deliver += count
        if not self.no_ack:
            unacked = channel.unacked
            for i, pos in enumerate(positions):
                unacked[first + i] = (queue, pos, self)
            self.unacked += count

    def write_blocked(self) -> bool:
        return not self.channel.conn.writable

    def deliver(self, queue: Queue, pos: int, record: Record, redelivered: bool) -> None:
        # Hot path: the frames are sliced out of the stored record (no decoding).
        channel = self.channel
        channel.delivery_tag += 1
        tag = channel.delivery_tag
        conn = channel.conn
        conn.send_frames(
            deliver_frames(channel.number, self.ctag, tag, redelivered, record, conn.frame_max)
        )
        channel.stat_deliver += 1
        if not self.no_ack:
            channel.unacked[tag] = (queue, pos, self)
            self.unacked += 1

    def cancel(self) -> None:
        """Cancelled by an operator (management API): the queue forgets it and the client
        is told as when its queue is deleted. Its unacked messages stay with the channel."""
        queue = self.queue
        self.cancel_by_server()
        queue.remove_consumer(self)

    def cancel_by_server(self) -> None:
        """The queue was deleted: notify a client that supports consumer_cancel_notify."""
        channel = self.channel
        if channel.consumers.pop(self.tag, None) is None:
            return
        caps = channel.conn.client_properties.get("capabilities") or {}
        if isinstance(caps, dict) and caps.get("consumer_cancel_notify"):
            channel.send(spec.BasicCancel(self.tag, True))
