"""AMQPConnection: framing, content assembly and every way a peer can break the protocol."""

from __future__ import annotations

import struct
import time

import pytest

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.constants import (
    FRAME_BODY,
    FRAME_END,
    FRAME_HEADER,
    FRAME_METHOD,
    PROTOCOL_HEADER,
)
from lavinmq.amqp.errors import (
    AMQPError,
    CommandInvalid,
    FrameError,
    HardError,
    NotImplemented_,
    PreconditionFailed,
    SoftError,
    SyntaxError_,
    UnexpectedFrame,
)
from lavinmq.amqp.events import (
    ContentReceived,
    Event,
    HeartbeatReceived,
    MethodReceived,
    ProtocolHeaderReceived,
)
from lavinmq.amqp.frames import HEARTBEAT, content_frames, method_frame
from lavinmq.amqp.properties import EMPTY, BasicProperties

from .helpers import (
    ALL_METHODS,
    ARG_KINDS,
    ConnectionPair,
    byte_by_byte,
    channel_for,
    codec,
    encode,
    expected,
    feed,
    normalize,
    random_chunks,
    rejection,
    server,
    split,
)

PROPS = BasicProperties(content_type="text/plain", delivery_mode=2, headers={"x-retry": 3}).encode()
PUBLISH = spec.BasicPublish(exchange="amq.topic", routing_key="a.b.c", mandatory=True)


def frame(frame_type: int, channel: int, payload: bytes, end: int = FRAME_END) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + bytes((end,))


def header_frame(
    channel: int, body_size: int, properties: bytes = EMPTY, class_id: int = 60
) -> bytes:
    return frame(FRAME_HEADER, channel, struct.pack(">HHQ", class_id, 0, body_size) + properties)


def rejected(events: list[Event]) -> FrameRejected:
    """The last event, which must be a rejection."""
    assert events
    last = events[-1]
    assert isinstance(last, FrameRejected), events
    return last


def assert_hard(events: list[Event], error: type[HardError], match: str = "") -> FrameRejected:
    last = rejected(events)
    assert type(last.error) is error
    assert last.channel == 0
    assert match in last.error.text
    assert not any(isinstance(e, FrameRejected) for e in events[:-1])
    return last


# A session with every kind of frame: handshake, channel ops, a multi-frame publish,
# heartbeats, an empty body, interleaved channels, acks, close.
def client_session(frame_max: int = 4096) -> tuple[bytes, list[Event]]:
    parts: list[tuple[int, spec.Method, bytes, bytes]] = [
        (
            0,
            spec.ConnectionStartOk(
                {"product": "test", "capabilities": {"basic.nack": True}}, "PLAIN", b"\0u\0p"
            ),
            EMPTY,
            b"",
        ),
        (0, spec.ConnectionTuneOk(2047, frame_max, 60), EMPTY, b""),
        (0, spec.ConnectionOpen("/"), EMPTY, b""),
        (1, spec.ChannelOpen(), EMPTY, b""),
        (2, spec.ChannelOpen(), EMPTY, b""),
        (1, spec.ConfirmSelect(), EMPTY, b""),
        (1, PUBLISH, PROPS, bytes(range(256)) * 40),
        (2, spec.BasicPublish(routing_key="q"), EMPTY, b""),
        (
            2,
            spec.QueueDeclare(queue="q", durable=True, arguments={"x-queue-type": "classic"}),
            EMPTY,
            b"",
        ),
        (1, spec.BasicAck(delivery_tag=2**64 - 1, multiple=True), EMPTY, b""),
        (1, spec.ChannelClose(200, "bye", 0, 0), EMPTY, b""),
        (0, spec.ConnectionClose(200, "bye", 0, 0), EMPTY, b""),
    ]
    data = b""
    events: list[Event] = []
    for i, (channel, method, props, body) in enumerate(parts):
        data += encode(channel, method, props, body, frame_max)
        events.append(expected(channel, method, props, body))
        if i % 4 == 0:
            data += HEARTBEAT
            events.append(HeartbeatReceived())
    return data, events


# --- round trips ----------------------------------------------------------------------


def test_pair_handshake_round_trips() -> None:
    pair = ConnectionPair()
    pair.round_trip(Role.SERVER, 0, spec.ConnectionStart(server_properties={"product": "LavinMQ"}))
    pair.round_trip(
        Role.CLIENT, 0, spec.ConnectionStartOk({"product": "x"}, "PLAIN", b"\0guest\0guest")
    )
    pair.round_trip(Role.SERVER, 0, spec.ConnectionTune(2047, 131072, 60))
    pair.round_trip(Role.CLIENT, 0, spec.ConnectionTuneOk(2047, 131072, 60))
    pair.round_trip(Role.CLIENT, 0, spec.ConnectionOpen("/vhost"))
    pair.round_trip(Role.SERVER, 0, spec.ConnectionOpenOk())
    pair.round_trip(Role.CLIENT, 0, spec.ConnectionUpdateSecret(b"token", "refresh"))
    pair.round_trip(Role.SERVER, 0, spec.ConnectionUpdateSecretOk())
    pair.round_trip(Role.SERVER, 0, spec.ConnectionBlocked("low on memory"))
    pair.round_trip(Role.SERVER, 0, spec.ConnectionUnblocked())


@pytest.mark.parametrize("cls", ALL_METHODS, ids=lambda c: c.NAME)
def test_pair_every_method_round_trips_in_its_direction(cls: type[spec.Method]) -> None:
    pair = ConnectionPair()
    for role, allowed in ((Role.CLIENT, cls.FROM_CLIENT), (Role.SERVER, cls.FROM_SERVER)):
        if allowed:
            pair.round_trip(role, channel_for(cls, 42), cls(), PROPS, b"body")


@pytest.mark.parametrize("size", [0, 1, 4087, 4088, 4089, 3 * 4088, 100_000])
def test_pair_content_round_trips_across_frame_sizes(size: int) -> None:
    pair = ConnectionPair(frame_max=4096)
    payload = bytes(i % 256 for i in range(size))
    pair.round_trip(Role.CLIENT, 1, PUBLISH, PROPS, payload)
    deliver = spec.BasicDeliver("ctag", 2**64 - 1, True, "amq.topic", "a.b.c")
    pair.round_trip(Role.SERVER, 65535, deliver, PROPS, payload)


def test_content_with_empty_body_completes_at_the_header() -> None:
    conn = server()
    assert conn.receive_data(method_frame(1, PUBLISH)) == []
    assert conn.receive_data(header_frame(1, 0, PROPS)) == [ContentReceived(1, PUBLISH, PROPS, b"")]


def test_heartbeat_event() -> None:
    assert server().receive_data(HEARTBEAT * 3) == [HeartbeatReceived()] * 3
    assert codec(Role.CLIENT).receive_data(HEARTBEAT) == [HeartbeatReceived()]


def test_heartbeats_and_other_channels_interleave_with_content() -> None:
    """Frames of other channels (and heartbeats) may come between a method and its body."""
    body1, body2 = b"a" * 5000, b"b" * 3
    c1 = content_frames(1, body1, PROPS, 4096)
    data = method_frame(1, PUBLISH) + c1[0] + HEARTBEAT + c1[1]
    data += encode(2, PUBLISH, EMPTY, body2) + method_frame(3, spec.BasicQos(prefetch_count=10))
    data += c1[2]
    assert server(frame_max=4096).receive_data(data) == [
        HeartbeatReceived(),
        ContentReceived(2, PUBLISH, EMPTY, body2),
        MethodReceived(3, spec.BasicQos(prefetch_count=10)),
        ContentReceived(1, PUBLISH, PROPS, body1),
    ]


# --- chunking -------------------------------------------------------------------------


@pytest.mark.parametrize("frame_max", [4096, 131072])
def test_byte_by_byte_and_random_chunks_give_the_same_events(frame_max: int) -> None:
    data, want = client_session(frame_max)
    whole = codec(Role.SERVER, frame_max).receive_data(data)
    assert whole == want
    conn = AMQPConnection(Role.SERVER, frame_max)
    assert feed(conn, byte_by_byte(PROTOCOL_HEADER + data)) == [ProtocolHeaderReceived(), *want]
    for seed in range(20):
        chunks = random_chunks(PROTOCOL_HEADER + data, seed, max_size=1 + seed * 300)
        conn = AMQPConnection(Role.SERVER, frame_max)
        assert feed(conn, chunks) == [ProtocolHeaderReceived(), *want], seed


def test_client_role_chunking() -> None:
    deliver = spec.BasicDeliver("ctag", 1, False, "", "q")
    data = encode(0, spec.ConnectionStart(server_properties={"a": [1, 2]}), EMPTY, b"")
    data += encode(1, deliver, PROPS, b"x" * 10_000, 4096) + HEARTBEAT
    data += encode(1, spec.BasicCancel("ctag", True))
    want = [
        MethodReceived(0, spec.ConnectionStart(server_properties={"a": [1, 2]})),
        ContentReceived(1, deliver, PROPS, b"x" * 10_000),
        HeartbeatReceived(),
        MethodReceived(1, spec.BasicCancel("ctag", True)),
    ]
    assert codec(Role.CLIENT).receive_data(data) == want
    assert feed(codec(Role.CLIENT), byte_by_byte(data)) == want
    for seed in range(10):
        assert feed(codec(Role.CLIENT), random_chunks(data, seed, 500)) == want


@pytest.mark.parametrize("cut", range(1, 40))
def test_error_events_do_not_depend_on_chunking(cut: int) -> None:
    data, want = client_session()
    bad = data + frame(FRAME_METHOD, 1, b"\x00\x3c\x00\x28\x00") + HEARTBEAT  # truncated publish
    whole = normalize(codec(Role.SERVER).receive_data(bad))
    assert whole[:-1] == want
    assert whole[-1][2][0] is SyntaxError_
    assert normalize(feed(codec(Role.SERVER), split(bad, range(cut, len(bad), cut)))) == whole


def test_empty_reads_are_harmless() -> None:
    conn = AMQPConnection(Role.SERVER)
    assert conn.receive_data(b"") == []
    assert conn.receive_data(PROTOCOL_HEADER[:3]) == []
    assert conn.receive_data(b"") == []
    assert conn.receive_data(PROTOCOL_HEADER[3:]) == [ProtocolHeaderReceived()]
    assert conn.receive_data(b"") == []
    assert conn.receive_data(HEARTBEAT[:5]) == []
    assert conn.receive_data(b"") == []
    assert conn.receive_data(HEARTBEAT[5:]) == [HeartbeatReceived()]


def test_large_body_in_small_reads_is_linear() -> None:
    """An 8 MiB body fed in 4 KiB reads: buffering must be O(bytes), not O(n²)."""
    payload = bytes(range(256)) * (8 * 4096)
    data = encode(1, PUBLISH, PROPS, payload, 131072)
    conn = server()
    start = time.perf_counter()
    events = feed(conn, (data[i : i + 4096] for i in range(0, len(data), 4096)))
    elapsed = time.perf_counter() - start
    assert events == [ContentReceived(1, PUBLISH, PROPS, payload)]
    assert elapsed < 0.5, elapsed


def test_one_huge_frame_in_small_reads_is_linear() -> None:
    """Same with a frame_max that lets the whole 8 MiB body travel in one frame."""
    payload = b"\xab" * (8 << 20)
    data = encode(1, PUBLISH, PROPS, payload, 16 << 20)
    conn = server(frame_max=16 << 20)
    start = time.perf_counter()
    events = feed(conn, (data[i : i + 4096] for i in range(0, len(data), 4096)))
    elapsed = time.perf_counter() - start
    assert events == [ContentReceived(1, PUBLISH, PROPS, payload)]
    assert elapsed < 0.5, elapsed


# --- protocol header ------------------------------------------------------------------


def test_protocol_header_then_frames_in_one_read() -> None:
    conn = AMQPConnection(Role.SERVER)
    data = PROTOCOL_HEADER + HEARTBEAT + method_frame(1, spec.ChannelOpen())
    assert conn.receive_data(data) == [
        ProtocolHeaderReceived(),
        HeartbeatReceived(),
        MethodReceived(1, spec.ChannelOpen()),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"AMQP\x00\x00\x09\x02",
        b"AMQP\x01\x01\x00\x0a",  # AMQP 0-10
        b"AMQP\x00\x01\x00\x00",  # AMQP 1.0
        b"AMQP\x03\x01\x00\x00",  # AMQP 1.0 SASL
        b"GET / HTTP/1.1\r\n\r\n",
        HEARTBEAT,
    ],
)
def test_bad_protocol_header_is_command_invalid(data: bytes) -> None:
    conn = AMQPConnection(Role.SERVER)
    assert_hard(conn.receive_data(data), CommandInvalid, "protocol header")
    assert conn.receive_data(PROTOCOL_HEADER + HEARTBEAT) == []


def test_bad_protocol_header_byte_by_byte() -> None:
    conn = AMQPConnection(Role.SERVER)
    events = feed(conn, byte_by_byte(b"AMQP\x00\x00\x08\x00" + HEARTBEAT))
    assert_hard(events, CommandInvalid)


def test_client_role_expects_no_protocol_header() -> None:
    conn = AMQPConnection(Role.CLIENT)
    assert conn.receive_data(HEARTBEAT) == [HeartbeatReceived()]
    # the header a server sends back before closing is not a frame
    assert_hard(conn.receive_data(PROTOCOL_HEADER), FrameError)


# --- framing errors (501) -------------------------------------------------------------


def test_frame_max_is_enforced_from_the_frame_header() -> None:
    """An oversized frame is rejected from its header, before its payload is buffered."""
    conn = server(frame_max=4096)
    assert conn.receive_data(struct.pack(">BHI", FRAME_BODY, 1, 4096 - 8) + b"x") == []
    conn = server(frame_max=4096)
    events = conn.receive_data(struct.pack(">BHI", FRAME_BODY, 1, 4096 - 7) + b"x")
    assert_hard(events, FrameError, "frame size 4097 > frame_max 4096")
    conn = server(frame_max=4096)
    events = conn.receive_data(struct.pack(">BHI", FRAME_METHOD, 0, 2**32 - 1) + b"x")
    assert_hard(events, FrameError, "frame_max")


def test_frame_of_exactly_frame_max_is_accepted() -> None:
    conn = server(frame_max=4096)
    payload = b"y" * (4096 - 8)
    data = method_frame(1, PUBLISH) + header_frame(1, len(payload)) + frame(FRAME_BODY, 1, payload)
    assert conn.receive_data(data) == [ContentReceived(1, PUBLISH, EMPTY, payload)]


@pytest.mark.parametrize("end", [0x00, 0xCD, 0xCF, 0xFF])
def test_bad_frame_end_is_frame_error(end: int) -> None:
    data = HEARTBEAT + frame(FRAME_METHOD, 1, spec.ChannelOpen().encode(), end=end) + HEARTBEAT
    events = server().receive_data(data)
    assert events[0] == HeartbeatReceived()
    assert_hard(events, FrameError, "frame end")


@pytest.mark.parametrize("frame_type", [0, 4, 5, 7, 9, 65, 206, 255])
def test_unknown_frame_type_is_frame_error(frame_type: int) -> None:
    assert_hard(server().receive_data(frame(frame_type, 0, b"")), FrameError, "frame type")


@pytest.mark.parametrize("channel", [1, 65535])
def test_heartbeat_on_a_channel_is_frame_error(channel: int) -> None:
    assert_hard(server().receive_data(frame(8, channel, b"")), FrameError, "heartbeat")


def test_body_overrun_is_frame_error() -> None:
    conn = server()
    data = method_frame(1, PUBLISH) + header_frame(1, 10) + frame(FRAME_BODY, 1, b"x" * 6)
    assert conn.receive_data(data) == []
    assert_hard(conn.receive_data(frame(FRAME_BODY, 1, b"x" * 5)), FrameError, "exceeds")


def test_content_header_too_short_is_frame_error() -> None:
    data = method_frame(1, PUBLISH) + frame(FRAME_HEADER, 1, struct.pack(">HHQ", 60, 0, 1))
    assert_hard(server().receive_data(data), FrameError, "too short")


# --- unexpected frames (505) ----------------------------------------------------------


@pytest.mark.parametrize("channel", [0, 1])
def test_content_header_without_method_is_unexpected(channel: int) -> None:
    assert_hard(server().receive_data(header_frame(channel, 0)), UnexpectedFrame, "content header")


def test_body_without_method_or_header_is_unexpected() -> None:
    assert_hard(server().receive_data(frame(FRAME_BODY, 1, b"x")), UnexpectedFrame, "body")
    data = method_frame(1, PUBLISH) + frame(FRAME_BODY, 1, b"x")
    assert_hard(server().receive_data(data), UnexpectedFrame, "body")


def test_second_content_header_is_unexpected() -> None:
    data = method_frame(1, PUBLISH) + header_frame(1, 5) + header_frame(1, 5)
    assert_hard(server().receive_data(data), UnexpectedFrame, "content header")


@pytest.mark.parametrize("after_header", [False, True])
def test_method_while_content_pending_is_unexpected(after_header: bool) -> None:
    data = method_frame(1, PUBLISH) + (header_frame(1, 5) if after_header else b"")
    data += method_frame(1, spec.ChannelClose(200, "", 0, 0))
    assert_hard(server().receive_data(data), UnexpectedFrame, "expected content")


def test_content_header_class_mismatch_is_unexpected() -> None:
    data = method_frame(1, PUBLISH) + header_frame(1, 0, class_id=50)
    assert_hard(server().receive_data(data), UnexpectedFrame, "class 50")
    weighted = frame(FRAME_HEADER, 1, struct.pack(">HHQ", 60, 1, 0) + EMPTY)
    assert_hard(server().receive_data(method_frame(1, PUBLISH) + weighted), UnexpectedFrame)


# --- bad content properties (502) -----------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        b"\x80\x00",  # content_type flagged but missing
        b"\x80\x00\x05ab",  # content_type overruns
        b"\x20\x00\x00\x00\x00\x05\x01kZ\x00\x00",  # headers with an unknown tag
        b"\x00\x00\x00",  # trailing byte
        b"\x80\x00\x02\xff\xfe",  # content_type not UTF-8
    ],
)
def test_bad_properties_are_syntax_errors(props: bytes) -> None:
    data = method_frame(1, PUBLISH) + frame(FRAME_HEADER, 1, struct.pack(">HHQ", 60, 0, 0) + props)
    assert_hard(server().receive_data(data), SyntaxError_)


# --- method errors (503, 540, 502) ----------------------------------------------------


@pytest.mark.parametrize("cls", [c for c in ALL_METHODS if not c.FROM_CLIENT], ids=lambda c: c.NAME)
def test_server_rejects_methods_only_a_server_sends(cls: type[spec.Method]) -> None:
    events = server().receive_data(encode(channel_for(cls), cls(), EMPTY, b""))
    assert_hard(events, CommandInvalid, "may not be sent by the client")


@pytest.mark.parametrize("cls", [c for c in ALL_METHODS if not c.FROM_SERVER], ids=lambda c: c.NAME)
def test_client_rejects_methods_only_a_client_sends(cls: type[spec.Method]) -> None:
    events = codec(Role.CLIENT).receive_data(encode(channel_for(cls), cls(), EMPTY, b""))
    assert_hard(events, CommandInvalid, "may not be sent by the server")


def test_update_secret_goes_from_client_to_server() -> None:
    """Regression: the generator had update-secret / update-secret-ok the wrong way round."""
    assert spec.ConnectionUpdateSecret.FROM_CLIENT and not spec.ConnectionUpdateSecret.FROM_SERVER
    assert (
        spec.ConnectionUpdateSecretOk.FROM_SERVER and not spec.ConnectionUpdateSecretOk.FROM_CLIENT
    )


@pytest.mark.parametrize("cls", ALL_METHODS, ids=lambda c: c.NAME)
def test_methods_on_the_wrong_channel_are_command_invalid(cls: type[spec.Method]) -> None:
    role = Role.SERVER if cls.FROM_CLIENT else Role.CLIENT
    wrong = 1 if cls.CLASS_ID == 10 else 0
    events = codec(role).receive_data(method_frame(wrong, cls()))
    assert_hard(events, CommandInvalid, f"not allowed on channel {wrong}")


@pytest.mark.parametrize(
    ("class_id", "method_id"), [(10, 99), (20, 0), (30, 12), (99, 10), (0, 0), (65535, 65535)]
)
def test_unknown_method_is_not_implemented(class_id: int, method_id: int) -> None:
    data = frame(FRAME_METHOD, 1, struct.pack(">HH", class_id, method_id) + b"\x00" * 8)
    last = assert_hard(server().receive_data(data), NotImplemented_, f"{class_id}.{method_id}")
    assert last.error.reply_code == 540


@pytest.mark.parametrize("size", [0, 1, 2, 3])
def test_method_frame_shorter_than_its_ids_is_syntax_error(size: int) -> None:
    assert_hard(
        server().receive_data(frame(FRAME_METHOD, 1, b"\x00\x14\x00\x0a"[:size])), SyntaxError_
    )


@pytest.mark.parametrize("cls", [c for c in ALL_METHODS if ARG_KINDS[c]], ids=lambda c: c.NAME)
def test_every_truncated_method_payload_is_syntax_error(cls: type[spec.Method]) -> None:
    """Each argument reads its full extent, so any missing tail byte must be caught."""
    kwargs = {}
    for name, kind in ARG_KINDS[cls]:
        kwargs[name] = {
            "shortstr": "str",
            "longstr": b"long",
            "table": {"k": [1, {"n": None}]},
        }.get(kind, 1)
    payload = cls(**kwargs).encode()
    role = Role.SERVER if cls.FROM_CLIENT else Role.CLIENT
    for size in range(4, len(payload)):
        events = codec(role).receive_data(frame(FRAME_METHOD, channel_for(cls), payload[:size]))
        last = assert_hard(events, SyntaxError_)
        assert (last.error.class_id, last.error.method_id) == (cls.CLASS_ID, cls.METHOD_ID), size


def test_syntax_errors_from_field_decoders_name_the_method() -> None:
    payload = spec.QueueDeclare(queue="q").encode()[:-4] + b"\x00\x00\x00\x05\x01kZ\x00\x00"
    last = assert_hard(server().receive_data(frame(FRAME_METHOD, 1, payload)), SyntaxError_)
    assert (last.error.class_id, last.error.method_id) == (50, 10)
    assert last.error.reply_text.startswith("SYNTAX_ERROR - unknown field type")


# --- batches: good events first, then the rejection, then nothing ---------------------


def test_good_frames_before_a_bad_one_are_returned_first() -> None:
    data, want = client_session()
    events = codec(Role.SERVER).receive_data(data + frame(9, 0, b"") + HEARTBEAT)
    assert events[:-1] == want
    assert_hard(events, FrameError)


def test_nothing_after_a_hard_error() -> None:
    conn = server()
    assert_hard(conn.receive_data(HEARTBEAT + frame(8, 1, b"") + HEARTBEAT), FrameError)
    assert conn.receive_data(HEARTBEAT) == []
    assert conn.receive_data(method_frame(1, spec.ChannelOpen())) == []


# --- body size limit: a channel error ------------------------------------------------


def test_body_over_max_body_size_is_a_channel_error_and_the_channel_is_discarded() -> None:
    conn = server(frame_max=4096, max_body_size=1000)
    big = [method_frame(1, PUBLISH), *content_frames(1, b"x" * 5000, PROPS, 4096)]
    ok = encode(2, PUBLISH, PROPS, b"y" * 1000, 4096)
    events = conn.receive_data(b"".join(big[:2]) + ok + b"".join(big[2:]) + HEARTBEAT)
    assert isinstance(events[0], FrameRejected)
    assert events[0].channel == 1
    assert type(events[0].error) is PreconditionFailed
    assert isinstance(events[0].error, SoftError)
    assert (events[0].error.class_id, events[0].error.method_id) == (60, 40)
    assert events[0].error.reply_text == (
        "PRECONDITION_FAILED - message size 5000 is larger than configured max size 1000"
    )
    assert events[1:] == [ContentReceived(2, PUBLISH, PROPS, b"y" * 1000), HeartbeatReceived()]

    # channel 1 stays discarded: methods, content and all, except channel.close[-ok]
    events = conn.receive_data(
        encode(1, PUBLISH, PROPS, b"z" * 10)
        + method_frame(1, spec.BasicQos(prefetch_count=1))
        + frame(FRAME_BODY, 1, b"stray")
        + method_frame(1, spec.ChannelCloseOk())
        + method_frame(2, spec.BasicQos(prefetch_count=2))
    )
    assert events == [
        MethodReceived(1, spec.ChannelCloseOk()),
        MethodReceived(2, spec.BasicQos(prefetch_count=2)),
    ]

    # once reset (the number is reused), channel 1 works again
    conn.reset_channel(1)
    assert conn.receive_data(encode(1, PUBLISH, PROPS, b"z" * 10)) == [
        ContentReceived(1, PUBLISH, PROPS, b"z" * 10)
    ]


def test_body_of_exactly_max_body_size_is_accepted() -> None:
    conn = server(max_body_size=10)
    assert conn.receive_data(encode(1, PUBLISH, EMPTY, b"0123456789")) == [
        ContentReceived(1, PUBLISH, EMPTY, b"0123456789")
    ]


def test_max_body_size_in_client_role_names_the_content_method() -> None:
    conn = codec(Role.CLIENT, max_body_size=3)
    deliver = spec.BasicDeliver("c", 1, False, "", "q")
    events = conn.receive_data(encode(5, deliver, EMPTY, b"four"))
    last = rejected(events)
    assert (last.channel, type(last.error)) == (5, PreconditionFailed)
    assert (last.error.class_id, last.error.method_id) == (60, 60)


def test_channel_error_does_not_stop_the_connection() -> None:
    conn = server(max_body_size=1)
    events: list[Event] = []
    for channel in (1, 2, 3):
        events += conn.receive_data(encode(channel, PUBLISH, EMPTY, b"xx"))
    assert [(e.channel, type(e.error)) for e in events if isinstance(e, FrameRejected)] == [
        (1, PreconditionFailed),
        (2, PreconditionFailed),
        (3, PreconditionFailed),
    ]
    assert conn.receive_data(HEARTBEAT) == [HeartbeatReceived()]


# --- discard_channel / reset_channel ---------------------------------------------------


def test_discard_channel_drops_frames_but_channel_close_and_close_ok() -> None:
    conn = server()
    assert conn.receive_data(method_frame(1, PUBLISH) + header_frame(1, 10)) == []
    conn.discard_channel(1)  # the server sent Channel.Close: the pending publish is dropped
    data = frame(FRAME_BODY, 1, b"x" * 10) + encode(1, PUBLISH, PROPS, b"abc")
    data += method_frame(1, spec.BasicAck(1)) + method_frame(1, spec.ChannelClose(200, "", 0, 0))
    data += method_frame(1, spec.ChannelCloseOk()) + method_frame(2, spec.ChannelOpen())
    assert conn.receive_data(data) == [
        MethodReceived(1, spec.ChannelClose(200, "", 0, 0)),
        MethodReceived(1, spec.ChannelCloseOk()),
        MethodReceived(2, spec.ChannelOpen()),
    ]


def test_discarded_channel_still_rejects_connection_level_violations() -> None:
    conn = server()
    conn.discard_channel(1)
    assert conn.receive_data(method_frame(1, spec.BasicAck(1))) == []
    data = frame(FRAME_METHOD, 1, struct.pack(">HH", 60, 99))
    assert_hard(conn.receive_data(data), NotImplemented_)


def test_reset_channel_forgets_pending_content() -> None:
    conn = server()
    assert conn.receive_data(method_frame(1, PUBLISH)) == []
    conn.reset_channel(1)
    # the pending publish is gone: a new method is fine, a stray header is not
    assert conn.receive_data(method_frame(1, spec.ChannelOpen())) == [
        MethodReceived(1, spec.ChannelOpen())
    ]
    assert_hard(conn.receive_data(header_frame(1, 0)), UnexpectedFrame)


def test_reset_of_an_unknown_channel_is_a_no_op() -> None:
    conn = server()
    conn.reset_channel(7)
    conn.discard_channel(8)
    conn.reset_channel(8)
    assert conn.receive_data(method_frame(8, spec.ChannelOpen())) == [
        MethodReceived(8, spec.ChannelOpen())
    ]


# --- errors ----------------------------------------------------------------------------


def test_rejection_carries_a_registered_error() -> None:
    events = server().receive_data(frame(9, 0, b""))
    error = rejected(events).error
    assert isinstance(error, AMQPError)
    assert rejection(error) == (FrameError, 0, 0, "unknown frame type 9")
    assert error.reply_code == 501
    assert error.reply_text == "FRAME_ERROR - unknown frame type 9"


def test_frame_error_message_names_the_limit() -> None:
    events = server(frame_max=4096).receive_data(
        struct.pack(">BHI", FRAME_METHOD, 0, 10_000) + b"x"
    )
    with pytest.raises(FrameError, match=r"frame size 10008 > frame_max 4096"):
        raise rejected(events).error


def test_frame_max_can_be_lowered_after_tune() -> None:
    """The server sets the negotiated frame_max on the live codec after Connection.TuneOk."""
    conn = server()
    big = encode(1, PUBLISH, EMPTY, b"x" * 5000, 131072)
    assert conn.receive_data(big) == [ContentReceived(1, PUBLISH, EMPTY, b"x" * 5000)]
    conn.frame_max = 4096
    assert conn.receive_data(encode(1, PUBLISH, EMPTY, b"x" * 5000, 4096)) == [
        ContentReceived(1, PUBLISH, EMPTY, b"x" * 5000)
    ]
    assert_hard(conn.receive_data(big), FrameError, "frame_max 4096")
