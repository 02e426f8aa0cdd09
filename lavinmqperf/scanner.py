"""Count Basic.Deliver messages in a raw AMQP byte stream without decoding them.

The client's receive path decodes every delivery into a method object and a
:class:`~lavinmq.client.Message` (about 3 µs each), which caps one consumer near 300k
msgs/s. A benchmark consumer that neither verifies nor times bodies only needs to know
how many deliveries arrived and the last delivery tag (to ack), so it walks frame
headers instead: a delivery is one method frame (class 60, method 60) followed by a
content header frame and body frames, which are skipped without being copied.

Consecutive deliveries of one consumer are byte-identical except for the delivery tag
and the body contents, so after one full delivery has been seen the scanner keeps its
layout as a *template* and checks each following delivery with three ``startswith``
calls (method frame head, whole content header frame, body frame head): a few hundred
nanoseconds per message. Anything that does not match goes through the frame-by-frame
walk, and every frame that is not part of a delivery (Basic.ConsumeOk, Channel.Close,
heartbeats, ...) is handed, whole and in order, to ``forward`` (the regular codec).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from lavinmq.amqp.constants import FRAME_BODY, FRAME_HEADER, FRAME_METHOD

_unpack_head = struct.Struct(">BHI").unpack_from
_unpack_u64 = struct.Struct(">Q").unpack_from
DELIVER = b"\x00\x3c\x00\x3c"
"""Class 60 (basic), method 60 (deliver): the first four bytes of the method payload."""
_HEAD = 7
_CONTENT = (FRAME_HEADER, FRAME_BODY)
_METHOD_PREFIX = _HEAD + len(DELIVER)

# (record length, method frame prefix, header offset, header frame, body offset, body head)
Template = tuple[int, bytes, int, bytes, int, bytes]


def _match_template(data: bytes, pos: int, end: int, template: Template) -> int:
    """Skip the deliveries from ``pos`` on that match ``template``; return the new position."""
    length, p1, o2, p2, o3, p3 = template
    starts = data.startswith  # hot loop: one iteration per matching delivery
    stop = end - length
    while pos <= stop and starts(p1, pos) and starts(p2, pos + o2) and starts(p3, pos + o3):
        pos += length
    return pos


class DeliveryScanner:
    """Counts deliveries in the bytes fed to it; forwards every other frame.

    Args:
        forward: receives complete non-delivery frames, in stream order.
    """

    __slots__ = ("_forward", "_in_delivery", "_skip", "_tail", "_template", "last_tag")

    def __init__(self, forward: Callable[[bytes], None]) -> None:
        self._forward = forward
        self._tail = b""
        self._skip = 0
        self._in_delivery = False
        self._template: Template | None = None
        self.last_tag = 0
        """The delivery tag of the last delivery seen."""

    def feed(self, data: bytes) -> int:
        """Scan the next received bytes; return how many deliveries they completed the
        method frame of (content frames are skipped, even when split over reads)."""
        if self._tail:
            data = self._tail + data
            self._tail = b""
        end = len(data)
        pos = self._skip
        if pos:
            if pos >= end:  # still inside a skipped content frame
                self._skip = pos - end
                return 0
            self._skip = 0
        count, pos, last = self._walk(data, pos, end)
        if pos < end:
            self._tail = data[pos:]
        if last >= 0:
            tag_at = last + _METHOD_PREFIX + 1 + data[last + _METHOD_PREFIX]
            self.last_tag = _unpack_u64(data, tag_at)[0]
        return count

    def _walk(self, data: bytes, pos: int, end: int) -> tuple[int, int, int]:
        """Walk the frames of ``data[pos:end]``: (deliveries, where it stopped, position of
        the last delivery's method frame or -1)."""
        count = 0
        last = -1
        while True:
            template = self._template
            if template is not None:
                start = pos
                pos = _match_template(data, pos, end, template)
                if pos != start:
                    count += (pos - start) // template[0]
                    last = pos - template[0]
            if end - pos < _HEAD:
                return count, pos, last
            frame_type, _channel, size = _unpack_head(data, pos)
            frame_end = pos + size + 8
            skipped = self._in_delivery and frame_type in _CONTENT
            if frame_end > end:
                if skipped:  # skip the rest of this content frame in later reads
                    self._skip = frame_end - end
                    pos = end
                return count, pos, last
            if frame_type == FRAME_METHOD:
                if self._method(data, pos, frame_end):
                    count += 1
                    last = pos
            elif not skipped:
                self._forward(data[pos:frame_end])
            pos = frame_end

    def _method(self, data: bytes, pos: int, frame_end: int) -> bool:
        """A whole method frame: True for a delivery, else it is forwarded."""
        self._in_delivery = data.startswith(DELIVER, pos + _HEAD)
        if self._in_delivery:
            self._learn(data, pos, frame_end)
        else:
            self._forward(data[pos:frame_end])
        return self._in_delivery

    def _learn(self, data: bytes, pos: int, method_end: int) -> None:
        """Take the delivery at ``pos`` as the template when it is complete in ``data``
        and its body fits one frame."""
        end = len(data)
        if method_end + _HEAD > end:
            return
        header_type, _, header_size = _unpack_head(data, method_end)
        header_end = method_end + header_size + 8
        if header_type != FRAME_HEADER or header_end > end or header_size < 12:
            return
        (body_size,) = _unpack_u64(data, method_end + _HEAD + 4)
        p1 = data[pos : pos + _METHOD_PREFIX]
        p2 = data[method_end:header_end]
        if body_size == 0:
            self._template = (header_end - pos, p1, method_end - pos, p2, 0, p1)
            return
        if header_end + _HEAD > end:
            return
        body_type, _, body_frame = _unpack_head(data, header_end)
        if body_type != FRAME_BODY or body_frame != body_size:
            return
        length = header_end + body_frame + 8 - pos
        p3 = data[header_end : header_end + _HEAD]
        self._template = (length, p1, method_end - pos, p2, header_end - pos, p3)


__all__ = ["DELIVER", "DeliveryScanner"]
