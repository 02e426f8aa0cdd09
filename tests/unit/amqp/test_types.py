"""Field tables, strings and properties: limits and malformed input."""

from __future__ import annotations

import datetime
import decimal
import struct
from typing import Any

import pytest

from lavinmq.amqp import spec, types
from lavinmq.amqp.connection import FrameRejected, Role
from lavinmq.amqp.errors import SyntaxError_
from lavinmq.amqp.events import ContentReceived, MethodReceived
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import (
    EMPTY,
    BasicProperties,
    peek_delivery_mode,
    peek_expiration,
    peek_headers,
    peek_priority,
    peek_user_id,
    property_flags,
    validate,
)

from .helpers import codec

UTC = datetime.UTC


def nested_tables(depth: int) -> bytes:
    """An encoded table holding a table holding ... ``depth`` levels below the top.

    Built front to back (each level is 7 bytes: key, tag, length) so 100k levels are cheap.
    """
    levels = (b"\x01kF" + struct.pack(">I", 7 * (depth - 1 - i)) for i in range(depth))
    return struct.pack(">I", 7 * depth) + b"".join(levels)


def nested_arrays(depth: int) -> bytes:
    """An encoded table {"k": [[[...[None]...]]]} with ``depth`` arrays (5 bytes each)."""
    levels = (b"A" + struct.pack(">I", 5 * (depth - 1 - i) + 1) for i in range(depth))
    payload = b"\x01k" + b"".join(levels) + b"V"
    return struct.pack(">I", len(payload)) + payload


def headers_props(table: bytes) -> bytes:
    return b"\x20\x00" + table  # flag word: headers only


# --- nesting ------------------------------------------------------------------------


def test_nesting_up_to_the_limit_decodes() -> None:
    value, end = types.decode_table(nested_tables(types.MAX_NESTING), 0)
    assert end == len(nested_tables(types.MAX_NESTING))
    for _ in range(types.MAX_NESTING):
        value = value["k"]
    assert value == {}
    assert types.decode_table(nested_arrays(types.MAX_NESTING), 0)[0]["k"][0][0] is not None


@pytest.mark.parametrize("build", [nested_tables, nested_arrays])
@pytest.mark.parametrize("depth", [types.MAX_NESTING + 1, 5000, 100_000])
def test_deeper_nesting_is_a_syntax_error_not_a_recursion_error(build: Any, depth: int) -> None:
    with pytest.raises(SyntaxError_, match="nested deeper than 100"):
        types.decode_table(build(depth), 0)


def test_deep_nesting_in_a_value() -> None:
    data = b"F" + nested_tables(types.MAX_NESTING + 1)
    with pytest.raises(SyntaxError_, match="nested deeper"):
        types.decode_value(data, 0)


def test_deep_headers_close_the_connection_with_syntax_error() -> None:
    props = headers_props(nested_tables(20_000))
    data = method_frame(1, spec.BasicPublish()) + b"".join(content_frames(1, b"x", props, 1 << 20))
    events = codec(Role.SERVER, frame_max=1 << 20).receive_data(data)
    assert len(events) == 1
    assert isinstance(events[0], FrameRejected)
    assert isinstance(events[0].error, SyntaxError_)


def test_deep_arguments_name_the_method() -> None:
    payload = spec.QueueDeclare(queue="q").encode()[:-4] + nested_arrays(20_000)
    data = struct.pack(">BHI", 1, 1, len(payload)) + payload + b"\xce"
    (event,) = codec(Role.SERVER, frame_max=1 << 20).receive_data(data)
    assert isinstance(event, FrameRejected)
    assert isinstance(event.error, SyntaxError_)
    assert (event.error.class_id, event.error.method_id) == (50, 10)


# --- timestamps -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "value"),
    [
        (0, datetime.datetime(1970, 1, 1, tzinfo=UTC)),
        (253402300799, datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (253402300800, 253402300800),  # year 10000: kept as a number
        (1_700_000_000_000, 1_700_000_000_000),  # milliseconds, as some clients send
        (2**64 - 1, 2**64 - 1),
    ],
)
def test_timestamps_past_year_9999_decode_as_seconds(seconds: int, value: Any) -> None:
    data = b"T" + struct.pack(">Q", seconds)
    assert types.decode_value(data, 0) == (value, 9)


def test_publish_with_a_millisecond_timestamp_header_is_accepted() -> None:
    """RabbitMQ takes any uint64 timestamp; rejecting one would close the connection."""
    table = b"\x00\x00\x00\x0c\x02tsT" + struct.pack(">Q", 1_700_000_000_000)
    props = headers_props(table)
    data = method_frame(1, spec.BasicPublish()) + b"".join(content_frames(1, b"x", props))
    assert codec(Role.SERVER).receive_data(data) == [
        ContentReceived(1, spec.BasicPublish(), props, b"x")
    ]
    assert peek_headers(props) == {"ts": 1_700_000_000_000}


def test_timestamp_encoding() -> None:
    naive = datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert types.encode_value(naive) == types.encode_value(naive.replace(tzinfo=UTC))
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert types.encode_value(
        datetime.datetime(2024, 1, 2, 4, 4, 5, tzinfo=paris)
    ) == types.encode_value(naive)
    with pytest.raises(ValueError, match="before the epoch"):
        types.encode_value(datetime.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC))


# --- strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"", 0), (b"\x05abc", 0), (b"\x01a", 2), (b"\x02\xff\xfe", 0), (b"\x01\x80", 0)],
)
def test_bad_shortstr_is_syntax_error(data: bytes, offset: int) -> None:
    with pytest.raises(SyntaxError_, match="shortstr"):
        types.decode_shortstr(data, offset)


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"", 0), (b"\x00\x00\x00", 0), (b"\x00\x00\x00\x05abcd", 0), (b"\x00\x00\x00\x00", 1)],
)
def test_bad_longstr_is_syntax_error(data: bytes, offset: int) -> None:
    with pytest.raises(SyntaxError_, match="longstr"):
        types.decode_longstr(data, offset)


def test_shortstr_limit() -> None:
    assert types.encode_shortstr("é" * 127 + "x")[0] == 255
    with pytest.raises(ValueError, match="256 > 255"):
        types.encode_shortstr("é" * 128)


def test_longstr_in_a_table_that_is_not_utf8_stays_bytes() -> None:
    data = b"S\x00\x00\x00\x02\xff\xfe"
    assert types.decode_value(data, 0) == (b"\xff\xfe", 7)
    assert types.encode_value(b"\xff\xfe") == data


# --- tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00",
        b"\x00\x00\x00\x05\x01kZ\x00\x00",  # unknown tag
        b"\x00\x00\x00\x03\x01kI",  # value overruns the table
        b"\x00\x00\x00\x09\x01kI\x00\x00\x00\x01",  # table longer than the buffer
        b"\x00\x00\x00\x02\x05k",  # key overruns
        b"\x00\x00\x00\x03\x01\xffV",  # key not UTF-8
        b"\x00\x00\x00\x08\x01kF\x00\x00\x00\x05",  # nested table overruns its parent
        b"\x00\x00\x00\x08\x01kA\x00\x00\x00\x01",  # array overruns the buffer
        b"\x00\x00\x00\x09\x01kA\x00\x00\x00\x01I",  # array item overruns the array
        b"\x00\x00\x00\x05\x01kD\x02",  # truncated decimal
        b"\x00\x00\x00\x04\x01kx\x00",  # truncated byte array length
        b"\x00\x00\x00\x07\x01kx\x00\x00\x00\x09",  # byte array overruns
        b"\x00\x00\x00\x07\x01kS\x00\x00\x00\x09",  # long string overruns
        b"\x00\x00\x00\x03\x01kt",  # truncated bool
    ],
)
def test_malformed_tables_are_syntax_errors(data: bytes) -> None:
    with pytest.raises(SyntaxError_):
        types.decode_table(data, 0)


def test_table_keeps_wire_order_and_reads_at_an_offset() -> None:
    table = {"z": 1, "a": [2, {"m": None}], "é": "ü"}
    data = b"prefix" + types.encode_table(table)
    decoded, end = types.decode_table(memoryview(data), 6)
    assert (decoded, end) == (table, len(data))
    assert list(decoded) == ["z", "a", "é"]


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        (True, b"t"),
        (2**31 - 1, b"I"),
        (-(2**31), b"I"),
        (2**31, b"l"),
        (-(2**31) - 1, b"l"),
        (0.5, b"d"),
        ("s", b"S"),
        (b"raw", b"S"),
        (memoryview(b"raw"), b"S"),
        (bytearray(b"x"), b"x"),
        (decimal.Decimal("1.5"), b"D"),
        (datetime.datetime(2000, 1, 1, tzinfo=UTC), b"T"),
        ([1], b"A"),
        ((1, 2), b"A"),
        ({"a": 1}, b"F"),
        (None, b"V"),
    ],
)
def test_encode_value_tags(value: Any, tag: bytes) -> None:
    assert types.encode_value(value)[:1] == tag


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (2**63, ValueError, "signed 64-bit"),
        (-(2**63) - 1, ValueError, "signed 64-bit"),
        (decimal.Decimal("1e-256"), ValueError, "does not fit"),
        (decimal.Decimal(2**31), ValueError, "does not fit"),
        (decimal.Decimal("NaN"), ValueError, "cannot encode decimal"),
        (object(), TypeError, "cannot encode object"),
        ({1, 2}, TypeError, "cannot encode set"),
    ],
)
def test_encode_value_rejects(value: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        types.encode_value(value)


def test_decimal_bounds_round_trip() -> None:
    for text in ("2147483647", "-2147483648", "0." + "0" * 254 + "1", "1E+5"):
        value = decimal.Decimal(text)
        data = types.encode_value(value)
        assert types.decode_value(data, 0) == (value, 6)


# --- properties ---------------------------------------------------------------------

FULL = BasicProperties(
    content_type="application/json",
    content_encoding="gzip",
    headers={"x-death": [{"count": 1, "queue": "q"}]},
    delivery_mode=2,
    priority=9,
    correlation_id="c",
    reply_to="r",
    expiration="1000",
    message_id="m",
    timestamp=1_700_000_000,
    type="t",
    user_id="guest",
    app_id="a",
    cluster_id="",
)


def test_peek_helpers_read_raw_properties() -> None:
    raw = FULL.encode()
    assert property_flags(raw) == 0xFFFC
    assert peek_delivery_mode(raw) == 2
    assert peek_priority(raw) == 9
    assert peek_expiration(raw) == "1000"
    assert peek_user_id(raw) == "guest"
    assert peek_headers(raw) == {"x-death": [{"count": 1, "queue": "q"}]}
    validate(raw)


def test_peek_helpers_on_absent_fields() -> None:
    for raw in (EMPTY, BasicProperties(content_type="x", app_id="y").encode()):
        assert (peek_delivery_mode(raw), peek_priority(raw)) == (0, 0)
        assert peek_expiration(raw) is None
        assert peek_user_id(raw) is None
        assert peek_headers(raw) is None


def test_empty_strings_are_present_properties() -> None:
    """Unlike pamqp, an empty string is sent (flag set), so it survives a round trip."""
    props = BasicProperties(cluster_id="", expiration="")
    raw = props.encode()
    assert property_flags(raw) == 0x0104
    assert BasicProperties.decode(raw) == props
    assert peek_expiration(raw) == ""


def test_to_dict_has_present_fields_only() -> None:
    assert BasicProperties(priority=0, type="t").to_dict() == {"priority": 0, "type": "t"}


def test_validate_rejects_trailing_bytes() -> None:
    with pytest.raises(SyntaxError_, match="length mismatch"):
        validate(FULL.encode() + b"\x00")


def test_decode_at_an_offset_ignores_what_follows() -> None:
    assert BasicProperties.decode(b"ab" + FULL.encode() + b"tail", 2) == FULL


def test_method_with_every_table_type_round_trips_through_the_codec() -> None:
    args = {
        "bool": False,
        "int": -7,
        "long": 2**40,
        "float": 2.5,
        "str": "s",
        "bytes": bytearray(b"\x00"),
        "decimal": decimal.Decimal("-0.5"),
        "ts": datetime.datetime(2030, 1, 1, tzinfo=UTC),
        "list": [None, [], {}],
        "table": {"x": {"y": "z"}},
        "void": None,
    }
    method = spec.ExchangeDeclare(exchange="e", type="headers", durable=True, arguments=args)
    assert codec(Role.SERVER).receive_data(method_frame(3, method)) == [MethodReceived(3, method)]
