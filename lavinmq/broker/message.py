"""Message records as stored in a queue's segments, and the frames that deliver them.

Record layout (all integers big-endian)::

    u64 timestamp (ms since epoch)
    u8  len(exchange) + exchange      } byte-identical to the tail of Basic.Deliver /
    u8  len(routing key) + routing key } Basic.Return / Basic.GetOk, so it is copied as is
    u32 len(properties) + properties   (flag word + fields, exactly as published)
    body                               (the rest of the record)

The layout is chosen so that delivering needs no decoding: the exchange/routing-key run
and the properties are sliced out of the record and framed.
"""

from __future__ import annotations

import struct
import time
from typing import cast

from lavinmq._ext import NO_EXTENSIONS
from lavinmq.amqp.events import Body
from lavinmq.amqp.frames import FRAME_HEADER_STRUCT
from lavinmq.amqp.large_body import RecordBuffer
from lavinmq.amqp.properties import peek_delivery_mode

Record = bytes | memoryview
"""A record on its way into a store: bytes, or a view of the ``RecordBuffer`` a large
body was received into (see ``record_in_place``). Records read back are bytes."""
_Q = struct.Struct(">Q")
_I = struct.Struct(">I")
_DELIVER_HEAD = b"\x00\x3c\x00\x3c"
_GET_OK_HEAD = b"\x00\x3c\x00\x47"
_RETURN_HEAD = b"\x00\x3c\x00\x32"
_TAG_FLAG = struct.Struct(">QB")
_CONTENT_HEAD = struct.Struct(">BHIHHQ")  # frame header + class, weight, body size
_BODY_HEAD = FRAME_HEADER_STRUCT
_FRAME_END = b"\xce"
_pack_frame = FRAME_HEADER_STRUCT.pack
LARGE_BODY = 64 * 1024
"""Bodies larger than this are framed as views of the record rather than copied."""


def shortstr(value: str) -> bytes:
    """Length-prefixed UTF-8 (callers validate the 255-byte limit)."""
    data = value.encode()
    return bytes((len(data),)) + data


def encode_record(exchange_rk: bytes, properties: bytes, body: Body, timestamp: int = 0) -> Record:
    """Build a record; ``exchange_rk`` is shortstr(exchange) + shortstr(routing key)."""
    ts = timestamp or int(time.time() * 1000)
    return _record(_Q.pack(ts) + exchange_rk, properties, body)


def _record(head: bytes, properties: bytes, body: Body) -> Record:
    """``head`` (timestamp, exchange and routing key) + properties + body: built around a
    received large body where it lies (``record_in_place``), else joined."""
    if type(body) is memoryview:
        record = record_in_place(head, properties, body)
        if record is not None:
            return record
    return b"".join((head, _I.pack(len(properties)), properties, body))


def record_in_place(head: bytes, properties: bytes, body: memoryview) -> memoryview | None:
    """The record of a body received into a ``RecordBuffer``, built around it.

    ``head`` is the timestamp and exchange/routing-key run. The codec left room for it
    and the properties in front of the body (``lavinmq.amqp.large_body``): writing them
    there makes the record without copying a large body once more. None when ``body``
    is not such a buffer's tail.
    """
    buf = body.obj
    if type(buf) is not RecordBuffer:
        return None
    start = buf.start
    if len(body) != len(buf) - start:
        return None  # a slice of the body, not the body
    plen = len(properties)
    first = start - plen - 4 - len(head)
    if first < 0:
        return None
    buf[first : start - plen - 4] = head
    _I.pack_into(buf, start - plen - 4, plen)
    buf[start - plen : start] = properties
    return memoryview(buf)[first:]


def encode_records(
    exchange_rk: bytes, contents: list[Body], timestamp: int = 0
) -> tuple[list[Record], bool]:
    """Records for a batch; ``contents`` is ``[props0, body0, props1, body1, ...]``.

    Returns the records and whether any message is persistent (delivery_mode 2).
    """
    head = _Q.pack(timestamp or int(time.time() * 1000)) + exchange_rk
    records: list[Record] = []
    persistent = False
    for i in range(0, len(contents), 2):
        props = cast(bytes, contents[i])  # properties are always bytes
        if not persistent and props[0] & 0x10:
            persistent = peek_delivery_mode(props) == 2
        records.append(_record(head, props, contents[i + 1]))
    return records, persistent


class RecordView:
    """Offsets into a record, computed once; used off the hot path (API, DLX, TTL)."""

    __slots__ = ("body_start", "er_end", "props_start", "record")

    def __init__(self, record: bytes) -> None:
        self.record = record
        ex_end = 9 + record[8]
        self.er_end = ex_end + 1 + record[ex_end]
        self.props_start = self.er_end + 4
        self.body_start: int = self.props_start + _I.unpack_from(record, self.er_end)[0]

    @property
    def timestamp(self) -> int:
        return int(_Q.unpack_from(self.record, 0)[0])

    @property
    def exchange(self) -> str:
        return self.record[9 : 9 + self.record[8]].decode()

    @property
    def routing_key(self) -> str:
        start = 9 + self.record[8]
        return self.record[start + 1 : self.er_end].decode()

    @property
    def exchange_rk(self) -> bytes:
        return self.record[8 : self.er_end]

    @property
    def properties(self) -> bytes:
        return self.record[self.props_start : self.body_start]

    @property
    def body(self) -> bytes:
        return self.record[self.body_start :]

    @property
    def body_size(self) -> int:
        return len(self.record) - self.body_start


def deliver_frames(
    channel: int, ctag: bytes, delivery_tag: int, redelivered: bool, record: Record, frame_max: int
) -> list[bytes]:
    """Frames of a Basic.Deliver for ``record``; ``ctag`` is the shortstr-encoded tag.

    Hot path: slices the record instead of decoding it; for bodies that fit one frame the
    result is three byte strings ready for ``writelines``.
    """
    ex_end = 9 + record[8]
    er_end = ex_end + 1 + record[ex_end]
    plen = _I.unpack_from(record, er_end)[0]
    pstart = er_end + 4
    bstart = pstart + plen
    body_size = len(record) - bstart
    msize = 4 + len(ctag) + 9 + er_end - 8
    method = b"".join(
        (
            _pack_frame(1, channel, msize),
            _DELIVER_HEAD,
            ctag,
            _TAG_FLAG.pack(delivery_tag, redelivered),
            record[8:er_end],
            _FRAME_END,
        )
    )
    return _content(method, channel, record, pstart, bstart, body_size, frame_max)


def get_ok_frames(
    channel: int,
    delivery_tag: int,
    redelivered: bool,
    message_count: int,
    record: bytes,
    frame_max: int,
) -> list[bytes]:
    """Frames of a Basic.GetOk for ``record``."""
    ex_end = 9 + record[8]
    er_end = ex_end + 1 + record[ex_end]
    plen = _I.unpack_from(record, er_end)[0]
    pstart = er_end + 4
    bstart = pstart + plen
    msize = 4 + 9 + er_end - 8 + 4
    method = b"".join(
        (
            _pack_frame(1, channel, msize),
            _GET_OK_HEAD,
            _TAG_FLAG.pack(delivery_tag, redelivered),
            record[8:er_end],
            _I.pack(message_count),
            _FRAME_END,
        )
    )
    return _content(method, channel, record, pstart, bstart, len(record) - bstart, frame_max)


def return_frames(
    channel: int,
    reply_code: int,
    reply_text: str,
    exchange_rk: bytes,
    properties: bytes,
    body: Body,
    frame_max: int,
) -> list[bytes]:
    """Frames of a Basic.Return for an unroutable mandatory message."""
    text = shortstr(reply_text)
    msize = 4 + 2 + len(text) + len(exchange_rk)
    method = b"".join(
        (
            _pack_frame(1, channel, msize),
            _RETURN_HEAD,
            reply_code.to_bytes(2, "big"),
            text,
            exchange_rk,
            _FRAME_END,
        )
    )
    record = b"\x00" * 8 + exchange_rk + _I.pack(len(properties)) + properties + body
    pstart = 8 + len(exchange_rk) + 4
    return _content(method, channel, record, pstart, pstart + len(properties), len(body), frame_max)


def _content(
    method: bytes,
    channel: int,
    record: Record,
    pstart: int,
    bstart: int,
    body_size: int,
    frame_max: int,
) -> list[bytes]:
    header = b"".join(
        (
            _CONTENT_HEAD.pack(2, channel, 12 + bstart - pstart, 60, 0, body_size),
            record[pstart:bstart],
            _FRAME_END,
        )
    )
    if body_size == 0:
        return [method, header]
    chunk = frame_max - 8
    if body_size <= min(chunk, LARGE_BODY):
        return [method, header, _pack_frame(3, channel, body_size) + record[bstart:] + _FRAME_END]
    # Large bodies go out as views of the record, not copies: writelines hands them to
    # writev (1 MiB messages: one copy fewer per delivery).
    frames: list[bytes] = [method, header]
    view = memoryview(record)
    for start in range(bstart, len(record), chunk):
        part = view[start : start + chunk]
        frames += (_pack_frame(3, channel, len(part)), part, _FRAME_END)  # type: ignore[arg-type]
    return frames


def deliver_batch(
    channel: int,
    ctag: bytes,
    first_tag: int,
    records: list[Record],
    redelivered: list[bool],
    frame_max: int,
) -> bytes:
    """Basic.Deliver frames for a run of records, delivery tags from ``first_tag``."""
    return b"".join(
        b"".join(deliver_frames(channel, ctag, first_tag + i, redelivered[i], rec, frame_max))
        for i, rec in enumerate(records)
    )


encode_records_py = encode_records
deliver_batch_py = deliver_batch
if not NO_EXTENSIONS:
    try:
        from lavinmq.broker._cmessage import deliver_batch, encode_records
    except ImportError:  # not compiled: the pure-Python versions above are used
        pass
