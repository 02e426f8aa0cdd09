"""Sans-IO AMQP 0-9-1 framing and content assembly. No sockets, no event loop, no clock.

``AMQPConnection(role)`` takes the bytes a peer sent and returns events: the protocol
header, methods, content-bearing methods with their complete body, heartbeats. A
protocol violation does not raise: it ends the returned list with a
:class:`~lavinmq.amqp.events.Event` subclass :class:`FrameRejected`, so the events parsed
before the bad frame in the same read are still handled. A ``HardError`` stops parsing
for good; a ``SoftError`` (e.g. a body over the size limit) concerns one channel, whose
frames are then discarded until :meth:`AMQPConnection.reset_channel`.

Buffering is O(bytes read): when a frame is larger than what has arrived, chunks are
collected in a list and joined once the frame is complete (no re-copy per read).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass

from lavinmq._ext import NO_EXTENSIONS
from lavinmq.amqp.constants import (
    FRAME_BODY,
    FRAME_END,
    FRAME_HEADER,
    FRAME_HEARTBEAT,
    FRAME_METHOD,
    PROTOCOL_HEADER,
)
from lavinmq.amqp.errors import (
    AMQPError,
    ChannelError,
    CommandInvalid,
    FrameError,
    NotImplemented_,
    PreconditionFailed,
    SoftError,
    SyntaxError_,
    UnexpectedFrame,
)
from lavinmq.amqp.events import (
    Body,
    ContentReceived,
    Event,
    HeartbeatReceived,
    MethodReceived,
    ProtocolHeaderReceived,
    PublishBatch,
)
from lavinmq.amqp.frames import decode_arguments
from lavinmq.amqp.large_body import LargeBodies, Partial
from lavinmq.amqp.properties import EMPTY, validate
from lavinmq.amqp.spec import METHODS, Method

_FRAME = struct.Struct(">BHI")
_METHOD_INDEX = struct.Struct(">I")
_CONTENT_HEADER = struct.Struct(">HHQ")
_unpack_frame = _FRAME.unpack_from
_unpack_index = _METHOD_INDEX.unpack_from
DEFAULT_FRAME_MAX = 131072
CHANNEL_CLASS = 20
BASIC_PUBLISH = 0x003C0028


class Role(enum.Enum):
    """Which side of the connection this codec plays."""

    CLIENT = "client"
    SERVER = "server"


@dataclass(slots=True)
class FrameRejected(Event):
    """The peer broke the protocol. ``channel`` is 0 for connection-level errors."""

    channel: int
    error: AMQPError


class AMQPConnection(LargeBodies):
    """Frame parser and content assembler for one AMQP connection.

    Args:
        role: ``Role.SERVER`` expects a protocol header first and accepts only methods a
            client may send; ``Role.CLIENT`` the reverse.
        frame_max: the largest frame accepted, header and end byte included.
        max_body_size: the largest message body accepted (0: no limit); larger bodies are
            rejected with a channel-level PRECONDITION_FAILED.
        batch_publishes: (server role) return Basic.Publish messages as ``PublishBatch``
            events, coalescing consecutive ones with identical arguments on one channel,
            instead of one ``ContentReceived`` each.
        large_min: bodies this large are assembled in one buffer with room in front
            (see ``lavinmq.amqp.large_body``); 0: never.
    """

    def __init__(
        self,
        role: Role,
        frame_max: int = DEFAULT_FRAME_MAX,
        max_body_size: int = 0,
        *,
        batch_publishes: bool = False,
        large_min: int = 0,
    ) -> None:
        self.role = role
        self.batch_publishes = batch_publishes and role is Role.SERVER
        self.frame_max = frame_max
        self.max_body_size = max_body_size
        self._awaiting_header = role is Role.SERVER
        self._chunks: list[bytes | memoryview] = []
        self._buffered = 0
        self._need = 0
        self._partials: dict[int, Partial] = {}
        self._discarding: set[int] = set()
        self._failed = False
        # The last Basic.Publish payload and its decoded method: a publisher usually
        # repeats the same exchange/routing key, so most publishes skip decoding and
        # join the previous PublishBatch (see _content).
        self._last_publish: bytes = b""
        self._last_publish_method: Method | None = None
        self.large_min = large_min
        self._owner: Partial | None = None
        self._owner_channel = 0
        self.large_reads = False

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes from the peer; return every event they complete, in order."""
        if self._failed:
            return []
        self.large_reads = self._owner is not None
        events: list[Event] = []
        pos = self._finish_partial(data, events) if self._chunks else 0
        if pos < 0:  # still short of a whole frame (or failed)
            return events
        pos = self._parse(data, events, pos)
        if pos < len(data):
            # A view, not a copy: the next read joins it with the bytes that complete it.
            rest = memoryview(data)[pos:]
            self._chunks.append(rest)
            self._buffered = len(rest)
        return events

    def _finish_partial(self, data: bytes, events: list[Event]) -> int:
        """Complete the buffered partial frame from the start of ``data``.

        Only the bytes the cut frame still needs are joined to it; the rest of ``data`` is
        parsed where it is (large frames cut by every read were copied twice more).

        Returns:
            Where in ``data`` parsing goes on, or -1 when ``data`` was used up (buffered).
        """
        pos = 0
        while self._chunks:
            missing = self._need - self._buffered
            if len(data) - pos < missing:
                self._chunks.append(memoryview(data)[pos:] if pos else data)
                self._buffered += len(data) - pos
                return -1
            self._chunks.append(memoryview(data)[pos : pos + missing])
            pos += missing
            head = b"".join(self._chunks)
            self._chunks.clear()
            used = self._parse(head, events)
            if self._failed:
                return -1
            if used < len(head):  # that was a frame header: now the frame's size is known
                self._chunks.append(head[used:])
                self._buffered = len(head) - used
        return pos

    def discard_channel(self, channel: int) -> None:
        """Drop frames on ``channel`` (after the server closed it) except Channel.Close[-Ok]."""
        self._discarding.add(channel)
        self._partials.pop(channel, None)
        self._drop_owner(channel)

    def reset_channel(self, channel: int) -> None:
        """Forget all state of ``channel`` (it was closed, its number may be reused)."""
        self._discarding.discard(channel)
        self._partials.pop(channel, None)
        self._drop_owner(channel)

    def _parse(self, data: bytes, events: list[Event], pos: int = 0) -> int:
        if self._awaiting_header:
            if len(data) - pos < 8:
                self._need = 8
                return pos
            if data[pos : pos + 8] != PROTOCOL_HEADER:
                self._fail(events, 0, CommandInvalid("bad protocol header"))
                return len(data)
            self._awaiting_header = False
            events.append(ProtocolHeaderReceived())
            pos += 8
        return _parse_frames(self, data, events, pos)

    def _parse_frames(self, data: bytes, events: list[Event], pos: int) -> int:
        """Pure-Python frame loop; ``_cparse.parse_frames`` is its compiled twin."""
        end_data = len(data)
        frame_max = self.frame_max
        while end_data - pos >= 8:
            frame_type, channel, size = _unpack_frame(data, pos)
            if size + 8 > frame_max:
                self._fail(events, 0, FrameError(f"frame size {size + 8} > frame_max {frame_max}"))
                return end_data
            end = pos + 7 + size
            if end >= end_data:
                self._need = end + 1 - pos
                return pos
            if data[end] != FRAME_END:
                self._fail(events, 0, FrameError("frame end byte is not 0xCE"))
                return end_data
            try:
                self._frame(frame_type, channel, data, pos + 7, end, events)
            except AMQPError as exc:
                self._fail(events, channel if isinstance(exc, SoftError) else 0, exc)
                if self._failed:
                    return end_data
            pos = end + 1
        self._need = 8
        return pos

    def _fail(self, events: list[Event], channel: int, error: AMQPError) -> None:
        events.append(FrameRejected(channel, error))
        # Hard errors are not all >= 500 (320, 402), so test the class, not the code.
        if channel and isinstance(error, SoftError):
            self.discard_channel(channel)
        else:
            self._failed = True

    def _frame(
        self, frame_type: int, channel: int, data: bytes, start: int, end: int, events: list[Event]
    ) -> None:
        if frame_type == FRAME_METHOD:
            self._method(channel, data, start, end, events)
        elif frame_type == FRAME_HEADER:
            self._header(channel, data, start, end, events)
        elif frame_type == FRAME_BODY:
            # A view, not a copy: a body split over frames is joined once (one copy of a
            # 1 MiB body instead of two); `data` is immutable, so the view is safe to keep.
            self._body(channel, memoryview(data)[start:end], events)
        elif frame_type == FRAME_HEARTBEAT:
            if channel != 0:
                raise FrameError("heartbeat frame on a non-zero channel")
            events.append(HeartbeatReceived())
        else:
            raise FrameError(f"unknown frame type {frame_type}")

    def _method(self, channel: int, data: bytes, start: int, end: int, events: list[Event]) -> None:
        if end - start < 4:
            raise SyntaxError_("method frame too short")
        (index,) = _unpack_index(data, start)
        cls = METHODS.get(index)
        if cls is None:
            raise NotImplemented_(f"unknown method {index >> 16}.{index & 0xFFFF}")
        if channel in self._discarding and cls.CLASS_ID != CHANNEL_CLASS:
            return
        if not (cls.FROM_CLIENT if self.role is Role.SERVER else cls.FROM_SERVER):
            raise CommandInvalid(f"{cls.NAME} may not be sent by the {_peer(self.role)}")
        if (channel == 0) != (cls.CLASS_ID == 10):
            where = "channel 0" if channel == 0 else f"channel {channel}"
            raise CommandInvalid(f"{cls.NAME} not allowed on {where}")
        if channel in self._partials:
            raise UnexpectedFrame(f"expected content header on channel {channel}, got {cls.NAME}")
        if index == BASIC_PUBLISH and self.batch_publishes:
            raw = data[start + 4 : end]
            if raw == self._last_publish and self._last_publish_method is not None:
                self._partials[channel] = Partial(self._last_publish_method)
                return
            method = decode_arguments(cls, memoryview(data)[start + 4 : end])
            self._last_publish, self._last_publish_method = raw, method
            self._partials[channel] = Partial(method)
            return
        method = decode_arguments(cls, memoryview(data)[start + 4 : end])
        if cls.CONTENT:
            self._partials[channel] = Partial(method)
        else:
            events.append(MethodReceived(channel, method))

    def _header(self, channel: int, data: bytes, start: int, end: int, events: list[Event]) -> None:
        if channel in self._discarding:
            return
        partial = self._partials.get(channel)
        if partial is None or partial.properties is not None:
            raise UnexpectedFrame(f"unexpected content header on channel {channel}")
        if end - start < 14:
            raise FrameError("content header frame too short")
        class_id, weight, body_size = _CONTENT_HEADER.unpack_from(data, start)
        if class_id != partial.method.CLASS_ID or weight != 0:
            raise UnexpectedFrame(f"content header class {class_id} does not match the method")
        properties = data[start + 12 : end]
        if properties != EMPTY:
            validate(properties)
        if self.max_body_size and body_size > self.max_body_size:
            del self._partials[channel]
            method = partial.method
            raise PreconditionFailed(
                f"message size {body_size} is larger than configured max size {self.max_body_size}",
                method.CLASS_ID,
                method.METHOD_ID,
            )
        partial.properties = properties
        partial.body_size = body_size
        if body_size == 0:
            del self._partials[channel]
            self._content(channel, partial.method, properties, b"", events)

    def _body(self, channel: int, payload: memoryview, events: list[Event]) -> None:
        if channel in self._discarding:
            return
        partial = self._partials.get(channel)
        if partial is None or partial.properties is None:
            raise UnexpectedFrame(f"unexpected content body on channel {channel}")
        received = partial.received + len(payload)
        if received > partial.body_size:
            raise FrameError("content body exceeds the size in the content header")
        if partial.buffer is not None or (
            not partial.parts and self._take_buffer(channel, partial)
        ):
            whole = self._body_into_buffer(channel, partial, payload)
            if whole is not None:
                self._content(channel, partial.method, partial.properties, whole, events)
            return
        if received == partial.body_size and not partial.parts:
            del self._partials[channel]
            self._content(channel, partial.method, partial.properties, bytes(payload), events)
            return
        partial.parts.append(payload)
        partial.received = received
        if received == partial.body_size:
            del self._partials[channel]
            body = b"".join(partial.parts)
            self._content(channel, partial.method, partial.properties, body, events)

    def _content(
        self,
        channel: int,
        method: Method,
        properties: bytes,
        body: Body,
        events: list[Event],
    ) -> None:
        if self.batch_publishes and method.INDEX == BASIC_PUBLISH:
            last = events[-1] if events else None
            if type(last) is PublishBatch and last.channel == channel and last.method is method:
                last.contents.append(properties)
                last.contents.append(body)
            else:
                events.append(PublishBatch(channel, method, [properties, body]))
            return
        events.append(ContentReceived(channel, method, properties, body))


def _peer(role: Role) -> str:
    return "client" if role is Role.SERVER else "server"


def _compiled_parse_frames() -> Callable[[AMQPConnection, bytes, list[Event], int], int] | None:
    if NO_EXTENSIONS:
        return None
    try:
        from lavinmq.amqp._cparse import parse_frames
    except ImportError:  # not compiled: the pure-Python loop is used
        return None
    return parse_frames


_parse_frames = _compiled_parse_frames() or AMQPConnection._parse_frames


__all__ = ["AMQPConnection", "ChannelError", "FrameRejected", "Role"]
