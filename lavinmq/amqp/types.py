"""AMQP 0-9-1 data types: short/long strings and field tables (RabbitMQ's type set).

Decoders take ``(buf, offset)`` and return ``(value, new_offset)``; they never copy the
buffer per field (precompiled structs with ``unpack_from``). Encoders return ``bytes``.

Table value types, decoded to / encoded from Python:

====  ==========================  =====================
tag   AMQP type                   Python
====  ==========================  =====================
t     boolean                     bool
b/B   int8 / uint8                int
s/u   int16 / uint16              int
I/i   int32 / uint32              int  (encoded as I, or l when out of range)
l/L   int64 / uint64              int
f/d   float / double              float (encoded as d)
D     decimal                     decimal.Decimal
S     long string                 str (bytes when not valid UTF-8; bytes encode as S)
x     byte array                  bytearray
T     timestamp                   datetime.datetime (UTC); int seconds past year 9999
A     array                       list
F     table                       dict
V     void                        None
====  ==========================  =====================

Decoding never raises anything but :class:`SyntaxError_` on malformed input (truncation,
unknown tags, nesting deeper than :data:`MAX_NESTING`), so a peer can't crash the parser.
"""

from __future__ import annotations

import datetime
import decimal
import struct
from collections.abc import Callable
from typing import Any, TypeAlias

from lavinmq.amqp.errors import SyntaxError_

Buffer: TypeAlias = bytes | bytearray | memoryview
FieldValue: TypeAlias = Any
FieldTable: TypeAlias = dict[str, Any]

_B = struct.Struct(">B")
_b = struct.Struct(">b")
_H = struct.Struct(">H")
_h = struct.Struct(">h")
_I = struct.Struct(">I")
_i = struct.Struct(">i")
_Q = struct.Struct(">Q")
_q = struct.Struct(">q")
_f = struct.Struct(">f")
_d = struct.Struct(">d")
_DEC = struct.Struct(">Bi")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_NESTING = 100
"""Deepest table/array nesting accepted; deeper input would exhaust Python's stack."""


def encode_shortstr(value: str) -> bytes:
    """Encode a short string (octet length + UTF-8 bytes).

    Raises:
        ValueError: when the encoded value is longer than 255 bytes.
    """
    data = value.encode()
    if len(data) > 255:
        raise ValueError(f"shortstr too long ({len(data)} > 255 bytes)")
    return bytes((len(data),)) + data


def decode_shortstr(buf: Buffer, offset: int) -> tuple[str, int]:
    """Decode a short string at ``offset``.

    Raises:
        SyntaxError_: when the string overruns the buffer or is not UTF-8.
    """
    try:
        length = buf[offset]
    except IndexError:
        raise SyntaxError_("shortstr overruns frame") from None
    end = offset + 1 + length
    if end > len(buf):
        raise SyntaxError_("shortstr overruns frame")
    try:
        return str(buf[offset + 1 : end], "utf-8"), end
    except UnicodeDecodeError as exc:
        raise SyntaxError_("shortstr is not valid UTF-8") from exc


def encode_longstr(value: bytes | str) -> bytes:
    """Encode a long string (uint32 length + bytes)."""
    data = value.encode() if isinstance(value, str) else bytes(value)
    return _I.pack(len(data)) + data


def decode_longstr(buf: Buffer, offset: int) -> tuple[bytes, int]:
    """Decode a long string at ``offset`` as bytes.

    Raises:
        SyntaxError_: when the string overruns the buffer.
    """
    try:
        (length,) = _I.unpack_from(buf, offset)
    except struct.error:
        raise SyntaxError_("longstr overruns frame") from None
    end = offset + 4 + length
    if end > len(buf):
        raise SyntaxError_("longstr overruns frame")
    return bytes(buf[offset + 4 : end]), end


def encode_table(table: FieldTable | None) -> bytes:
    """Encode a field table (uint32 byte length + name/value pairs)."""
    if not table:
        return b"\x00\x00\x00\x00"
    parts: list[bytes] = []
    for key, value in table.items():
        parts.append(encode_shortstr(key))
        parts.append(encode_value(value))
    payload = b"".join(parts)
    return _I.pack(len(payload)) + payload


def decode_table(buf: Buffer, offset: int) -> tuple[FieldTable, int]:
    """Decode a field table at ``offset``.

    Raises:
        SyntaxError_: on an unknown value type, a truncated table or one nested deeper
            than :data:`MAX_NESTING`.
    """
    try:
        return _decode_table(buf, offset, 0)
    except (struct.error, IndexError) as exc:
        raise SyntaxError_("malformed field table") from exc


def _decode_table(buf: Buffer, offset: int, depth: int) -> tuple[FieldTable, int]:
    (length,) = _I.unpack_from(buf, offset)
    offset += 4
    end = offset + length
    if end > len(buf):
        raise SyntaxError_("field table overruns frame")
    table: FieldTable = {}
    while offset < end:
        key, offset = decode_shortstr(buf, offset)
        table[key], offset = _decode_value(buf, offset, depth)
    if offset != end:
        raise SyntaxError_("field table length mismatch")
    return table, end


def _encode_int(value: int) -> bytes:
    if INT32_MIN <= value <= INT32_MAX:
        return b"I" + _i.pack(value)
    if INT64_MIN <= value <= INT64_MAX:
        return b"l" + _q.pack(value)
    raise ValueError(f"integer {value} does not fit a signed 64-bit table value")


def _encode_decimal(value: decimal.Decimal) -> bytes:
    _sign, _digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"cannot encode decimal {value}")
    scale = max(0, -exponent)
    raw = int(value.scaleb(scale))
    if scale > 255 or not INT32_MIN <= raw <= INT32_MAX:
        raise ValueError(f"decimal {value} does not fit scale octet + int32 mantissa")
    return b"D" + _DEC.pack(scale, raw)


def encode_value(value: FieldValue) -> bytes:
    """Encode one table/array value with its type tag.

    Raises:
        TypeError: for a Python type that has no AMQP field type.
        ValueError: for a value out of its AMQP type's range.
    """
    if isinstance(value, bool):
        return b"t\x01" if value else b"t\x00"
    if isinstance(value, int):
        return _encode_int(value)
    if isinstance(value, str):
        data = value.encode()
        return b"S" + _I.pack(len(data)) + data
    if isinstance(value, bytearray):
        return b"x" + _I.pack(len(value)) + bytes(value)
    if isinstance(value, bytes | memoryview):
        return b"S" + _I.pack(len(value)) + bytes(value)
    if isinstance(value, dict):
        return b"F" + encode_table(value)
    if isinstance(value, list | tuple):
        payload = b"".join(encode_value(v) for v in value)
        return b"A" + _I.pack(len(payload)) + payload
    if isinstance(value, float):
        return b"d" + _d.pack(value)
    if isinstance(value, decimal.Decimal):
        return _encode_decimal(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        seconds = int(value.timestamp())
        if seconds < 0:
            raise ValueError(
                f"timestamp {value} is before the epoch (AMQP timestamps are unsigned)"
            )
        return b"T" + _Q.pack(seconds)
    if value is None:
        return b"V"
    raise TypeError(f"cannot encode {type(value).__name__} in a field table")


def _decode_str(buf: Buffer, offset: int) -> tuple[str | bytes, int]:
    (length,) = _I.unpack_from(buf, offset)
    end = offset + 4 + length
    if end > len(buf):
        raise SyntaxError_("longstr overruns frame")
    raw = bytes(buf[offset + 4 : end])
    try:
        return raw.decode(), end
    except UnicodeDecodeError:
        return raw, end


def _decode_bytes(buf: Buffer, offset: int) -> tuple[bytearray, int]:
    (length,) = _I.unpack_from(buf, offset)
    end = offset + 4 + length
    if end > len(buf):
        raise SyntaxError_("byte array overruns frame")
    return bytearray(buf[offset + 4 : end]), end


def _decode_array(buf: Buffer, offset: int, depth: int) -> tuple[list[FieldValue], int]:
    (length,) = _I.unpack_from(buf, offset)
    offset += 4
    end = offset + length
    if end > len(buf):
        raise SyntaxError_("array overruns frame")
    items: list[FieldValue] = []
    while offset < end:
        value, offset = _decode_value(buf, offset, depth)
        items.append(value)
    if offset != end:
        raise SyntaxError_("array length mismatch")
    return items, end


def _decode_decimal(buf: Buffer, offset: int) -> tuple[decimal.Decimal, int]:
    scale, raw = _DEC.unpack_from(buf, offset)
    return decimal.Decimal(raw).scaleb(-scale), offset + 5


def _decode_timestamp(buf: Buffer, offset: int) -> tuple[datetime.datetime | int, int]:
    (seconds,) = _Q.unpack_from(buf, offset)
    try:
        return _EPOCH + datetime.timedelta(seconds=seconds), offset + 8
    except OverflowError:
        # Legal on the wire (RabbitMQ takes any uint64, some clients send milliseconds)
        # but past datetime's year 9999: keep the number rather than reject the frame.
        return seconds, offset + 8


def _fixed(st: struct.Struct) -> Callable[[Buffer, int], tuple[Any, int]]:
    size = st.size

    def decode(buf: Buffer, offset: int) -> tuple[Any, int]:
        return st.unpack_from(buf, offset)[0], offset + size

    return decode


def _decode_bool(buf: Buffer, offset: int) -> tuple[bool, int]:
    return buf[offset] != 0, offset + 1


def _decode_void(buf: Buffer, offset: int) -> tuple[None, int]:
    return None, offset


# Scalar decoders by tag; tables and arrays recurse, so _decode_value handles them.
_DECODERS: dict[int, Callable[[Buffer, int], tuple[Any, int]]] = {
    ord("t"): _decode_bool,
    ord("b"): _fixed(_b),
    ord("B"): _fixed(_B),
    ord("s"): _fixed(_h),
    ord("u"): _fixed(_H),
    ord("I"): _fixed(_i),
    ord("i"): _fixed(_I),
    ord("l"): _fixed(_q),
    ord("L"): _fixed(_Q),
    ord("f"): _fixed(_f),
    ord("d"): _fixed(_d),
    ord("D"): _decode_decimal,
    ord("S"): _decode_str,
    ord("x"): _decode_bytes,
    ord("T"): _decode_timestamp,
    ord("V"): _decode_void,
}
_TAG_TABLE = ord("F")
_TAG_ARRAY = ord("A")


def decode_value(buf: Buffer, offset: int) -> tuple[FieldValue, int]:
    """Decode one tagged table/array value at ``offset``.

    Raises:
        SyntaxError_: on an unknown type tag or a truncated value.
    """
    try:
        return _decode_value(buf, offset, 0)
    except (struct.error, IndexError) as exc:
        raise SyntaxError_("malformed field value") from exc


def _decode_value(buf: Buffer, offset: int, depth: int) -> tuple[FieldValue, int]:
    tag = buf[offset]
    decoder = _DECODERS.get(tag)
    if decoder is not None:
        return decoder(buf, offset + 1)
    if tag != _TAG_TABLE and tag != _TAG_ARRAY:
        raise SyntaxError_(f"unknown field type {chr(tag)!r}")
    if depth >= MAX_NESTING:
        raise SyntaxError_(f"field table nested deeper than {MAX_NESTING}")
    if tag == _TAG_TABLE:
        return _decode_table(buf, offset + 1, depth + 1)
    return _decode_array(buf, offset + 1, depth + 1)
