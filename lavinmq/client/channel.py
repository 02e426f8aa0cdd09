"""The public channel API: exchanges, queues, consumers, publishing, confirms, transactions."""

from __future__ import annotations

import asyncio
import struct
from typing import cast

from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import EMPTY, BasicProperties
from lavinmq.amqp.spec import (
    BasicCancel,
    BasicCancelOk,
    BasicConsume,
    BasicConsumeOk,
    BasicGet,
    BasicGetEmpty,
    BasicGetOk,
    BasicPublish,
    BasicQos,
    BasicQosOk,
    BasicRecover,
    BasicRecoverOk,
    ChannelClose,
    ChannelFlow,
    ChannelFlowOk,
    ConfirmSelect,
    ConfirmSelectOk,
    TxCommit,
    TxCommitOk,
    TxRollback,
    TxRollbackOk,
    TxSelect,
    TxSelectOk,
)
from lavinmq.amqp.types import FieldTable
from lavinmq.client.channel_core import CloseCallback, MessageCallback
from lavinmq.client.confirms import ConfirmTracker
from lavinmq.client.consumer import ConsumerIterator
from lavinmq.client.declare import ChannelDeclare
from lavinmq.client.errors import ChannelClosed, ClientError
from lavinmq.client.message import Message

# Content header frame head (type 2, channel, size, class 60, weight 0, body size) and the
# header's end byte fused with the body frame head (0xCE, type 3, channel, size): two
# packs per message instead of going through content_frames().
_pack_header = struct.Struct(">BHIHHQ").pack
_pack_body_head = struct.Struct(">BBHI").pack
_FRAME_END = b"\xce"
# Acks are sent per message by consumers: one pack of the whole method frame.
_pack_ack = struct.Struct(">BHIHHQBB").pack
_PUBLISH_CACHE_SIZE = 256

Properties = BasicProperties | bytes | None


class Channel(ChannelDeclare):
    """An AMQP channel; get one with ``await connection.channel()``.

    Calls that wait for a reply are coroutines and are serialized per channel. Publishing,
    acks, nacks and rejects are plain methods: they buffer frames that the connection
    writes once per event-loop iteration.

    After the broker closes the channel, the pending call and every later call raise
    :class:`~lavinmq.client.errors.ChannelClosed` (also an instance of the
    ``lavinmq.amqp.errors`` class for the reply code); after the connection closes they
    raise :class:`~lavinmq.client.errors.ConnectionClosed`.
    """

    __slots__ = ()

    async def close(self) -> None:
        """Close the channel (Channel.Close, wait for Channel.CloseOk). Idempotent."""
        if self._close_waiter is None:
            if self._closed is not None:
                return
            self._begin_close()
        assert self._close_waiter is not None
        await asyncio.shield(self._close_waiter)

    def _begin_close(self) -> None:
        self._close_waiter = self._loop.create_future()
        self._conn.send_frame(method_frame(self.number, ChannelClose(200, "Goodbye")))
        self._closed = ChannelClosed(200, "channel closed by the client")

    async def flow(self, active: bool) -> bool:
        """Ask the broker to pause (``False``) or resume (``True``) deliveries.

        Returns:
            The flow state the broker confirmed.
        """
        return (await self._call(ChannelFlow(active), ChannelFlowOk)).active

    # -- basic ---------------------------------------------------------------------------

    async def basic_qos(
        self, prefetch_count: int, prefetch_size: int = 0, global_: bool = False
    ) -> None:
        """Limit unacknowledged deliveries (per consumer, or per channel when ``global_``)."""
        await self._call(BasicQos(prefetch_size, prefetch_count, global_), BasicQosOk)

    async def basic_consume(
        self,
        queue: str,
        callback: MessageCallback,
        no_ack: bool = False,
        exclusive: bool = False,
        consumer_tag: str = "",
        arguments: FieldTable | None = None,
    ) -> str:
        """Start a consumer; ``callback(message)`` is called for each delivery, in order.

        The callback runs inside the connection's read loop: keep it short, and hand
        slow work to a task or use :meth:`consume_iter`. Exceptions it raises are logged.

        Returns:
            The consumer tag (the server's when ``consumer_tag`` is empty).
        """
        method = BasicConsume(
            0, queue, consumer_tag, False, no_ack, exclusive, False, arguments or {}
        )
        return await self._consume(method, callback, None)

    async def _consume(
        self, method: BasicConsume, callback: MessageCallback, closer: CloseCallback | None
    ) -> str:
        reply = await self._request(method, (BasicConsumeOk,), (callback, closer))
        return cast(BasicConsumeOk, reply).consumer_tag

    def consume_iter(
        self,
        queue: str,
        no_ack: bool = False,
        exclusive: bool = False,
        consumer_tag: str = "",
        arguments: FieldTable | None = None,
    ) -> ConsumerIterator:
        """A consumer as an async iterator: ``async with ch.consume_iter(q) as it``.

        Entering the block starts the consumer, leaving it cancels the consumer.
        Iteration ends when the broker cancels the consumer and raises when the channel
        closes. Messages are buffered without limit: use :meth:`basic_qos`.
        """
        method = BasicConsume(
            0, queue, consumer_tag, False, no_ack, exclusive, False, arguments or {}
        )
        return ConsumerIterator(self, method)

    async def basic_cancel(self, consumer_tag: str) -> None:
        """Cancel a consumer. Deliveries already on the wire still reach its callback."""
        await self._call(BasicCancel(consumer_tag), BasicCancelOk)

    async def basic_get(self, queue: str, no_ack: bool = False) -> Message | None:
        """Fetch one message (Basic.Get).

        Returns:
            The message, with ``message_count`` set, or ``None`` when the queue is empty.
        """
        reply = await self._request(BasicGet(0, queue, no_ack), (BasicGetOk, BasicGetEmpty))
        return reply if isinstance(reply, Message) else None

    def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        """Acknowledge a delivery (all up to ``delivery_tag`` when ``multiple``)."""
        self._raise_if_closed()
        self._conn.send_frame(_pack_ack(1, self.number, 13, 60, 80, delivery_tag, multiple, 0xCE))

    def basic_nack(self, delivery_tag: int, multiple: bool = False, requeue: bool = True) -> None:
        """Negatively acknowledge deliveries; requeue them or drop (dead-letter) them."""
        self._raise_if_closed()
        bits = multiple | (requeue << 1)
        self._conn.send_frame(_pack_ack(1, self.number, 13, 60, 120, delivery_tag, bits, 0xCE))

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        """Reject one delivery; requeue it or drop (dead-letter) it."""
        self._raise_if_closed()
        self._conn.send_frame(_pack_ack(1, self.number, 13, 60, 90, delivery_tag, requeue, 0xCE))

    async def basic_recover(self, requeue: bool = True) -> None:
        """Redeliver all unacknowledged messages of this channel."""
        await self._call(BasicRecover(requeue), BasicRecoverOk)

    # -- publishing ----------------------------------------------------------------------

    def basic_publish(
        self,
        body: bytes,
        exchange: str = "",
        routing_key: str = "",
        properties: Properties = None,
        mandatory: bool = False,
    ) -> int:
        """Publish a message. Does not block: frames are written on the next loop iteration.

        Call ``await connection.drain()`` now and then to respect TCP backpressure.

        Args:
            body: the message body; split into frames of at most ``frame_max`` bytes.
            exchange: the exchange name ("" is the default exchange).
            routing_key: the routing key.
            properties: ``BasicProperties``, or already encoded properties (for example a
                received message's ``raw_properties``), or ``None`` for none.
            mandatory: return the message (see :attr:`on_return`) if no queue gets it.

        Returns:
            The message's publish sequence number when confirms are on, else 0.
        """
        if self._closed is not None:
            self._raise_if_closed()
        self._conn.send_frame(
            self._encode_publish(body, exchange, routing_key, properties, mandatory)
        )
        confirms = self._confirms
        if confirms is None:
            return 0
        confirms.published += 1
        return confirms.published

    def publish_many(
        self,
        body: bytes,
        count: int,
        exchange: str = "",
        routing_key: str = "",
        properties: Properties = None,
        mandatory: bool = False,
    ) -> int:
        """Publish ``count`` copies of one message with a single buffer (benchmarks, tests).

        Returns:
            The sequence number of the last copy when confirms are on, else 0.
        """
        self._raise_if_closed()
        frame = self._encode_publish(body, exchange, routing_key, properties, mandatory)
        return self.publish_encoded(frame * count, count)

    def encode_publish(
        self,
        body: bytes,
        exchange: str = "",
        routing_key: str = "",
        properties: Properties = None,
        mandatory: bool = False,
    ) -> bytes:
        """Encode one Basic.Publish (method, header and body frames) for this channel, to be
        sent any number of times with :meth:`publish_encoded` (benchmarks, replays)."""
        return self._encode_publish(body, exchange, routing_key, properties, mandatory)

    def publish_encoded(self, frames: bytes, count: int = 1) -> int:
        """Write ``count`` messages already encoded by :meth:`encode_publish` (``frames`` is
        that encoding, or ``count`` of them concatenated). Nothing is encoded or copied.

        Returns:
            The sequence number of the last message when confirms are on, else 0.
        """
        self._raise_if_closed()
        self._conn.send_frame(frames)
        confirms = self._confirms
        if confirms is None:
            return 0
        confirms.published += count
        return confirms.published

    def publish_confirmed(
        self,
        body: bytes,
        exchange: str = "",
        routing_key: str = "",
        properties: Properties = None,
        mandatory: bool = False,
    ) -> asyncio.Future[bool]:
        """Publish and get an awaitable that resolves True (acked) or False (nacked).

        Raises:
            ClientError: when confirms are not enabled (see :meth:`confirm_select`).
        """
        if self._confirms is None:
            raise ClientError("publish_confirmed needs confirm_select() first")
        seq = self.basic_publish(body, exchange, routing_key, properties, mandatory)
        return self._confirms.waiter(seq)

    def _encode_publish(
        self, body: bytes, exchange: str, routing_key: str, properties: Properties, mandatory: bool
    ) -> bytes:
        method = self._publish_frames.get((exchange, routing_key, mandatory))
        if method is None:
            method = self._cache_publish_frame(exchange, routing_key, mandatory)
        if properties is None:
            props = EMPTY
        elif type(properties) is bytes:
            props = properties
        else:
            props = properties.encode()  # type: ignore[union-attr]
        size = len(body)
        number = self.number
        if 0 < size <= self._conn.max_body_frame:
            return b"".join((
                method, _pack_header(2, number, 12 + len(props), 60, 0, size), props,
                _pack_body_head(0xCE, 3, number, size), body, _FRAME_END,
            ))  # fmt: skip
        frames = content_frames(number, body, props, self._conn.frame_max)
        return method + b"".join(frames)

    def _cache_publish_frame(self, exchange: str, routing_key: str, mandatory: bool) -> bytes:
        frames = self._publish_frames
        if len(frames) >= _PUBLISH_CACHE_SIZE:
            frames.clear()
        frame = method_frame(self.number, BasicPublish(0, exchange, routing_key, mandatory))
        frames[(exchange, routing_key, mandatory)] = frame
        return frame

    # -- confirms and transactions --------------------------------------------------------

    async def confirm_select(self) -> None:
        """Turn on publisher confirms; from now on publishes return sequence numbers."""
        if self._confirms is None:
            await self._call(ConfirmSelect(), ConfirmSelectOk)
            self._confirms = ConfirmTracker(self._loop)

    async def wait_for_confirms(self) -> None:
        """Wait until the broker has acked or nacked every message published so far.

        Raises:
            PublishNacked: when any message published since the last call was nacked.
            ClientError: when confirms are not enabled.
        """
        self._raise_if_closed()
        if self._confirms is None:
            raise ClientError("wait_for_confirms needs confirm_select() first")
        await self._confirms.wait()

    async def wait_unconfirmed(self, limit: int) -> None:
        """Wait until fewer than ``limit`` published messages are unconfirmed (flow control
        for publishers that keep a window of messages in flight).

        Raises:
            ClientError: when confirms are not enabled.
            ChannelClosed: when the channel closes meanwhile.
        """
        if self._confirms is None:
            raise ClientError("wait_unconfirmed needs confirm_select() first")
        await self._confirms.wait_below(limit)

    @property
    def unconfirmed(self) -> int:
        """Published messages not yet acked or nacked (0 without confirms)."""
        return self._confirms.outstanding if self._confirms is not None else 0

    async def tx_select(self) -> None:
        """Make this channel transactional."""
        await self._call(TxSelect(), TxSelectOk)

    async def tx_commit(self) -> None:
        """Commit the publishes and acks sent since the last commit or rollback."""
        await self._call(TxCommit(), TxCommitOk)

    async def tx_rollback(self) -> None:
        """Discard the publishes and acks sent since the last commit or rollback."""
        await self._call(TxRollback(), TxRollbackOk)

    def __repr__(self) -> str:
        state = "open" if self._closed is None else "closed"
        return f"<Channel {self.number} {state}>"


__all__ = ["Channel", "Properties"]
