"""Codec fuzzing against the live server: after a valid handshake, random and mutated
frames go over a raw socket. The server must answer with a Connection.Close carrying a
protocol error code (or a Channel.Close for a soft error), close the socket, never crash
(no 541, no loop errors) or hang, and a fresh connection must work afterwards."""

from __future__ import annotations

import logging
import socket
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pamqp import commands, frame, header, heartbeat
from pamqp.body import ContentBody

from tests.broker_thread import BrokerThread
from tests.integration.helpers import RawClient, assert_broker_alive, raw_frame

HARD_CODES = {501, 502, 503, 504, 505, 506, 530, 540}
SOFT_CODES = {403, 404, 405, 406}
FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # deterministic runs; the seed corpus is the same every time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _valid_frames() -> list[bytes]:
    props = commands.Basic.Properties(
        content_type="t", headers={"a": [1, {"b": "c"}]}, delivery_mode=2
    )
    m = frame.marshal
    return [
        m(commands.Queue.Declare(queue="fz", arguments={"x-max-length": 10}), 1),
        m(commands.Exchange.Declare(exchange="fzx", exchange_type="topic"), 1),
        m(commands.Queue.Bind(queue="fz", exchange="fzx", routing_key="a.#"), 1),
        m(commands.Basic.Publish(exchange="fzx", routing_key="a.b"), 1)
        + m(header.ContentHeader(0, 5, props), 1)
        + m(ContentBody(b"hello"), 1),
        m(commands.Basic.Get(queue="fz"), 1),
        m(commands.Basic.Ack(delivery_tag=1), 1),
        m(commands.Basic.Consume(queue="fz", consumer_tag="c"), 1),
        m(commands.Basic.Cancel(consumer_tag="c"), 1),
        m(commands.Basic.Qos(prefetch_count=5), 1),
        m(commands.Confirm.Select(), 1),
        m(commands.Channel.Flow(active=True), 1),
        m(commands.Channel.Open(), 2),
        m(heartbeat.Heartbeat(), 0),
        m(commands.Connection.UpdateSecret(new_secret="x", reason="y"), 0),
    ]


VALID_FRAMES = _valid_frames()


@st.composite
def mutated_stream(draw: st.DrawFn) -> bytes:
    """A few valid frames, then byte flips, insertions, deletions and a truncation."""
    data = bytearray(
        b"".join(draw(st.lists(st.sampled_from(VALID_FRAMES), min_size=1, max_size=4)))
    )
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 8))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def random_frame(draw: st.DrawFn) -> bytes:
    """One complete, well-delimited frame with a random (often method-shaped) payload."""
    frame_type = draw(st.sampled_from([1, 1, 1, 2, 3, 8, 0, 4, 9, 255]))
    channel = draw(st.sampled_from([0, 1, 1, 2, 65535]))
    if frame_type == 1 and draw(st.booleans()):
        cls = draw(st.sampled_from([10, 20, 40, 50, 60, 85, 90, 7]))
        method = draw(st.sampled_from([10, 11, 20, 21, 30, 31, 40, 41, 50, 60, 70, 80, 90, 120]))
        payload = struct.pack(">HH", cls, method) + draw(st.binary(max_size=64))
    else:
        payload = draw(st.binary(max_size=64))
    return raw_frame(frame_type, channel, payload)


def _parse_all(data: bytes) -> list[tuple[int, Any]]:
    frames = []
    while data:
        assert len(data) >= 8, f"truncated frame from the server: {data!r}"
        size = struct.unpack_from(">I", data, 3)[0]
        consumed, channel, value = frame.unmarshal(data[: size + 8])
        frames.append((channel, value))
        data = data[consumed:]
    return frames


def _check_reply(frames: list[tuple[int, Any]]) -> commands.Connection.Close | None:
    close = None
    for _channel, value in frames:
        if isinstance(value, commands.Connection.Close):
            assert value.reply_code in HARD_CODES, value.reply_text
            close = value
        elif isinstance(value, commands.Channel.Close):
            assert value.reply_code in SOFT_CODES, value.reply_text
    return close


def _no_internal_errors(broker: BrokerThread, caplog: pytest.LogCaptureFixture) -> None:
    assert not broker.errors, broker.errors
    bad = [
        r.getMessage()
        for r in caplog.records
        if "internal error" in r.getMessage() or r.levelno >= logging.ERROR
    ]
    assert not bad, bad


@FUZZ_SETTINGS
@given(data=mutated_stream())
def test_mutated_frames_then_eof(
    broker: BrokerThread, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    """Whatever arrives, the server answers sanely and closes once the client is done."""
    caplog.set_level(logging.INFO, logger="lavinmq")
    with RawClient(broker.amqp_port, timeout=3) as c:
        c.handshake()
        c.open_channel(1)
        c.send_bytes(data)
        c.sock.shutdown(socket.SHUT_WR)
        reply = c.wait_eof(timeout=3)
    _check_reply(_parse_all(reply))
    _no_internal_errors(broker, caplog)


@FUZZ_SETTINGS
@given(payload=random_frame())
def test_random_frame_gets_an_answer_and_a_close(
    broker: BrokerThread, caplog: pytest.LogCaptureFixture, payload: bytes
) -> None:
    """A random frame then a polite Connection.Close: the server answers with Close-Ok or
    its own Connection.Close, and closes the socket, without the client going away."""
    caplog.set_level(logging.INFO, logger="lavinmq")
    with RawClient(broker.amqp_port, timeout=3) as c:
        c.handshake()
        c.open_channel(1)
        c.send_bytes(payload)
        c.send(0, commands.Connection.Close(200, "fuzz done", 0, 0))
        reply = c.wait_eof(timeout=3)
    frames = _parse_all(reply)
    close = _check_reply(frames)
    close_ok = any(isinstance(v, commands.Connection.CloseOk) for _, v in frames)
    assert close is not None or close_ok, frames
    _no_internal_errors(broker, caplog)


@FUZZ_SETTINGS
@given(data=st.binary(min_size=1, max_size=300))
def test_random_bytes_after_handshake(
    broker: BrokerThread, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    caplog.set_level(logging.INFO, logger="lavinmq")
    with RawClient(broker.amqp_port, timeout=3) as c:
        c.handshake()
        c.send_bytes(data)
        c.sock.shutdown(socket.SHUT_WR)
        reply = c.wait_eof(timeout=3)
    _check_reply(_parse_all(reply))
    _no_internal_errors(broker, caplog)


@FUZZ_SETTINGS
@given(data=st.binary(min_size=8, max_size=64))
def test_random_bytes_instead_of_protocol_header(broker: BrokerThread, data: bytes) -> None:
    with RawClient(broker.amqp_port, timeout=3) as c:
        c.send_bytes(data)
        c.sock.shutdown(socket.SHUT_WR)
        reply = c.wait_eof(timeout=3)
    if data.startswith(b"AMQP\x00\x00\x09\x01"):
        assert reply.startswith(b"\x01\x00\x00"), "a Connection.Start frame"
    else:
        assert reply == b"AMQP\x00\x00\x09\x01"


def test_server_still_serves_after_fuzzing(broker: BrokerThread) -> None:
    for data in (
        b"\x01\x00\x01\x00\x00\x00\x04\x00\x3c\x00\x63\xce",
        b"\x03\x00\x01\x00\x00\x00\x02ab\xce",
        b"\xff" * 100,
    ):
        with RawClient(broker.amqp_port, timeout=3) as c:
            c.handshake()
            c.open_channel(1)
            c.send_bytes(data)
            close = c.expect(commands.Connection.Close)
            assert close.reply_code in HARD_CODES
            assert c.wait_eof(timeout=2) == b""
        assert_broker_alive(broker)
