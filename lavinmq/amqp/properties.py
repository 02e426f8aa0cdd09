"""Basic content properties: the flag word and the 14 optional fields of a content header.

The broker keeps properties as the raw bytes the publisher sent (they are written to disk
and sent to consumers unchanged), so the hot path never builds a ``BasicProperties``.
``peek_*`` helpers read single fields straight from the raw bytes when routing needs them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from lavinmq.amqp.errors import SyntaxError_
from lavinmq.amqp.types import (
    Buffer,
    FieldTable,
    decode_shortstr,
    decode_table,
    encode_shortstr,
    encode_table,
)

_H = struct.Struct(">H")
_I = struct.Struct(">I")
_Q = struct.Struct(">Q")

# (attribute, flag bit, kind) in wire order.
FIELDS: tuple[tuple[str, int, str], ...] = (
    ("content_type", 0x8000, "shortstr"),
    ("content_encoding", 0x4000, "shortstr"),
    ("headers", 0x2000, "table"),
    ("delivery_mode", 0x1000, "octet"),
    ("priority", 0x0800, "octet"),
    ("correlation_id", 0x0400, "shortstr"),
    ("reply_to", 0x0200, "shortstr"),
    ("expiration", 0x0100, "shortstr"),
    ("message_id", 0x0080, "shortstr"),
    ("timestamp", 0x0040, "timestamp"),
    ("type", 0x0020, "shortstr"),
    ("user_id", 0x0010, "shortstr"),
    ("app_id", 0x0008, "shortstr"),
    ("cluster_id", 0x0004, "shortstr"),
)
FLAG_HEADERS = 0x2000
FLAG_DELIVERY_MODE = 0x1000
FLAG_PRIORITY = 0x0800
FLAG_EXPIRATION = 0x0100
FLAG_USER_ID = 0x0010
EMPTY = b"\x00\x00"
"""Encoded properties with no field set."""


@dataclass(slots=True)
class BasicProperties:
    """Content properties of the basic class; ``None`` means not present."""

    content_type: str | None = None
    content_encoding: str | None = None
    headers: FieldTable | None = field(default=None)
    delivery_mode: int | None = None
    priority: int | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    expiration: str | None = None
    message_id: str | None = None
    timestamp: int | None = None
    type: str | None = None
    user_id: str | None = None
    app_id: str | None = None
    cluster_id: str | None = None

    def encode(self) -> bytes:
        """Encode as flag word + present fields (the tail of a content header payload)."""
        flags = 0
        parts: list[bytes] = []
        for name, bit, kind in FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            flags |= bit
            parts.append(_encode_field(kind, value))
        return _H.pack(flags) + b"".join(parts)

    @classmethod
    def decode(cls, buf: Buffer, offset: int = 0) -> BasicProperties:
        """Decode properties starting at the flag word at ``offset``.

        Raises:
            SyntaxError_: on a truncated or malformed property list.
        """
        values, _ = _decode_fields(buf, offset)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The present fields as a dict (RabbitMQ management API shape)."""
        return {
            name: getattr(self, name) for name, _, _ in FIELDS if getattr(self, name) is not None
        }


def _encode_field(kind: str, value: Any) -> bytes:
    if kind == "shortstr":
        return encode_shortstr(value)
    if kind == "octet":
        return bytes((value,))
    if kind == "timestamp":
        return _Q.pack(value)
    return encode_table(value)


def _decode_fields(buf: Buffer, offset: int) -> tuple[dict[str, Any], int]:
    try:
        (flags,) = _H.unpack_from(buf, offset)
        offset += 2
        values: dict[str, Any] = {}
        for name, bit, kind in FIELDS:
            if not flags & bit:
                continue
            if kind == "shortstr":
                values[name], offset = decode_shortstr(buf, offset)
            elif kind == "octet":
                values[name] = buf[offset]
                offset += 1
            elif kind == "timestamp":
                (values[name],) = _Q.unpack_from(buf, offset)
                offset += 8
            else:
                values[name], offset = decode_table(buf, offset)
    except (struct.error, IndexError) as exc:
        raise SyntaxError_("malformed content properties") from exc
    return values, offset


def _skip_to(buf: Buffer, offset: int, flags: int, stop_bit: int) -> int:
    """Return the offset of the field ``stop_bit`` (which must be set) in raw properties."""
    offset += 2
    for _, bit, kind in FIELDS:
        if bit == stop_bit:
            return offset
        if not flags & bit:
            continue
        if kind == "shortstr":
            offset += 1 + buf[offset]
        elif kind == "octet":
            offset += 1
        elif kind == "timestamp":
            offset += 8
        else:
            offset += 4 + _I.unpack_from(buf, offset)[0]
    raise ValueError("unknown property bit")


def property_flags(props: Buffer) -> int:
    """The flag word of raw encoded properties."""
    return int(_H.unpack_from(props, 0)[0])


def peek_delivery_mode(props: Buffer) -> int:
    """delivery_mode from raw properties (0 when absent)."""
    flags = _H.unpack_from(props, 0)[0]
    if not flags & FLAG_DELIVERY_MODE:
        return 0
    return props[_skip_to(props, 0, flags, FLAG_DELIVERY_MODE)]


def peek_priority(props: Buffer) -> int:
    """priority from raw properties (0 when absent)."""
    flags = _H.unpack_from(props, 0)[0]
    if not flags & FLAG_PRIORITY:
        return 0
    return props[_skip_to(props, 0, flags, FLAG_PRIORITY)]


def peek_expiration(props: Buffer) -> str | None:
    """expiration from raw properties (None when absent)."""
    flags = _H.unpack_from(props, 0)[0]
    if not flags & FLAG_EXPIRATION:
        return None
    return decode_shortstr(props, _skip_to(props, 0, flags, FLAG_EXPIRATION))[0]


def peek_headers(props: Buffer) -> FieldTable | None:
    """headers from raw properties (None when absent)."""
    flags = _H.unpack_from(props, 0)[0]
    if not flags & FLAG_HEADERS:
        return None
    return decode_table(props, _skip_to(props, 0, flags, FLAG_HEADERS))[0]


def peek_user_id(props: Buffer) -> str | None:
    """user_id from raw properties (None when absent)."""
    flags = _H.unpack_from(props, 0)[0]
    if not flags & FLAG_USER_ID:
        return None
    return decode_shortstr(props, _skip_to(props, 0, flags, FLAG_USER_ID))[0]


def validate(props: Buffer) -> None:
    """Check that raw properties decode and end exactly at the end of the buffer.

    Raises:
        SyntaxError_: when they do not.
    """
    _, end = _decode_fields(props, 0)
    if end != len(props):
        raise SyntaxError_("content properties length mismatch")
