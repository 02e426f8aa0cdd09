"""Client behaviour a real broker can't easily stage, against tests/client/fake_broker.py."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

import pytest
import trustme

from lavinmq.amqp.errors import FrameError, PreconditionFailed
from lavinmq.amqp.spec import (
    BasicPublish,
    ChannelClose,
    ChannelCloseOk,
    ConnectionStartOk,
    ConnectionTuneOk,
)
from lavinmq.client import CONNECTION_LOST, ClientError, ConnectError, ConnectionClosed, connect
from tests.client.fake_broker import FakeBroker, Script
from tests.client.helpers import wait_for

pytestmark = pytest.mark.usefixtures("loop_errors")


async def test_handshake_sends_credentials_and_capabilities() -> None:
    async with FakeBroker() as broker, connect(broker.url, name="fake-test") as conn:
        assert conn.server_properties == {"product": "fake"}
        start_ok = next(m for m in broker.record.methods if isinstance(m, ConnectionStartOk))
        assert start_ok.response == b"\0guest\0guest"
        props = start_ok.client_properties
        assert props["connection_name"] == "fake-test"
        assert set(props["capabilities"]) >= {
            "publisher_confirms", "consumer_cancel_notify", "exchange_exchange_bindings",
            "basic.nack", "connection.blocked", "authentication_failure_close",
            "per_consumer_qos",
        }  # fmt: skip


async def test_tune_takes_the_lower_limits() -> None:
    script = Script(frame_max=8192, channel_max=10, heartbeat=30)
    async with FakeBroker(script) as broker:
        async with connect(broker.url + "?frame_max=65536&channel_max=100&heartbeat=0") as conn:
            assert (conn.frame_max, conn.channel_max, conn.heartbeat) == (8192, 10, 0)
        tune_ok = next(m for m in broker.record.methods if isinstance(m, ConnectionTuneOk))
        assert (tune_ok.frame_max, tune_ok.channel_max, tune_ok.heartbeat) == (8192, 10, 0)


async def test_heartbeat_timeout_closes_the_connection() -> None:
    async with FakeBroker(Script(heartbeat=1)) as broker:
        conn = await connect(broker.url)
        assert conn.heartbeat == 1
        started = time.monotonic()
        reason = await asyncio.wait_for(conn.wait_closed(), 5)
        assert 1.5 <= time.monotonic() - started < 4
        assert reason.reply_code == CONNECTION_LOST
        assert "missed heartbeats" in str(reason)
        assert broker.record.heartbeats >= 2  # the idle client sent one every half interval
        with pytest.raises(ConnectionClosed, match="missed heartbeats"):
            await conn.channel()


async def test_socket_closed_during_handshake() -> None:
    async with FakeBroker(Script(drop_after_start_ok=True)) as broker:
        with pytest.raises(ConnectionClosed, match="during the AMQP handshake") as info:
            await connect(broker.url)
        assert info.value.reply_code == CONNECTION_LOST


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectError, match=f"cannot connect to 127.0.0.1:{port}") as info:
        await connect(f"amqp://guest:guest@127.0.0.1:{port}/%2f")
    assert isinstance(info.value, OSError)


async def test_connect_timeout() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(TimeoutError):
            await connect(f"amqp://127.0.0.1:{port}", timeout=0.2)


async def test_blocked_and_unblocked_callbacks() -> None:
    events: list[str] = []
    async with FakeBroker(Script()) as broker, connect(broker.url) as conn:
        conn.on_blocked = lambda reason: events.append(f"blocked: {reason}")
        conn.on_unblocked = lambda: events.append("unblocked")
        protocol = broker.connections[0]
        protocol.script.blocked_after_open = "low on memory"
        protocol.after_open()
        await wait_for(lambda: len(events) == 2)
        assert events == ["blocked: low on memory", "unblocked"]
        assert not conn.blocked


async def test_protocol_error_from_the_broker_closes_the_connection() -> None:
    async with FakeBroker(Script(garbage_after_open=True)) as broker:
        conn = await connect(broker.url)
        reason = await asyncio.wait_for(conn.wait_closed(), 5)
        assert isinstance(reason, FrameError)
        assert "unknown frame type" in str(reason)


async def test_channel_max_is_enforced_and_numbers_are_reused() -> None:
    async with FakeBroker(Script(channel_max=2)) as broker, connect(broker.url) as conn:
        one, two = await conn.channel(), await conn.channel()
        assert (one.number, two.number) == (1, 2)
        with pytest.raises(ClientError, match="channel numbers are in use"):
            await conn.channel()
        await one.close()
        assert (await conn.channel()).number == 1


async def test_bodies_are_split_at_frame_max() -> None:
    async with FakeBroker(Script(frame_max=4096)) as broker, connect(broker.url) as conn:
        ch = await conn.channel()
        body = bytes(range(256)) * 100  # 25,600 bytes: 7 body frames of at most 4088 bytes
        ch.basic_publish(body, "amq.direct", "rk")
        ch.basic_publish(b"", "amq.direct", "empty")
        await wait_for(lambda: len(broker.record.contents) == 2)
        big, empty = broker.record.contents
        assert isinstance(big.method, BasicPublish)
        assert (big.method.exchange, big.method.routing_key) == ("amq.direct", "rk")
        assert big.body == body
        assert empty.body == b""


async def test_publish_frame_max_splitting_bytes() -> None:
    """Every frame the client writes fits in frame_max (the codec would reject it otherwise)."""
    async with FakeBroker(Script(frame_max=4096)) as broker, connect(broker.url) as conn:
        ch = await conn.channel()
        ch.basic_publish(b"x" * 4088, routing_key="exact")  # one body frame, exactly frame_max
        ch.basic_publish(b"x" * 4089, routing_key="plus-one")  # two body frames
        await wait_for(lambda: len(broker.record.contents) == 2)
        assert [len(c.body) for c in broker.record.contents] == [4088, 4089]
        assert conn.is_open


async def test_server_channel_close_fails_everything_waiting_on_the_channel() -> None:
    async with FakeBroker() as broker, connect(broker.url) as conn:
        ch = await conn.channel()
        await ch.confirm_select()
        ch.basic_publish(b"1", routing_key="q")
        confirmed = ch.publish_confirmed(b"2", routing_key="q")
        waiting = asyncio.ensure_future(ch.wait_for_confirms())
        rpc = asyncio.ensure_future(ch.basic_qos(1))  # the fake broker never answers Basic.Qos
        await wait_for(lambda: len(broker.record.contents) == 2)
        broker.connections[0].close_channel(ch.number, 406, "PRECONDITION_FAILED - test")
        for pending in (confirmed, waiting, rpc):
            with pytest.raises(PreconditionFailed, match="406 PRECONDITION_FAILED - test"):
                await asyncio.wait_for(pending, 5)
        assert not ch.is_open
        assert any(isinstance(m, ChannelCloseOk) for m in broker.record.methods)
        assert (await conn.channel()).number == 2  # the connection lives on


async def test_amqps_with_an_ssl_context() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with FakeBroker(ssl=server_context) as broker:
        assert broker.url.startswith("amqps://")
        async with connect(broker.url, ssl=client_context) as conn:
            ch = await conn.channel()
            ch.basic_publish(b"over tls", routing_key="q")
            await wait_for(lambda: broker.record.contents)
            assert broker.record.contents[0].body == b"over tls"
        with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await connect(broker.url)  # the default context does not trust the test CA


async def test_cancelled_channel_open_closes_the_channel() -> None:
    async with FakeBroker() as broker, connect(broker.url) as conn:
        opening = asyncio.ensure_future(conn.channel())
        await asyncio.sleep(0)
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening
        await wait_for(lambda: any(isinstance(m, ChannelClose) for m in broker.record.methods))
        await wait_for(lambda: not conn._channels)
