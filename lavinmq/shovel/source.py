"""The AMQP end a shovel consumes from: a queue, or a queue bound to ``src-exchange``.

A ``src-queue`` is declared passively first and created (durable) when missing, as
LavinMQ does; with only ``src-exchange`` the shovel consumes from a server-named exclusive
queue bound with ``src-exchange-key`` (messages published while it is down are not kept,
as in RabbitMQ).
"""

from __future__ import annotations

import contextlib
import logging

from lavinmq.amqp.errors import AMQPError, NotFound
from lavinmq.client import (
    Channel,
    ClientError,
    Connection,
    ConnectionClosed,
    ConsumerIterator,
    connect,
)
from lavinmq.client.url import ssl_context_for
from lavinmq.shovel.config import QUEUE_LENGTH, ShovelConfig

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10.0


async def open_connection(uri: str, name: str) -> Connection:
    """Connect to ``uri`` with TLS settings from its query and a connection name."""
    return await connect(uri, name=name, ssl=ssl_context_for(uri), timeout=CONNECT_TIMEOUT)


async def declare_passive_or_durable(
    conn: Connection, channel: Channel, queue: str
) -> tuple[Channel, int]:
    """Check that ``queue`` exists, else create it durable; (open channel, message count)."""
    try:
        _, count, _ = await channel.queue_declare(queue, passive=True)
        return channel, count
    except NotFound:
        channel = await conn.channel()  # the 404 closed the first one
        _, count, _ = await channel.queue_declare(queue, durable=True)
        return channel, count


class AMQPSource:
    """One session with the source broker."""

    def __init__(self, name: str, uri: str, cfg: ShovelConfig) -> None:
        self.name = name
        self.uri = uri
        self.cfg = cfg
        self.conn: Connection | None = None
        self.channel: Channel | None = None
        self.queue = ""
        self.queue_length = 0

    async def start(self) -> None:
        """Connect, find or create the queue, bind it, set the prefetch."""
        cfg = self.cfg
        self.conn = conn = await open_connection(self.uri, f"Shovel {self.name} source")
        channel = await conn.channel()
        if cfg.src_queue is not None:
            channel, self.queue_length = await declare_passive_or_durable(
                conn, channel, cfg.src_queue
            )
            self.queue = cfg.src_queue
        else:
            self.queue, _, _ = await channel.queue_declare("", exclusive=True)
        if cfg.src_exchange is not None:
            await channel.queue_bind(self.queue, cfg.src_exchange, cfg.src_exchange_key)
        prefetch = cfg.src_prefetch
        if cfg.src_delete_after == QUEUE_LENGTH and self.queue_length:
            prefetch = min(prefetch, self.queue_length)
        if cfg.ack_mode != "no-ack":
            await channel.basic_qos(prefetch)
        self.channel = channel

    def consume(self) -> ConsumerIterator:
        assert self.channel is not None
        return self.channel.consume_iter(
            self.queue,
            no_ack=self.cfg.ack_mode == "no-ack",
            consumer_tag=f"Shovel {self.name}",
            arguments=self.cfg.src_consumer_args,
        )

    def ack(self, delivery_tag: int) -> None:
        self._settle(delivery_tag, True, False)

    def reject(self, delivery_tag: int, requeue: bool) -> None:
        self._settle(delivery_tag, False, requeue)

    def _settle(self, delivery_tag: int, ack: bool, requeue: bool) -> None:
        channel = self.channel
        if channel is None or not channel.is_open:
            return  # the channel is gone: the broker requeued the message already
        try:
            if ack:
                channel.basic_ack(delivery_tag)
            else:
                channel.basic_reject(delivery_tag, requeue)
        except (ClientError, AMQPError):
            pass  # closed meanwhile: the broker requeues the message

    async def wait_closed(self) -> ConnectionClosed:
        assert self.conn is not None
        return await self.conn.wait_closed()

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(ClientError, AMQPError, OSError):
                await self.conn.close()
