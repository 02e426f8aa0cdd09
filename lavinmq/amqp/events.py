"""Events produced by :class:`lavinmq.amqp.connection.AMQPConnection`.

They are slotted (not frozen) dataclasses: one is built per received message on the hot
path, and a frozen dataclass's ``object.__setattr__`` init costs about twice as much.
"""

from __future__ import annotations

from dataclasses import dataclass

from lavinmq.amqp.spec import Method

Body = bytes | memoryview
"""A message body: bytes, or for a large one a view of a ``large_body.RecordBuffer``
(codecs made with ``large_min``)."""


class Event:
    """Base class of codec events. Don't subclass these outside this module."""

    __slots__ = ()


@dataclass(slots=True)
class ProtocolHeaderReceived(Event):
    """The peer sent a valid ``AMQP\\x00\\x00\\x09\\x01`` protocol header."""


@dataclass(slots=True)
class MethodReceived(Event):
    """A method without content."""

    channel: int
    method: Method


@dataclass(slots=True)
class ContentReceived(Event):
    """A content-bearing method with its header and complete body.

    ``properties`` is the raw encoded property list (flag word + fields), exactly as the
    peer sent it, so the broker can store and forward it without re-encoding.
    """

    channel: int
    method: Method
    properties: bytes
    body: Body


@dataclass(slots=True)
class PublishBatch(Event):
    """Consecutive Basic.Publish messages on one channel with identical method arguments
    (exchange, routing key, mandatory, immediate), as the server receives them.

    ``contents`` is flat: ``[properties0, body0, properties1, body1, ...]`` (raw
    properties as sent). A publisher streaming to one routing key yields one batch per
    read, so the broker routes and checks permissions once for hundreds of messages.
    """

    channel: int
    method: Method
    contents: list[Body]


@dataclass(slots=True)
class HeartbeatReceived(Event):
    """A heartbeat frame."""
