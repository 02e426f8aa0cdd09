"""Received messages: deliveries, Basic.Get results and returned (unroutable) messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lavinmq.amqp.properties import EMPTY, BasicProperties
from lavinmq.client.errors import ClientError

if TYPE_CHECKING:
    from lavinmq.client.channel import Channel


class Message:
    """A message received from the broker.

    One is built per delivery, so the class is slotted and ``properties`` is decoded
    from ``raw_properties`` only on first access (consumers that only read the body pay
    nothing for it).

    Attributes:
        body: the message body.
        raw_properties: the encoded properties (flag word + fields) as the broker sent them;
            pass them to ``basic_publish`` to forward the message unchanged.
        delivery_tag: the tag to ack/nack/reject (0 for returned messages).
        redelivered: the broker delivered this message before.
        exchange: the exchange the message was published to.
        routing_key: the routing key it was published with.
        consumer_tag: the consumer it was delivered to (Basic.Deliver only).
        message_count: messages left in the queue (Basic.GetOk only).
        reply_code: why the message was returned (Basic.Return only, e.g. 312 NO_ROUTE).
        reply_text: the reply text of a return.
        channel: the channel it arrived on (``None`` for messages built by hand).
    """

    __slots__ = (
        "_properties",
        "body",
        "channel",
        "consumer_tag",
        "delivery_tag",
        "exchange",
        "message_count",
        "raw_properties",
        "redelivered",
        "reply_code",
        "reply_text",
        "routing_key",
    )

    def __init__(
        self,
        body: bytes,
        raw_properties: bytes = EMPTY,
        delivery_tag: int = 0,
        redelivered: bool = False,
        exchange: str = "",
        routing_key: str = "",
        consumer_tag: str = "",
        channel: Channel | None = None,
        message_count: int = 0,
        reply_code: int = 0,
        reply_text: str = "",
    ) -> None:
        self.body = body
        self.raw_properties = raw_properties
        self._properties: BasicProperties | None = None
        self.delivery_tag = delivery_tag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routing_key = routing_key
        self.consumer_tag = consumer_tag
        self.channel = channel
        self.message_count = message_count
        self.reply_code = reply_code
        self.reply_text = reply_text

    @property
    def properties(self) -> BasicProperties:
        """The decoded content properties (decoded once, on first access)."""
        props = self._properties
        if props is None:
            props = self._properties = BasicProperties.decode(self.raw_properties)
        return props

    def ack(self, multiple: bool = False) -> None:
        """Acknowledge this message on the channel it arrived on.

        Raises:
            ClientError: when the message has no channel.
        """
        self._channel().basic_ack(self.delivery_tag, multiple)

    def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        """Negatively acknowledge this message (RabbitMQ extension)."""
        self._channel().basic_nack(self.delivery_tag, multiple, requeue)

    def reject(self, requeue: bool = True) -> None:
        """Reject this message."""
        self._channel().basic_reject(self.delivery_tag, requeue)

    def _channel(self) -> Channel:
        if self.channel is None:
            raise ClientError("message has no channel to acknowledge on")
        return self.channel

    def __repr__(self) -> str:
        return (
            f"<Message exchange={self.exchange!r} routing_key={self.routing_key!r} "
            f"delivery_tag={self.delivery_tag} body={self.body[:32]!r}"
            f"{'...' if len(self.body) > 32 else ''}>"
        )


__all__ = ["Message"]
