"""Large bodies: assembled in one buffer with room in front, and read in large reads.

A body of ``large_min`` bytes or more (up to ``LARGE_MAX``) is assembled in a
:class:`RecordBuffer` allocated when its first body frame arrives, instead of a list of
frame payloads joined at the end. The buffer has spare room in front of the body
(``HEADROOM`` plus the properties' size), so whoever takes the event can put its own
header there and hand the whole thing on without copying the body again (the broker's
message record, see ``lavinmq.broker.message.record_in_place``).

``AMQPConnection.large_reads`` tells the IO layer when large bodies are coming, so it
can read them in a few large reads: every read acknowledges what it took, and on
loopback the peer's side of that is processed in the reader's time, so 1 MiB bodies in
256 KiB reads cost as much CPU again as copying them.

With 1 MiB bodies the broker copied every byte three and a half times before writing it
to disk (into a bytes object, joining frames cut by reads, joining the body's frames,
building the record); now twice. The measured gain is in the commit that made this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from lavinmq._ext import NO_EXTENSIONS

if TYPE_CHECKING:
    from lavinmq.amqp.spec import Method

HEADROOM: Final = 8 + 256 + 256 + 4
"""Spare bytes in front of the properties' worth: room for a timestamp, two short
strings (exchange, routing key) and a 32-bit length."""
LARGE_MAX: Final = 16 * 1024 * 1024
"""Larger bodies are assembled from their frames as they come (no buffer allocated up
front for a size the peer only announced)."""


class RecordBuffer(bytearray):
    """A body buffer with spare bytes in front; events carry ``memoryview(buf)[start:]``.

    The body runs from ``start`` to the end of the buffer; everything before ``start``
    is free to write into. Only the codec makes views of it, so a view of it as long as
    ``len(buf) - start`` is the body.
    """

    __slots__ = ("start",)

    start: int


def _allocate(size: int) -> RecordBuffer:
    return RecordBuffer(size)


def _compiled_allocate() -> Callable[[int], RecordBuffer] | None:
    if NO_EXTENSIONS:
        return None
    try:
        from lavinmq.amqp._cparse import new_record_buffer
    except ImportError:
        return None
    return lambda size: new_record_buffer(RecordBuffer, size)


# Compiled: the buffer is not zero-filled first (every byte of it is about to be written).
_allocate_buffer = _compiled_allocate() or _allocate


def new_buffer(start: int, body_size: int) -> RecordBuffer:
    """A ``RecordBuffer`` for a body of ``body_size`` bytes with ``start`` spare in front."""
    buf = _allocate_buffer(start + body_size)
    buf.start = start
    return buf


class Partial:
    """A content-bearing method waiting for its header and body frames."""

    __slots__ = ("body_size", "buffer", "method", "parts", "properties", "received")

    def __init__(self, method: Method) -> None:
        self.method = method
        self.properties: bytes | None = None
        self.body_size = 0
        self.received = 0
        self.parts: list[memoryview] = []
        self.buffer: RecordBuffer | None = None  # large bodies only; its start is the body's


class LargeBodies:
    """The large-body half of ``AMQPConnection`` (which declares the shared state)."""

    large_min: int
    _partials: dict[int, Partial]
    _owner: Partial | None
    _owner_channel: int
    large_reads: bool
    """A large body is coming, or the last ``receive_data`` completed one."""

    def _take_buffer(self, channel: int, partial: Partial) -> bool:
        """Give ``partial`` a body buffer, if it is large and no other partial has one."""
        size = partial.body_size
        if not self.large_min or size < self.large_min or size > LARGE_MAX:
            return False
        if self._owner is not None:
            return False  # one up-front buffer per connection at most
        assert partial.properties is not None
        partial.buffer = new_buffer(HEADROOM + len(partial.properties), size)
        self._owner, self._owner_channel = partial, channel
        self.large_reads = True
        return True

    def _drop_owner(self, channel: int) -> None:
        """``channel``'s partial content is gone (closed, discarded)."""
        if self._owner is not None and self._owner_channel == channel:
            self._owner = None

    def _body_into_buffer(self, channel: int, p: Partial, payload: memoryview) -> memoryview | None:
        """Copy a body frame's payload into the buffer; returns the body once complete."""
        buf = p.buffer
        assert buf is not None
        start = buf.start + p.received
        # Through a memoryview: a bytearray's own slice assignment first copies any
        # value that is not a bytearray into a temporary one (3% of the broker's time
        # with 1 MiB bodies went to that second copy).
        memoryview(buf)[start : start + len(payload)] = payload
        p.received += len(payload)
        if p.received < p.body_size:
            return None
        del self._partials[channel]
        self._owner = None
        self.large_reads = True
        return memoryview(buf)[buf.start :]


__all__ = ["HEADROOM", "LARGE_MAX", "LargeBodies", "Partial", "RecordBuffer", "new_buffer"]
