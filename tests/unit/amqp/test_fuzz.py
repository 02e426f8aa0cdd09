"""Property tests: whatever a peer sends, the codec returns events and never raises.

Invariants checked on every input:
- ``receive_data`` never raises;
- a hard ``FrameRejected`` is the last event of its call, and every later call returns [];
- a soft ``FrameRejected`` names a non-zero channel;
- valid streams decode to exactly what was encoded, however they are chunked.
The field decoders either return or raise ``SyntaxError_`` (never struct.error,
IndexError, UnicodeDecodeError, OverflowError or RecursionError).
"""

from __future__ import annotations

import datetime
import decimal
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lavinmq.amqp import properties, spec, types
from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.errors import ERRORS_BY_CODE, HardError, SoftError, SyntaxError_
from lavinmq.amqp.events import Event, HeartbeatReceived
from lavinmq.amqp.frames import HEARTBEAT
from lavinmq.amqp.properties import BasicProperties

from .helpers import ARG_KINDS, channel_for, encode, expected, sent_by, split

FUZZ = settings(
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROLES = st.sampled_from([Role.SERVER, Role.CLIENT])

# --- value strategies ----------------------------------------------------------------

shortstr = st.text(max_size=40).filter(lambda s: len(s.encode()) <= 255)
keys = st.text(max_size=12).filter(lambda s: len(s.encode()) <= 255)
int_kinds = {"octet": 8, "short": 16, "long": 32, "longlong": 64, "timestamp": 64}
timestamps = st.datetimes(
    min_value=datetime.datetime(1970, 1, 1),
    max_value=datetime.datetime(9999, 12, 31, 23, 59, 59),
    timezones=st.just(datetime.UTC),
).map(lambda d: d.replace(microsecond=0))
decimals = st.builds(
    lambda raw, scale: decimal.Decimal(raw).scaleb(-scale),
    st.integers(types.INT32_MIN, types.INT32_MAX),
    st.integers(0, 255),
)
scalars = st.one_of(
    st.booleans(),
    st.integers(types.INT64_MIN, types.INT64_MAX),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.binary(max_size=30).map(bytearray),
    decimals,
    timestamps,
    st.none(),
)
field_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
tables = st.dictionaries(keys, field_values, max_size=6)


def _arg(kind: str) -> st.SearchStrategy[Any]:
    if kind in int_kinds:
        return st.integers(0, 2 ** int_kinds[kind] - 1)
    return {
        "bit": st.booleans(),
        "shortstr": shortstr,
        "longstr": st.binary(max_size=60),
        "table": tables,
    }[kind]


def methods_of(cls: type[spec.Method]) -> st.SearchStrategy[spec.Method]:
    return st.builds(cls, **{name: _arg(kind) for name, kind in ARG_KINDS[cls]})


property_values = st.builds(
    BasicProperties,
    **{
        name: st.none()
        | (
            shortstr
            if kind == "shortstr"
            else tables
            if kind == "table"
            else st.integers(0, 255)
            if kind == "octet"
            else st.integers(0, 2**64 - 1)
        )
        for name, _, kind in properties.FIELDS
    },
)


@st.composite
def messages(draw: st.DrawFn, sender: Role) -> tuple[bytes, Event]:
    """One encoded message a ``sender`` may send, and the event it must decode to."""
    if draw(st.integers(0, 9)) == 0:
        return HEARTBEAT, HeartbeatReceived()
    cls = draw(st.sampled_from(sent_by(sender)))
    method = draw(methods_of(cls))
    channel = channel_for(cls, draw(st.integers(1, 65535)))
    props, body = properties.EMPTY, b""
    if cls.CONTENT:
        props = draw(property_values).encode()
        body = draw(st.binary(max_size=3000))
    frame_max = draw(st.sampled_from([4096, 5000, 131072]))
    return encode(channel, method, props, body, frame_max), expected(channel, method, props, body)


@st.composite
def sessions(draw: st.DrawFn) -> tuple[Role, bytes, list[Event]]:
    """A receiving role, a valid byte stream for it, and the events it must produce."""
    role = draw(ROLES)
    sender = Role.CLIENT if role is Role.SERVER else Role.SERVER
    parts = draw(st.lists(messages(sender), min_size=1, max_size=8))
    data = b"".join(d for d, _ in parts)
    return role, data, [e for _, e in parts]


def new_codec(role: Role) -> AMQPConnection:
    conn = AMQPConnection(role, frame_max=131072, max_body_size=2000)
    if role is Role.SERVER:
        conn.receive_data(PROTOCOL_HEADER)
    return conn


def check_invariants(conn: AMQPConnection, chunks: list[bytes]) -> list[Event]:
    """Feed ``chunks`` and assert the rejection invariants; return all events."""
    out: list[Event] = []
    failed = False
    for chunk in chunks:
        events = conn.receive_data(chunk)
        if failed:
            assert events == []
        for i, event in enumerate(events):
            if not isinstance(event, FrameRejected):
                continue
            assert ERRORS_BY_CODE[event.error.reply_code] is type(event.error)
            if isinstance(event.error, SoftError):
                assert event.channel != 0
            else:
                assert isinstance(event.error, HardError)
                assert event.channel == 0
                assert i == len(events) - 1, events
                failed = True
        out += events
    return out


# --- AMQPConnection ----------------------------------------------------------------


@FUZZ
@given(role=ROLES, data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_random_bytes_never_raise(role: Role, data: bytes, cuts: list[int]) -> None:
    check_invariants(AMQPConnection(role), split(data, cuts))


@FUZZ
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8), role=ROLES)
def test_random_frames_after_the_header_never_raise(
    data: bytes, cuts: list[int], role: Role
) -> None:
    check_invariants(new_codec(role), split(data, cuts))


@FUZZ
@given(
    body=st.binary(max_size=200),
    frame_type=st.sampled_from([1, 2, 3, 8]),
    channel=st.sampled_from([0, 1, 2]),
    role=ROLES,
)
def test_well_framed_random_payloads_never_raise(
    body: bytes, frame_type: int, channel: int, role: Role
) -> None:
    """Random payloads in valid frames reach the method/header/body decoders."""
    data = struct.pack(">BHI", frame_type, channel, len(body)) + body + b"\xce"
    check_invariants(new_codec(role), [data])


@FUZZ
@given(session=sessions(), cuts=st.lists(st.integers(0, 30_000), max_size=10))
def test_valid_streams_decode_exactly_however_chunked(
    session: tuple[Role, bytes, list[Event]], cuts: list[int]
) -> None:
    role, data, want = session
    conn = AMQPConnection(role, frame_max=131072)
    if role is Role.SERVER:
        conn.receive_data(PROTOCOL_HEADER)
    got = check_invariants(conn, split(data, cuts))
    assert got == want


@FUZZ
@given(
    session=sessions(),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete"]),
            st.integers(0, 30_000),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=4,
    ),
    truncate=st.integers(0, 30_000),
    cuts=st.lists(st.integers(0, 30_000), max_size=6),
)
def test_mutated_streams_never_raise(
    session: tuple[Role, bytes, list[Event]],
    edits: list[tuple[str, int, int]],
    truncate: int,
    cuts: list[int],
) -> None:
    role, data, _ = session
    buf = bytearray(data)
    for op, pos, value in edits:
        pos %= len(buf) + 1
        if op == "insert":
            buf.insert(pos, value)
        elif buf and pos < len(buf):
            if op == "flip":
                buf[pos] ^= value or 0xFF
            else:
                del buf[pos]
    mutated = bytes(buf[: max(truncate, len(buf) // 2)])
    check_invariants(new_codec(role), split(mutated, cuts))


# --- field decoders -----------------------------------------------------------------


def _decodes_or_syntax_error(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except SyntaxError_:
        pass


def _mutate(data: bytes, pos: int, value: int) -> bytes:
    if not data:
        return bytes((value,))
    pos %= len(data)
    return data[:pos] + bytes((value,)) + data[pos + 1 :]


@FUZZ
@given(data=st.binary(max_size=200), offset=st.integers(0, 8))
def test_decode_table_of_random_bytes(data: bytes, offset: int) -> None:
    _decodes_or_syntax_error(types.decode_table, data, offset)
    _decodes_or_syntax_error(types.decode_table, memoryview(data), offset)
    _decodes_or_syntax_error(types.decode_value, data, offset)


@FUZZ
@given(
    table=tables, pos=st.integers(0, 10_000), value=st.integers(0, 255), cut=st.integers(0, 10_000)
)
def test_decode_table_of_mutated_tables(
    table: dict[str, Any], pos: int, value: int, cut: int
) -> None:
    data = types.encode_table(table)
    _decodes_or_syntax_error(types.decode_table, _mutate(data, pos, value), 0)
    _decodes_or_syntax_error(types.decode_table, data[: cut % (len(data) + 1)], 0)


@FUZZ
@given(data=st.binary(max_size=200))
def test_properties_decode_of_random_bytes(data: bytes) -> None:
    _decodes_or_syntax_error(BasicProperties.decode, data)
    _decodes_or_syntax_error(properties.validate, data)


@FUZZ
@given(
    props=property_values,
    pos=st.integers(0, 10_000),
    value=st.integers(0, 255),
    cut=st.integers(0, 10_000),
)
def test_properties_decode_of_mutated_properties(
    props: BasicProperties, pos: int, value: int, cut: int
) -> None:
    data = props.encode()
    _decodes_or_syntax_error(BasicProperties.decode, _mutate(data, pos, value))
    _decodes_or_syntax_error(properties.validate, data[: cut % (len(data) + 1)])


# --- round trips ----------------------------------------------------------------------


@FUZZ
@given(table=tables)
def test_tables_round_trip(table: dict[str, Any]) -> None:
    data = types.encode_table(table)
    assert types.decode_table(data, 0) == (table, len(data))


@FUZZ
@given(props=property_values)
def test_properties_round_trip(props: BasicProperties) -> None:
    data = props.encode()
    assert BasicProperties.decode(data) == props
    properties.validate(data)
    assert properties.peek_delivery_mode(data) == (props.delivery_mode or 0)
    assert properties.peek_priority(data) == (props.priority or 0)
    assert properties.peek_expiration(data) == props.expiration
    assert properties.peek_user_id(data) == props.user_id
    assert properties.peek_headers(data) == props.headers
