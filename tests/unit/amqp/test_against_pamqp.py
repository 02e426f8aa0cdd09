"""pamqp 4 as the oracle: our encoder must be byte-identical, and we must decode its frames.

pamqp's ``validate()`` enforces client policy (deprecated fields must be empty, name
regexes, delivery_mode 1/2), not the wire format, so the ``pamqp_unchecked`` fixture turns
it off: this suite compares bytes, and every argument gets a non-default value.

Where the two codecs legitimately differ, the tests compare values, not bytes:
- integers in tables: pamqp picks the smallest tag (b/s/u/I/i/l), we write I or l;
- floats in tables: pamqp writes ``f`` (single), we write ``d`` (double);
- table keys: pamqp sorts them, we keep insertion order (so byte tests use sorted keys);
- properties: pamqp drops empty strings, we send them (so byte tests use non-empty ones);
- decimals: pamqp decodes the mantissa unsigned (it encodes it signed), we read signed;
- ``T`` over 2**32: pamqp guesses milliseconds, we read seconds.
"""

from __future__ import annotations

import datetime
import decimal
import math
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from pamqp import base, body, commands, decode, encode, frame, header, heartbeat

from lavinmq.amqp import spec, types
from lavinmq.amqp.connection import FrameRejected, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.events import ContentReceived, MethodReceived
from lavinmq.amqp.frames import HEARTBEAT, content_frames, method_frame
from lavinmq.amqp.properties import FIELDS, BasicProperties

from .helpers import ALL_METHODS, ARG_KINDS, channel_for, codec, fields

# pamqp warns when it builds Basic.RecoverAsync; that is its opinion, not a test failure.
pytestmark = pytest.mark.filterwarnings("ignore:This command is deprecated:DeprecationWarning")
UTC = datetime.UTC
# 255 bytes of UTF-8 with multi-byte characters: the shortstr upper bound.
SHORTSTR_MAX = "ü" * 127 + "x"
LONGSTR = "long ✓ string " * 100
# Values whose table encoding is the same in both codecs (see the module docstring).
METHOD_TABLE: dict[str, Any] = {
    "array": [
        100_000,
        "nested",
        {"deep": {"deeper": [None, True]}},
        bytearray(b"\x00\xff"),
        [],
        {},
    ],
    "bool": True,
    "bytes": bytearray(b"\x00\x01\xfe\xff"),
    "decimal": decimal.Decimal("3.14159"),
    "false": False,
    "int32": -(2**31),
    "int64": 2**63 - 1,
    "int64neg": -(2**63),
    "nested": {"a": "b", "empty": {}, "list": []},
    "str": "ünïcødé ✓",
    "timestamp": datetime.datetime(2024, 2, 29, 12, 0, 1, tzinfo=UTC),
    "void": None,
}
# pamqp encodes longlong as signed, so 2**63 - 1 is the top it agrees on; the unsigned top
# half is checked by test_longlong_is_unsigned.
INT_BOUNDS = {"octet": 0xFF, "short": 0xFFFF, "long": 0xFFFF_FFFF, "longlong": 2**63 - 1}
# The two methods RabbitMQ's JSON keeps but pamqp 4 dropped, as pamqp frame classes built
# from the spec (pamqp's own marshal/unmarshal code then encodes them).
_MISSING_IN_PAMQP = {
    0x001E000A: ("Access.Request", 10),
    0x001E000B: ("Access.RequestOk", 11),
}


def _pamqp_class(cls: type[spec.Method]) -> type[base.Frame]:
    if cls.INDEX in commands.INDEX_MAPPING:
        return commands.INDEX_MAPPING[cls.INDEX]
    name, frame_id = _MISSING_IN_PAMQP[cls.INDEX]
    attrs: dict[str, Any] = {
        "__slots__": [n for n, _ in ARG_KINDS[cls]],
        "frame_id": frame_id,
        "index": cls.INDEX,
        "name": name,
    }
    attrs.update({f"_{n}": kind for n, kind in ARG_KINDS[cls]})
    return type(name.replace(".", ""), (base.Frame,), attrs)


PAMQP_CLASSES = {cls: _pamqp_class(cls) for cls in ALL_METHODS}


@pytest.fixture
def pamqp_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    for pcls in PAMQP_CLASSES.values():
        monkeypatch.setattr(pcls, "validate", lambda self: None)
        monkeypatch.setitem(commands.INDEX_MAPPING, pcls.index, pcls)


# --- building the same method in both libraries -------------------------------------


def _value(kind: str, variant: str, bit: bool) -> Any:
    if kind == "bit":
        return bit
    if kind in INT_BOUNDS:
        return {"max": INT_BOUNDS[kind], "min": 0, "mid": INT_BOUNDS[kind] // 3}[variant]
    if kind == "shortstr":
        return {"max": SHORTSTR_MAX, "min": "", "mid": "amq.topic"}[variant]
    if kind == "longstr":
        return {"max": LONGSTR, "min": "", "mid": "\x00PLAIN\x00guest"}[variant].encode()
    assert kind == "table"
    return {"max": METHOD_TABLE, "min": {}, "mid": {"x-max-length": 100_000}}[variant]


def _bit_patterns(nbits: int) -> Iterator[tuple[str, tuple[bool, ...]]]:
    yield "all", (True,) * nbits
    yield "none", (False,) * nbits
    yield "alternate", tuple(i % 2 == 0 for i in range(nbits))
    if nbits > 1:
        for i in range(nbits):
            yield f"only{i}", tuple(j == i for j in range(nbits))


def _cases() -> Iterator[Any]:
    for cls in ALL_METHODS:
        nbits = sum(kind == "bit" for _, kind in ARG_KINDS[cls])
        for variant in ("max", "min", "mid"):
            for label, bits in _bit_patterns(nbits) if nbits else [("", ())]:
                if label and label != "all" and variant != "mid":
                    continue
                case_id = "-".join(filter(None, (cls.NAME, variant, label)))
                yield pytest.param(cls, variant, bits, id=case_id)


def build(cls: type[spec.Method], variant: str, bits: tuple[bool, ...]) -> spec.Method:
    kwargs, b = {}, iter(bits)
    for name, kind in ARG_KINDS[cls]:
        kwargs[name] = _value(kind, variant, next(b) if kind == "bit" else False)
    return cls(**kwargs)


def _pamqp_name(name: str) -> str:
    return "exchange_type" if name == "type" else name


def to_pamqp(method: spec.Method) -> base.Frame:
    pcls = PAMQP_CLASSES[type(method)]
    obj = pcls.__new__(pcls)
    for f in fields(method):
        value = getattr(method, f.name)
        # pamqp models longstr as str (it decodes to str when the bytes are UTF-8).
        setattr(obj, _pamqp_name(f.name), value.decode() if isinstance(value, bytes) else value)
    return obj


def from_pamqp(cls: type[spec.Method], obj: base.Frame) -> spec.Method:
    kwargs = {}
    for f in fields(cls):
        value = getattr(obj, _pamqp_name(f.name))
        kwargs[f.name] = value.encode() if f.type == "bytes" and isinstance(value, str) else value
    return cls(**kwargs)


def _pamqp_content(channel: int) -> tuple[bytes, bytes, bytes]:
    """pamqp's header + body frames, the raw properties and the body they carry."""
    props = commands.Basic.Properties(content_type="text/plain", headers={"k": "v"})
    payload = b"payload \xff\x00"
    data = frame.marshal(header.ContentHeader(0, len(payload), props), channel)
    data += frame.marshal(body.ContentBody(payload), channel)
    return data, props.marshal(), payload


# --- methods ----------------------------------------------------------------------------


@pytest.mark.usefixtures("pamqp_unchecked")
@pytest.mark.parametrize(("cls", "variant", "bits"), list(_cases()))
def test_method_frame_is_byte_identical(
    cls: type[spec.Method], variant: str, bits: tuple[bool, ...]
) -> None:
    method = build(cls, variant, bits)
    for channel in {channel_for(cls), channel_for(cls, 65535)}:
        assert method_frame(channel, method) == frame.marshal(to_pamqp(method), channel)


@pytest.mark.usefixtures("pamqp_unchecked")
@pytest.mark.parametrize(("cls", "variant", "bits"), list(_cases()))
def test_pamqp_decodes_our_method(
    cls: type[spec.Method], variant: str, bits: tuple[bool, ...]
) -> None:
    method = build(cls, variant, bits)
    data = method_frame(channel_for(cls, 7), method)
    consumed, channel, obj = frame.unmarshal(data)
    assert (consumed, channel) == (len(data), channel_for(cls, 7))
    assert isinstance(obj, PAMQP_CLASSES[cls])
    assert from_pamqp(cls, obj) == method


@pytest.mark.usefixtures("pamqp_unchecked")
@pytest.mark.parametrize(("cls", "variant", "bits"), list(_cases()))
def test_we_decode_pamqp_method(
    cls: type[spec.Method], variant: str, bits: tuple[bool, ...]
) -> None:
    method = build(cls, variant, bits)
    channel = channel_for(cls, 65535)
    data = frame.marshal(to_pamqp(method), channel)
    if cls.CONTENT:
        content, props, payload = _pamqp_content(channel)
        data += content
        want: object = ContentReceived(channel, method, props, payload)
    else:
        want = MethodReceived(channel, method)
    roles = [r for r, ok in ((Role.SERVER, cls.FROM_CLIENT), (Role.CLIENT, cls.FROM_SERVER)) if ok]
    assert roles
    for role in roles:
        assert codec(role).receive_data(data) == [want]


def test_longlong_is_unsigned() -> None:
    """Delivery tags are unsigned 64-bit (pamqp stops at 2**63 - 1)."""
    method = spec.BasicAck(delivery_tag=2**64 - 1, multiple=True)
    data = method_frame(1, method)
    assert data == struct.pack(">BHIHHQB", 1, 1, 13, 60, 80, 2**64 - 1, 1) + b"\xce"
    assert codec(Role.SERVER).receive_data(data) == [MethodReceived(1, method)]


def test_every_method_has_a_pamqp_counterpart() -> None:
    """The oracle covers the whole spec: same indexes, same argument names and types."""
    assert len(ALL_METHODS) == 66
    for cls in ALL_METHODS:
        pcls = PAMQP_CLASSES[cls]
        assert [_pamqp_name(f.name) for f in fields(cls)] == list(pcls.__slots__)
        assert [kind for _, kind in ARG_KINDS[cls]] == [pcls.amqp_type(a) for a in pcls.__slots__]
        if cls.INDEX in commands.INDEX_MAPPING:
            assert cls.NAME == pcls.name
            assert cls.SYNCHRONOUS == pcls.synchronous


def test_method_defaults_match_pamqp() -> None:
    """Our defaults are the spec's defaults, as pamqp has them (longstr as bytes)."""
    for cls in ALL_METHODS:
        if cls.INDEX not in commands.INDEX_MAPPING:
            continue
        theirs = commands.INDEX_MAPPING[cls.INDEX]()
        ours = cls()
        for f in fields(cls):
            value = getattr(theirs, _pamqp_name(f.name))
            # pamqp has no default for some arguments, and wants "0" in two reserved ones
            # (RabbitMQ's spec and server use "")
            if value is not None and f.name not in {"out_of_band", "channel_id"}:
                want = value.encode() if isinstance(value, str) and f.type == "bytes" else value
                assert getattr(ours, f.name) == want, (cls.NAME, f.name)


# --- field tables -----------------------------------------------------------------------

_TS = datetime.datetime(2106, 2, 7, 6, 28, 15, tzinfo=UTC)  # 2**32 - 1 seconds
# (tag, bytes as pamqp encodes them, the value we must decode). pamqp never writes B or L
# or d (it picks b/s/l and f), so those are built from pamqp's per-type encoders.
TAGGED: list[tuple[str, bytes, Any]] = [
    ("t", encode.encode_table_value(True), True),
    ("t", encode.encode_table_value(False), False),
    ("b", encode.encode_table_value(-128), -128),
    ("b", encode.encode_table_value(127), 127),
    ("B", b"B" + encode.octet(255), 255),
    ("s", encode.encode_table_value(-32768), -32768),
    ("s", encode.encode_table_value(32767), 32767),
    ("u", encode.encode_table_value(65535), 65535),
    ("I", encode.encode_table_value(-(2**31)), -(2**31)),
    ("I", encode.encode_table_value(2**31 - 1), 2**31 - 1),
    ("i", encode.encode_table_value(2**32 - 1), 2**32 - 1),
    ("l", encode.encode_table_value(-(2**63)), -(2**63)),
    ("l", encode.encode_table_value(2**63 - 1), 2**63 - 1),
    ("L", b"L" + encode.long_long_int(2**63 - 1), 2**63 - 1),
    ("f", encode.encode_table_value(1.5), 1.5),
    ("f", encode.encode_table_value(-0.25), -0.25),
    ("d", b"d" + encode.double(math.pi), math.pi),
    ("d", b"d" + encode.double(-1e300), -1e300),
    ("D", encode.encode_table_value(decimal.Decimal("3.14159")), decimal.Decimal("3.14159")),
    ("D", encode.encode_table_value(decimal.Decimal("-1.25")), decimal.Decimal("-1.25")),
    ("D", encode.encode_table_value(decimal.Decimal("42")), decimal.Decimal("42")),
    ("S", encode.encode_table_value("ünïcødé ✓"), "ünïcødé ✓"),
    ("S", encode.encode_table_value(""), ""),
    ("x", encode.encode_table_value(bytearray(b"\x00\xff\x80")), bytearray(b"\x00\xff\x80")),
    ("T", encode.encode_table_value(_TS), _TS),
    (
        "T",
        encode.encode_table_value(datetime.datetime(1970, 1, 1, tzinfo=UTC)),
        datetime.datetime(1970, 1, 1, tzinfo=UTC),
    ),
    (
        "A",
        encode.encode_table_value([1, "a", [True, None], {"k": 2}]),
        [1, "a", [True, None], {"k": 2}],
    ),
    ("A", encode.encode_table_value([]), []),
    (
        "F",
        encode.encode_table_value({"a": {"b": {"c": 1}}, "e": {}}),
        {"a": {"b": {"c": 1}}, "e": {}},
    ),
    ("V", encode.encode_table_value(None), None),
]


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal Python types, recursively (1 == True would hide a bug)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_every_tag_is_covered() -> None:
    assert {tag for tag, _, _ in TAGGED} == set("tbBsuIilLfdDSxTAFV")


@pytest.mark.parametrize(
    ("tag", "data", "value"), TAGGED, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(TAGGED)]
)
def test_we_decode_pamqp_value(tag: str, data: bytes, value: Any) -> None:
    assert data[:1] == tag.encode()
    decoded, end = types.decode_value(data, 0)
    assert end == len(data)
    assert _same(decoded, value)
    # the same bytes as a table entry, at a non-zero offset, from a memoryview
    payload = encode.short_string("key") + data
    table = b"junk" + encode.long_uint(len(payload)) + payload
    decoded_table, end = types.decode_table(memoryview(table), 4)
    assert end == len(table)
    assert _same(decoded_table, {"key": value})


def test_we_decode_pamqp_table_with_every_tag() -> None:
    payload = b"".join(
        encode.short_string(f"{tag}{i}") + data for i, (tag, data, _) in enumerate(TAGGED)
    )
    data = struct.pack(">I", len(payload)) + payload
    want = {f"{tag}{i}": value for i, (tag, _, value) in enumerate(TAGGED)}
    decoded, end = types.decode_table(data, 0)
    assert end == len(data)
    assert _same(decoded, want)
    assert list(decoded) == list(want)  # wire order is kept


def test_pamqp_decodes_our_table() -> None:
    ours = {
        "bool": False,
        "small": -5,
        "short": 30000,
        "int32": -(2**31),
        "uint32": 2**32 - 1,
        "int64": -(2**63),
        "float": 0.1,
        "decimal": decimal.Decimal("123.456"),
        "str": "ünïcødé ✓",
        "bytes": b"raw",
        "bytearray": bytearray(b"\x00\xff"),
        "ts": datetime.datetime(2024, 1, 1, tzinfo=UTC),
        "array": [1, "two", [3.5], {"four": None}],
        "table": {"nested": {"deeper": True}},
        "void": None,
    }
    consumed, theirs = decode.field_table(types.encode_table(ours))
    want = dict(ours, bytes="raw")  # bytes are sent as a longstr; pamqp reads it as text
    assert consumed == len(types.encode_table(ours))
    # ints come back under another tag but with the same value; floats are sent as doubles
    assert _same(theirs, want)


def test_tables_with_sorted_keys_are_byte_identical() -> None:
    assert types.encode_table(METHOD_TABLE) == encode.field_table(METHOD_TABLE)
    assert types.encode_table({}) == encode.field_table({})
    assert types.encode_table(None) == b"\x00\x00\x00\x00"


def test_negative_decimal_round_trips_signed() -> None:
    """Java and we read the decimal mantissa as int32; pamqp reads it unsigned (its bug)."""
    data = types.encode_value(decimal.Decimal("-1.25"))
    assert data == encode.encode_table_value(decimal.Decimal("-1.25"))
    assert types.decode_value(data, 0) == (decimal.Decimal("-1.25"), len(data))


# --- content properties -------------------------------------------------------------

ALL_PROPS: dict[str, Any] = {
    "content_type": "application/json",
    "content_encoding": SHORTSTR_MAX,
    "headers": METHOD_TABLE,
    "delivery_mode": 2,
    "priority": 255,
    "correlation_id": "corr-✓",
    "reply_to": "amq.rabbitmq.reply-to",
    "expiration": "60000",
    "message_id": "m" * 255,
    "timestamp": 2**32 - 1,
    "type": "event.created",
    "user_id": "guest",
    "app_id": "lavinmq-tests",
    "cluster_id": "cluster-1",
}
NAMES = [name for name, _, _ in FIELDS]


def _prop_cases() -> Iterator[Any]:
    yield pytest.param(NAMES, id="all")
    yield pytest.param(NAMES[::2], id="even")
    yield pytest.param(NAMES[1::2], id="odd")
    for name in NAMES:
        yield pytest.param([name], id=name)


def to_pamqp_props(props: BasicProperties) -> commands.Basic.Properties:
    theirs = commands.Basic.Properties()
    for name in NAMES:
        value = getattr(props, name)
        if name == "timestamp" and value is not None:
            value = datetime.datetime.fromtimestamp(value, tz=UTC)
        # set after __init__: pamqp's validate() rejects a non-empty cluster_id
        setattr(theirs, "message_type" if name == "type" else name, value)
    return theirs


@pytest.mark.parametrize("present", list(_prop_cases()))
def test_properties_are_byte_identical(present: list[str]) -> None:
    props = BasicProperties(**{n: ALL_PROPS[n] for n in present})
    theirs = to_pamqp_props(props)
    assert props.encode() == theirs.marshal()
    assert BasicProperties.decode(theirs.marshal()) == props
    assert BasicProperties.decode(b"xx" + theirs.marshal(), 2) == props


@pytest.mark.parametrize("present", list(_prop_cases()))
def test_pamqp_decodes_our_properties(present: list[str]) -> None:
    props = BasicProperties(**{n: ALL_PROPS[n] for n in present})
    payload = struct.pack(">HHQ", 60, 0, 10) + props.encode()
    content_header = header.ContentHeader()
    content_header.unmarshal(payload)
    assert content_header.body_size == 10
    theirs = dict(content_header.properties)
    assert theirs.pop("message_type") == props.type
    if props.timestamp is not None:
        assert theirs.pop("timestamp") == datetime.datetime.fromtimestamp(props.timestamp, UTC)
    assert theirs.pop("cluster_id") == (props.cluster_id or "")  # pamqp's default is ""
    assert _same(theirs, {n: getattr(props, n) for n in theirs})


def test_empty_properties() -> None:
    assert BasicProperties().encode() == commands.Basic.Properties().marshal() == b"\x00\x00"
    assert BasicProperties.decode(b"\x00\x00") == BasicProperties()


# --- frames -----------------------------------------------------------------------------


@pytest.mark.parametrize("frame_max", [4096, 131072, 0])
@pytest.mark.parametrize("extra", [None, -1, 0, 1, "3x", "3x+5"])
def test_content_frames_match_pamqp(frame_max: int, extra: int | str | None) -> None:
    chunk = (frame_max or 131072) - 8
    size = {None: 0, -1: chunk - 1, 0: chunk, 1: chunk + 1, "3x": 3 * chunk, "3x+5": 3 * chunk + 5}[
        extra
    ]
    payload = bytes(i % 251 for i in range(size))
    props = BasicProperties(**ALL_PROPS)
    pprops = to_pamqp_props(props)
    ours = content_frames(65535, payload, props.encode(), frame_max)
    step = frame_max - 8 if frame_max else max(size, 1)
    theirs = [frame.marshal(header.ContentHeader(0, size, pprops), 65535)]
    theirs += [
        frame.marshal(body.ContentBody(payload[i : i + step]), 65535) for i in range(0, size, step)
    ]
    assert ours == theirs
    assert all(len(f) <= frame_max for f in ours[1:]) if frame_max else len(ours) <= 2

    # and we assemble pamqp's frames back into the message
    publish = commands.Basic.Publish(exchange="amq.direct", routing_key="rk", mandatory=True)
    data = frame.marshal(publish, 65535) + b"".join(theirs)
    events = codec(Role.SERVER, frame_max=frame_max or 1 << 20).receive_data(data)
    method = spec.BasicPublish(exchange="amq.direct", routing_key="rk", mandatory=True)
    assert events == [ContentReceived(65535, method, pprops.marshal(), payload)]


def test_heartbeat_and_protocol_header_match_pamqp() -> None:
    assert HEARTBEAT == frame.marshal(heartbeat.Heartbeat(), 0)
    assert PROTOCOL_HEADER == frame.marshal(header.ProtocolHeader(), 0)


def test_pamqp_frames_in_one_stream_decode_in_order() -> None:
    """A whole client session as pamqp writes it, fed to our server in one read."""
    pprops = commands.Basic.Properties(content_type="text/plain", delivery_mode=2)
    parts: list[frame.FrameTypes] = [
        header.ProtocolHeader(),
        commands.Connection.StartOk(
            client_properties={"product": "pamqp"}, response="\x00guest\x00guest"
        ),
        commands.Connection.TuneOk(channel_max=2047, frame_max=131072, heartbeat=60),
        commands.Connection.Open(virtual_host="/"),
        commands.Channel.Open(),
        commands.Confirm.Select(),
        commands.Basic.Publish(exchange="", routing_key="q"),
        header.ContentHeader(0, 5, pprops),
        body.ContentBody(b"hello"),
        heartbeat.Heartbeat(),
        commands.Basic.Ack(delivery_tag=2**63 - 1, multiple=True),
        commands.Channel.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0),
    ]
    on_zero = (
        commands.Connection.StartOk,
        commands.Connection.TuneOk,
        commands.Connection.Open,
        heartbeat.Heartbeat,
    )
    data = b"".join(frame.marshal(p, 0 if isinstance(p, on_zero) else 1) for p in parts)
    events = codec(Role.SERVER).receive_data(data[8:])
    assert not any(isinstance(e, FrameRejected) for e in events)
    kinds = [type(e).__name__ for e in events]
    assert (
        kinds
        == ["MethodReceived"] * 5
        + ["ContentReceived", "HeartbeatReceived"]
        + ["MethodReceived"] * 2
    )
    publish = events[5]
    assert isinstance(publish, ContentReceived)
    assert (publish.body, publish.properties) == (b"hello", pprops.marshal())
    assert BasicProperties.decode(publish.properties) == BasicProperties(
        content_type="text/plain", delivery_mode=2
    )
