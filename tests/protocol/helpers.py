"""MockTransport and a connected-protocol helper (uvicorn tests/protocols/test_http.py)."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from pamqp import commands, frame, header
from pamqp.body import ContentBody

from lavinmq.broker.broker import Broker
from lavinmq.server.protocol import AMQPProtocol

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


class MockTransport:
    """Records what the protocol writes and whether it paused reading or closed."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.writes = 0
        self.closed = False
        self.eof_written = False
        self.read_paused = False
        self.pause_calls = 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 5672)}.get(
            name, default
        )

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def write(self, data: bytes) -> None:
        assert not self.closed and not self.eof_written, "write after close"
        self.writes += 1
        self.buffer += data

    def writelines(self, lines: list[bytes]) -> None:
        assert not self.closed and not self.eof_written, "write after close"
        self.writes += 1
        for line in lines:
            self.buffer += line

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.read_paused = True
        self.pause_calls += 1

    def resume_reading(self) -> None:
        self.read_paused = False

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def marshal(channel: int, *values: Any) -> bytes:
    return b"".join(frame.marshal(v, channel) for v in values)


def publish(
    channel: int,
    routing_key: str,
    body: bytes,
    exchange: str = "",
    properties: commands.Basic.Properties | None = None,
) -> bytes:
    return marshal(
        channel,
        commands.Basic.Publish(exchange=exchange, routing_key=routing_key),
        header.ContentHeader(0, len(body), properties or commands.Basic.Properties()),
        *([ContentBody(body)] if body else []),
    )


def handshake_bytes(frame_max: int = 131072, heartbeat: int = 0) -> bytes:
    return PROTOCOL_HEADER + marshal(
        0,
        commands.Connection.StartOk(
            client_properties={"capabilities": {"consumer_cancel_notify": True}},
            response="\x00guest\x00guest",
        ),
        commands.Connection.TuneOk(channel_max=2047, frame_max=frame_max, heartbeat=heartbeat),
        commands.Connection.Open(virtual_host="/"),
    )


def parse(data: bytes) -> list[tuple[int, Any]]:
    """Every frame in ``data`` as (channel, pamqp value); the data must end on a frame."""
    out = []
    while data:
        if data.startswith(b"AMQP"):
            out.append((0, data[:8]))
            data = data[8:]
            continue
        size = struct.unpack_from(">I", data, 3)[0]
        consumed, channel, value = frame.unmarshal(data[: size + 8])
        out.append((channel, value))
        data = data[consumed:]
    return out


def names(frames: list[tuple[int, Any]]) -> list[str]:
    return [getattr(v, "name", type(v).__name__) for _, v in frames]


async def settle(rounds: int = 3) -> None:
    """Let the end-of-iteration tick (store flush, socket writes) and deliveries run."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def connect(
    broker: Broker, *, frame_max: int = 131072, channels: tuple[int, ...] = (1,)
) -> tuple[AMQPProtocol, MockTransport]:
    """A protocol that went through the handshake and opened ``channels``."""
    proto = AMQPProtocol(broker)
    transport = MockTransport()
    proto.connection_made(transport)  # type: ignore[arg-type]
    proto.data_received(
        handshake_bytes(frame_max) + b"".join(marshal(n, commands.Channel.Open()) for n in channels)
    )
    await settle()
    got = names(parse(transport.take()))
    assert got == ["Connection.Start", "Connection.Tune", "Connection.OpenOk"] + [
        "Channel.OpenOk"
    ] * len(channels), got
    return proto, transport
