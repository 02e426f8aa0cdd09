"""Frame encoding: method, content (header + body) and heartbeat frames; method decoding.

A frame is ``type:octet channel:short size:long payload frame-end(0xCE)``.
"""

from __future__ import annotations

import struct

from lavinmq.amqp.constants import FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_METHOD
from lavinmq.amqp.errors import SyntaxError_
from lavinmq.amqp.properties import EMPTY
from lavinmq.amqp.spec import Method

FRAME_HEADER_STRUCT = struct.Struct(">BHI")
CONTENT_HEADER_STRUCT = struct.Struct(">HHQ")
FRAME_END_BYTE = bytes((FRAME_END,))
HEARTBEAT = b"\x08\x00\x00\x00\x00\x00\x00\xce"
FRAME_OVERHEAD = 8
"""Bytes a frame adds around its payload (7 header + 1 end)."""

_pack_header = FRAME_HEADER_STRUCT.pack


def method_frame(channel: int, method: Method) -> bytes:
    """Encode ``method`` as a complete method frame on ``channel``."""
    payload = method.encode()
    return _pack_header(FRAME_METHOD, channel, len(payload)) + payload + FRAME_END_BYTE


def decode_arguments(cls: type[Method], arguments: bytes | memoryview) -> Method:
    """Decode a method from its arguments (the payload after its class and method ids).

    Raises:
        SyntaxError_: the arguments are malformed or followed by other bytes; it names
            the method and carries its ids, whatever the generated decoder raised.
    """
    try:
        return cls.decode(arguments, 0)
    except SyntaxError_ as exc:
        exc.with_method(cls.CLASS_ID, cls.METHOD_ID)
        raise
    except (struct.error, IndexError, ValueError) as exc:
        raise SyntaxError_(f"malformed {cls.NAME}").with_method(
            cls.CLASS_ID, cls.METHOD_ID
        ) from exc


def content_header_payload(class_id: int, body_size: int, properties: bytes = EMPTY) -> bytes:
    """The payload of a content header frame; ``properties`` is flag word + fields."""
    return CONTENT_HEADER_STRUCT.pack(class_id, 0, body_size) + properties


def content_frames(
    channel: int,
    body: bytes,
    properties: bytes = EMPTY,
    frame_max: int = 131072,
    class_id: int = 60,
) -> list[bytes]:
    """Encode a content header frame and the body frames that carry ``body``.

    Args:
        channel: the channel number.
        body: the message body; split into frames of at most ``frame_max`` bytes in total.
        properties: the encoded properties (flag word + present fields).
        frame_max: the negotiated maximum frame size, 0 meaning no limit.
        class_id: the content class (60 for basic).
    """
    header = content_header_payload(class_id, len(body), properties)
    frames = [_pack_header(FRAME_HEADER, channel, len(header)) + header + FRAME_END_BYTE]
    if not body:
        return frames
    chunk = (frame_max - FRAME_OVERHEAD) if frame_max else len(body)
    if len(body) <= chunk:
        frames.append(_pack_header(FRAME_BODY, channel, len(body)) + body + FRAME_END_BYTE)
        return frames
    view = memoryview(body)
    for start in range(0, len(body), chunk):
        part = view[start : start + chunk]
        frames.append(_pack_header(FRAME_BODY, channel, len(part)) + bytes(part) + FRAME_END_BYTE)
    return frames
