"""Connection-level behaviour against a real broker (``amqp_url``)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from lavinmq.amqp.errors import AccessRefused, ChannelError, NotAllowed
from lavinmq.amqp.frames import method_frame
from lavinmq.amqp.spec import QueueDeclare
from lavinmq.client import ChannelClosed, Connection, ConnectionClosed, connect

pytestmark = pytest.mark.usefixtures("loop_errors")


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_vhost(url: str, vhost: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{vhost}", query=""))


def with_query(url: str, query: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=query))


async def test_negotiation_and_server_properties(amqp_url: str) -> None:
    url = with_query(amqp_url, "heartbeat=7&frame_max=65536&channel_max=100")
    async with connect(url, name="negotiation test") as conn:
        assert isinstance(conn, Connection)
        assert conn.is_open
        assert "product" in conn.server_properties
        assert conn.server_properties["capabilities"]["publisher_confirms"] is True
        assert (conn.heartbeat, conn.frame_max, conn.channel_max) == (7, 65536, 100)
    assert not conn.is_open


async def test_heartbeat_off_and_server_default(amqp_url: str) -> None:
    async with connect(with_query(amqp_url, "heartbeat=0")) as conn:
        assert conn.heartbeat == 0
    async with connect(with_query(amqp_url, "")) as conn:
        assert conn.heartbeat > 0  # RabbitMQ suggests 60 s, LavinMQ 300 s


async def test_close_is_idempotent_and_later_calls_raise(conn: Connection) -> None:
    ch = await conn.channel()
    await conn.close()
    await conn.close()
    reason = await conn.wait_closed()
    assert reason.reply_code == 200
    with pytest.raises(ConnectionClosed, match="closed by the client"):
        await conn.channel()
    with pytest.raises(ConnectionClosed):
        await ch.queue_declare("")
    with pytest.raises(ConnectionClosed):
        ch.basic_publish(b"x", routing_key="q")
    with pytest.raises(ConnectionClosed):
        await conn.drain()


async def test_bad_credentials(amqp_url: str) -> None:
    with pytest.raises(ConnectionClosed, match="ACCESS_REFUSED") as info:
        await connect(with_credentials(amqp_url, "guest", "wrong-password"))
    assert isinstance(info.value, AccessRefused)
    assert info.value.reply_code == 403


async def test_missing_vhost(amqp_url: str) -> None:
    with pytest.raises(ConnectionClosed) as info:
        await connect(with_vhost(amqp_url, "no-such-vhost"))
    assert isinstance(info.value, NotAllowed)
    assert "no-such-vhost" in info.value.reply_text


async def test_connection_close_from_the_broker_fails_every_channel(conn: Connection) -> None:
    ch = await conn.channel()
    pending = asyncio.ensure_future(ch.basic_qos(1))
    await asyncio.sleep(0)
    conn.send_frame(method_frame(999, QueueDeclare(queue="x")))  # channel 999 is not open
    reason = await asyncio.wait_for(conn.wait_closed(), 5)
    assert isinstance(reason, ChannelError)  # 504 CHANNEL_ERROR
    assert isinstance(reason, ConnectionClosed)
    await asyncio.wait([pending], timeout=5)
    if pending.exception() is not None:  # the qos reply may have beaten the close
        assert isinstance(pending.exception(), ConnectionClosed)
    with pytest.raises(ChannelError):
        await ch.queue_declare("")
    with pytest.raises(ConnectionClosed):
        await conn.channel()


async def test_channels_open_close_and_context_manager(conn: Connection) -> None:
    async with conn.channel() as ch:
        assert ch.is_open
        assert ch.connection is conn
    assert not ch.is_open
    with pytest.raises(ChannelClosed, match="closed by the client") as info:
        await ch.basic_qos(1)
    assert info.value.reply_code == 200
    channels = [await conn.channel() for _ in range(20)]
    assert len({c.number for c in channels}) == 20
    await asyncio.gather(*(c.close() for c in channels))
    assert conn.is_open


async def test_drain_returns_when_writable(conn: Connection) -> None:
    ch = await conn.channel()
    name, _, _ = await ch.queue_declare("", exclusive=True)
    for _ in range(50):
        ch.publish_many(b"x" * 1024, 100, "", name)
        await conn.drain()
    await ch.queue_purge(name)
