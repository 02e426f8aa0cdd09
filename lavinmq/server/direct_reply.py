"""Direct reply-to (``amq.rabbitmq.reply-to``): RPC replies without a reply queue.

A channel consumes from the pseudo-queue ``amq.rabbitmq.reply-to`` (no-ack only) and
publishes requests with ``reply_to = amq.rabbitmq.reply-to``; the broker rewrites that to
``amq.rabbitmq.reply-to.<token>``. A reply published to the default exchange with that
routing key goes straight to the requesting channel's consumer, never to disk.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from lavinmq.broker.message import deliver_frames, shortstr

if TYPE_CHECKING:
    from lavinmq.server.channel_state import ChannelState

QUEUE = "amq.rabbitmq.reply-to"
PREFIX = QUEUE + "."


class DirectReplyConsumer:
    """The reply consumer of one channel."""

    __slots__ = ("channel", "ctag", "tag", "token")

    def __init__(self, channel: ChannelState, tag: str) -> None:
        self.channel = channel
        self.tag = tag
        self.ctag = shortstr(tag)
        self.token = secrets.token_urlsafe(24)

    def deliver_record(self, record: bytes) -> None:
        channel = self.channel
        conn = channel.conn
        conn.send_frames(
            deliver_frames(
                channel.number,
                self.ctag,
                channel.next_delivery_tag(),
                False,
                record,
                conn.frame_max,
            )
        )
        channel.stat_deliver += 1
