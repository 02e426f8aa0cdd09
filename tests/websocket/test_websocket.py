"""AMQP over WebSocket on the HTTP port: binary messages carry the raw AMQP byte stream.

The client side is our sans-IO codec in the client role driven over an aiohttp
WebSocket, as a browser client would: frames are deliberately split across messages
and several frames share one message.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.events import ContentReceived, Event, MethodReceived
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import BasicProperties
from tests.broker_thread import BrokerThread


class WsClient:
    """A minimal AMQP client over a WebSocket: the codec plus a receive loop."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.codec = AMQPConnection(Role.CLIENT)
        self.events: list[Event] = []

    async def send(self, *frames: bytes, split: int = 0) -> None:
        data = b"".join(frames)
        if not split:
            await self.ws.send_bytes(data)
            return
        for i in range(0, len(data), split):  # a frame spread over several messages
            await self.ws.send_bytes(data[i : i + split])

    async def expect(self, kind: type[Any]) -> Any:
        while True:
            for i, event in enumerate(self.events):
                if isinstance(event, MethodReceived | ContentReceived) and isinstance(
                    event.method, kind
                ):
                    return self.events.pop(i)
            msg = await asyncio.wait_for(self.ws.receive(), 5)
            assert msg.type == aiohttp.WSMsgType.BINARY, msg
            self.events.extend(self.codec.receive_data(msg.data))

    async def handshake(self, user: str = "guest", password: str = "guest") -> None:
        await self.send(PROTOCOL_HEADER, split=3)
        start = (await self.expect(spec.ConnectionStart)).method
        assert b"PLAIN" in start.mechanisms.split()
        response = b"\0" + user.encode() + b"\0" + password.encode()
        await self.send(method_frame(0, spec.ConnectionStartOk({}, "PLAIN", response, "en_US")))
        tune = (await self.expect(spec.ConnectionTune)).method
        await self.send(
            method_frame(0, spec.ConnectionTuneOk(tune.channel_max, tune.frame_max, 0)),
            method_frame(0, spec.ConnectionOpen("/")),
        )  # two frames, one message
        await self.expect(spec.ConnectionOpenOk)


@pytest.fixture
async def ws_url(broker: BrokerThread) -> str:
    return f"ws://127.0.0.1:{broker.http_port}/ws"


async def test_handshake_publish_consume(broker: BrokerThread, ws_url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, protocols=("amqp",)) as ws,
    ):
        assert ws.protocol == "amqp"
        c = WsClient(ws)
        await c.handshake()
        await c.send(method_frame(1, spec.ChannelOpen()))
        await c.expect(spec.ChannelOpenOk)
        await c.send(method_frame(1, spec.QueueDeclare(queue="wsq", durable=True)))
        await c.expect(spec.QueueDeclareOk)
        await c.send(method_frame(1, spec.ConfirmSelect()))
        await c.expect(spec.ConfirmSelectOk)
        props = BasicProperties(content_type="text/plain").encode()
        for i in range(3):
            frames = [
                method_frame(1, spec.BasicPublish(exchange="", routing_key="wsq")),
                *content_frames(1, b"hello %d" % i, props),
            ]
            await c.send(*frames, split=7 if i == 1 else 0)  # message 1 arrives in 7-byte pieces
        for _ in range(3):
            await c.expect(spec.BasicAck)
        conns = broker.call(lambda: [conn.details() for conn in broker.broker.connections.values()])
        assert [d["user"] for d in conns] == ["guest"]
        await c.send(method_frame(1, spec.BasicConsume(queue="wsq", consumer_tag="t", no_ack=True)))
        await c.expect(spec.BasicConsumeOk)
        bodies = [(await c.expect(spec.BasicDeliver)).body for _ in range(3)]
        assert bodies == [b"hello 0", b"hello 1", b"hello 2"]
        await c.send(method_frame(0, spec.ConnectionClose(200, "bye", 0, 0)))
        await c.expect(spec.ConnectionCloseOk)
    await asyncio.sleep(0.1)
    assert broker.call(lambda: len(broker.broker.connections)) == 0


async def test_bad_credentials_and_no_http_auth_needed(broker: BrokerThread) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://127.0.0.1:{broker.http_port}/") as ws,
    ):
        assert ws.protocol is None
        c = WsClient(ws)
        await c.send(PROTOCOL_HEADER)
        await c.expect(spec.ConnectionStart)
        await c.send(
            method_frame(0, spec.ConnectionStartOk({}, "PLAIN", b"\0guest\0wrong", "en_US"))
        )
        close = (await c.expect(spec.ConnectionClose)).method
        assert close.reply_code == 403


async def test_disconnect_cleans_up(broker: BrokerThread, ws_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(ws_url, protocols=("amqpws", "mqtt"))
        assert ws.protocol == "amqpws"
        c = WsClient(ws)
        await c.handshake()
        await c.send(method_frame(1, spec.ChannelOpen()))
        await c.expect(spec.ChannelOpenOk)
        await c.send(method_frame(1, spec.QueueDeclare(queue="", exclusive=True)))
        name = (await c.expect(spec.QueueDeclareOk)).method.queue
        assert broker.call(lambda: name in broker.broker.vhosts["/"].queues)
        await ws.close()  # no AMQP close: the broker sees the connection drop
    for _ in range(100):
        if broker.call(lambda: not broker.broker.connections):
            break
        await asyncio.sleep(0.02)
    assert broker.call(lambda: name not in broker.broker.vhosts["/"].queues)


async def test_large_messages_and_backpressure(broker: BrokerThread, ws_url: str) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB: several frames, more than the write buffer
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        c = WsClient(ws)
        await c.handshake()
        await c.send(method_frame(1, spec.ChannelOpen()))
        await c.expect(spec.ChannelOpenOk)
        await c.send(method_frame(1, spec.QueueDeclare(queue="big")))
        await c.expect(spec.QueueDeclareOk)
        for _ in range(4):
            await c.send(
                method_frame(1, spec.BasicPublish(exchange="", routing_key="big")),
                *content_frames(1, body, frame_max=131072),
            )
        await c.send(method_frame(1, spec.BasicConsume(queue="big", no_ack=True)))
        await c.expect(spec.BasicConsumeOk)
        for _ in range(4):
            assert (await c.expect(spec.BasicDeliver)).body == body
