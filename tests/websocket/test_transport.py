"""``WebSocketTransport`` on a fake WebSocket: write buffering, water marks, close order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lavinmq.broker.broker import Broker
from lavinmq.config import Config
from lavinmq.server.websocket import WebSocketTransport


class FakeWebSocket:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_bytes(self, data: bytes) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self) -> bool:
        self.closed = True
        return True


@pytest.fixture
async def core(tmp_path: Path) -> Any:
    broker = Broker(Config(data_dir=str(tmp_path / "data")), asyncio.get_running_loop())
    broker.start()
    yield broker
    broker.close()


async def test_water_marks_pause_and_resume_the_protocol(core: Broker) -> None:
    ws = FakeWebSocket()
    transport = WebSocketTransport(core, ws, {"peername": ("10.0.0.1", 1234)})
    protocol = transport.protocol
    assert protocol.peer == ("10.0.0.1", 1234)
    transport.set_write_buffer_limits(high=100, low=10)
    ws.gate.clear()  # the peer reads nothing
    transport.write(b"x" * 60)
    assert protocol.writable
    transport.writelines([b"y" * 30, b"z" * 30])
    assert not protocol.writable and transport.get_write_buffer_size() == 120
    ws.gate.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert protocol.writable and transport.get_write_buffer_size() == 0
    assert b"".join(ws.sent) == b"x" * 60 + b"y" * 30 + b"z" * 30
    transport.close()
    transport.write(b"after close")  # dropped, as a closing socket transport does
    for _ in range(5):
        await asyncio.sleep(0)
    assert ws.closed and b"after close" not in b"".join(ws.sent)
    transport.connection_lost(None)
    assert protocol.closed


async def test_pause_reading_blocks_the_reader(core: Broker) -> None:
    transport = WebSocketTransport(core, FakeWebSocket(), {})
    transport.pause_reading()
    assert not transport.is_reading()
    waiter = asyncio.ensure_future(transport.readable())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    transport.resume_reading()
    await asyncio.wait_for(waiter, 1)
    transport.connection_lost(None)
