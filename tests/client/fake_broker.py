"""A scripted AMQP server for client tests that a real broker can't stage.

It speaks just enough AMQP (through the codec in ``Role.SERVER``) to complete the
handshake and open channels, and can misbehave on purpose: stay silent so heartbeats
time out, drop the socket during the handshake, send Connection.Blocked, send garbage.

It also has two benchmark modes that take the broker's cost out of the measurement:
``sink`` discards everything after the channel is open, and ``blast`` answers a
Basic.Consume with an endless stream of deliveries (respecting TCP backpressure).
Run ``python tests/client/fake_broker.py --help`` to use it as a separate process.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from ssl import SSLContext

from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.events import (
    ContentReceived,
    Event,
    HeartbeatReceived,
    MethodReceived,
    ProtocolHeaderReceived,
)
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.spec import (
    BasicConsume,
    BasicConsumeOk,
    BasicDeliver,
    ChannelClose,
    ChannelCloseOk,
    ChannelOpen,
    ChannelOpenOk,
    ConfirmSelect,
    ConfirmSelectOk,
    ConnectionBlocked,
    ConnectionClose,
    ConnectionCloseOk,
    ConnectionOpen,
    ConnectionOpenOk,
    ConnectionStart,
    ConnectionStartOk,
    ConnectionTune,
    ConnectionUnblocked,
    Method,
)


@dataclass
class Script:
    """How the fake broker behaves."""

    heartbeat: int = 0
    frame_max: int = 131072
    channel_max: int = 2047
    drop_after_start_ok: bool = False
    blocked_after_open: str | None = None
    garbage_after_open: bool = False
    sink: bool = False
    blast_body: bytes | None = None


@dataclass
class Record:
    """What the fake broker saw (shared by all its connections)."""

    methods: list[Method] = field(default_factory=list)
    contents: list[ContentReceived] = field(default_factory=list)
    heartbeats: int = 0
    sunk_bytes: int = 0
    raw_frames: list[tuple[int, int]] = field(default_factory=list)


class FakeBrokerProtocol(asyncio.Protocol):
    """One server-side connection of the fake broker."""

    def __init__(self, script: Script, record: Record) -> None:
        self.script = script
        self.record = record
        self.codec = AMQPConnection(Role.SERVER, frame_max=script.frame_max or 2**32 - 1)
        self.transport: asyncio.Transport | None = None
        self.sinking = False
        self.paused = False
        self.blasting: asyncio.Task[None] | None = None
        self.resumed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.sinking:
            self.record.sunk_bytes += len(data)
            return
        for event in self.codec.receive_data(data):
            self.on_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.blasting is not None:
            self.blasting.cancel()

    def pause_writing(self) -> None:
        self.paused = True
        self.resumed.clear()

    def resume_writing(self) -> None:
        self.paused = False
        self.resumed.set()

    def send(self, channel: int, method: Method) -> None:
        if self.transport is not None:
            self.transport.write(method_frame(channel, method))

    def on_event(self, event: Event) -> None:
        if isinstance(event, ProtocolHeaderReceived):
            self.send(0, ConnectionStart(server_properties={"product": "fake"}))
        elif isinstance(event, HeartbeatReceived):
            self.record.heartbeats += 1
        elif isinstance(event, ContentReceived):
            self.record.contents.append(event)
        elif isinstance(event, MethodReceived):
            self.record.methods.append(event.method)
            self.on_method(event.channel, event.method)
        elif isinstance(event, FrameRejected) and self.transport is not None:
            self.transport.close()

    def on_method(self, channel: int, method: Method) -> None:
        script = self.script
        if isinstance(method, ConnectionStartOk):
            if script.drop_after_start_ok and self.transport is not None:
                self.transport.close()
                return
            tune = ConnectionTune(script.channel_max, script.frame_max, script.heartbeat)
            self.send(0, tune)
        elif isinstance(method, ConnectionOpen):
            self.send(0, ConnectionOpenOk())
            self.after_open()
        elif isinstance(method, ChannelOpen):
            self.send(channel, ChannelOpenOk())
            self.sinking = script.sink
        elif isinstance(method, ChannelClose):
            self.send(channel, ChannelCloseOk())
        elif isinstance(method, ConnectionClose):
            self.send(0, ConnectionCloseOk())
        elif isinstance(method, ConfirmSelect):
            self.send(channel, ConfirmSelectOk())
        elif isinstance(method, BasicConsume) and script.blast_body is not None:
            self.send(channel, BasicConsumeOk("blast"))
            self.blasting = asyncio.ensure_future(self.blast(channel, script.blast_body))

    def close_channel(self, channel: int, reply_code: int, reply_text: str) -> None:
        """Close a channel from the server side, as a broker does on a soft error."""
        self.send(channel, ChannelClose(reply_code, reply_text, 0, 0))

    def after_open(self) -> None:
        if self.transport is None:
            return
        if self.script.blocked_after_open is not None:
            self.transport.write(method_frame(0, ConnectionBlocked(self.script.blocked_after_open)))
            self.transport.write(method_frame(0, ConnectionUnblocked()))
        if self.script.garbage_after_open:
            self.transport.write(b"\x09\x00\x00\x00\x00\x00\x00\xce")  # frame type 9: invalid

    async def blast(self, channel: int, body: bytes) -> None:
        """Send deliveries forever, 1000 per write, waiting while the client is slow."""
        chunk = b"".join(
            method_frame(channel, BasicDeliver("blast", tag, False, "", "q"))
            + b"".join(content_frames(channel, body))
            for tag in range(1, 1001)
        )
        while self.transport is not None:
            self.transport.write(chunk)
            if self.paused:
                await self.resumed.wait()
            else:
                await asyncio.sleep(0)


class FakeBroker:
    """An in-process fake broker on 127.0.0.1 and a free port.

    Args:
        script: how it behaves; see :class:`Script`.
    """

    def __init__(self, script: Script | None = None, ssl: SSLContext | None = None) -> None:
        self.script = script or Script()
        self.ssl = ssl
        self.record = Record()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.connections: list[FakeBrokerProtocol] = []

    @property
    def url(self) -> str:
        scheme = "amqps" if self.ssl else "amqp"
        return f"{scheme}://guest:guest@127.0.0.1:{self.port}/%2f"

    async def __aenter__(self) -> FakeBroker:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, "127.0.0.1", self.port, ssl=self.ssl)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def _protocol(self) -> FakeBrokerProtocol:
        protocol = FakeBrokerProtocol(self.script, self.record)
        self.connections.append(protocol)
        return protocol

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        for protocol in self.connections:
            if protocol.transport is not None:
                protocol.transport.abort()
        await self.server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake broker as a benchmark peer.")
    parser.add_argument("--port", type=int, default=5673)
    parser.add_argument("--mode", choices=["sink", "blast"], required=True)
    parser.add_argument("--size", type=int, default=16, help="blast body size")
    args = parser.parse_args()
    script = Script(sink=args.mode == "sink")
    if args.mode == "blast":
        script.blast_body = b"x" * args.size

    async def serve() -> None:
        broker = FakeBroker(script)
        broker.port = args.port
        async with broker:
            await asyncio.Event().wait()

    import uvloop

    uvloop.run(serve())


if __name__ == "__main__":
    main()
