"""A fake AMQP 0-9-1 server that costs (almost) nothing: the ceiling of lavinmqperf itself.

It completes the handshake and answers declares, binds, qos and consumes. A connection
that publishes becomes a *sink*: from its first message on, everything it sends is
dropped unread (only a trailing Connection.Close is noticed). A Basic.Consume starts a
*blast*: pre-encoded deliveries, 1000 per write, as fast as TCP takes them. What
lavinmqperf reports against it is what the tool can do with a free broker.

    python -m benchmarks.amqp_peer --port 5699 [--size 16]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import numpy as np

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, Role
from lavinmq.amqp.events import (
    ContentReceived,
    MethodReceived,
    ProtocolHeaderReceived,
    PublishBatch,
)
from lavinmq.amqp.frames import content_frames, method_frame

CHUNK_BYTES = 4 * 1024 * 1024
CONNECTION_CLOSE = b"\x00\x0a\x00\x32"
"""Class 10, method 50: what a sinking connection still watches for."""

_REPLIES: dict[type[spec.Method], Any] = {
    spec.ChannelOpen: lambda m: spec.ChannelOpenOk(),
    spec.ChannelClose: lambda m: spec.ChannelCloseOk(),
    spec.ConfirmSelect: lambda m: spec.ConfirmSelectOk(),
    spec.TxSelect: lambda m: spec.TxSelectOk(),
    spec.BasicQos: lambda m: spec.BasicQosOk(),
    spec.QueueDeclare: lambda m: spec.QueueDeclareOk(m.queue or "amq.gen-peer", 0, 0),
    spec.QueueBind: lambda m: spec.QueueBindOk(),
    spec.QueuePurge: lambda m: spec.QueuePurgeOk(0),
    spec.QueueDelete: lambda m: spec.QueueDeleteOk(0),
    spec.ExchangeDeclare: lambda m: spec.ExchangeDeclareOk(),
    spec.BasicCancel: lambda m: spec.BasicCancelOk(m.consumer_tag),
}


class PeerProtocol(asyncio.Protocol):
    """One connection to the fake server."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.codec = AMQPConnection(Role.SERVER, batch_publishes=True)
        self.transport: asyncio.Transport | None = None
        self.sinking = False
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.blast: asyncio.Task[None] | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.blast is not None:
            self.blast.cancel()

    def pause_writing(self) -> None:
        self.resumed.clear()

    def resume_writing(self) -> None:
        self.resumed.set()

    def send(self, channel: int, method: spec.Method) -> None:
        if self.transport is not None:
            self.transport.write(method_frame(channel, method))

    def data_received(self, data: bytes) -> None:
        if self.sinking:
            if CONNECTION_CLOSE in data[-512:]:
                self.send(0, spec.ConnectionCloseOk())
                if self.transport is not None:
                    self.transport.close()
            return
        for event in self.codec.receive_data(data):
            if type(event) is ProtocolHeaderReceived:
                self.send(
                    0, spec.ConnectionStart(0, 9, {"product": "amqp_peer"}, b"PLAIN", b"en_US")
                )
            elif type(event) in (ContentReceived, PublishBatch):
                self.sinking = True
                return
            elif type(event) is MethodReceived:
                self.on_method(event.channel, event.method)

    def on_method(self, channel: int, method: spec.Method) -> None:
        if isinstance(method, spec.ChannelClose | spec.ConnectionClose) and self.blast is not None:
            self.blast.cancel()  # no delivery after Channel.CloseOk
            self.blast = None
        reply = _REPLIES.get(type(method))
        if reply is not None:
            self.send(channel, reply(method))
        elif isinstance(method, spec.ConnectionStartOk):
            self.send(0, spec.ConnectionTune(2047, 131072, 0))
        elif isinstance(method, spec.ConnectionOpen):
            self.send(0, spec.ConnectionOpenOk())
        elif isinstance(method, spec.ConnectionClose):
            self.send(0, spec.ConnectionCloseOk())
            if self.transport is not None:
                self.transport.close()
        elif isinstance(method, spec.BasicConsume):
            tag = method.consumer_tag or "amq.ctag-peer"
            self.send(channel, spec.BasicConsumeOk(tag))
            self.blast = asyncio.ensure_future(self.deliver(channel, tag))

    async def deliver(self, channel: int, tag: str) -> None:
        """Send deliveries forever, up to 1000 (4 MB) per write, with backpressure. One chunk is encoded
        once; each write only patches its 1000 delivery tags (numpy, strided), as encoding
        would cost more than what is measured. Acks are not looked at."""
        record = method_frame(channel, spec.BasicDeliver(tag, 1, False, "", "perf-test"))
        record += b"".join(content_frames(channel, self.body))
        n = max(1, min(1000, CHUNK_BYTES // len(record)))
        buf = np.frombuffer(bytearray(record * n), dtype=np.uint8)
        offset = 7 + 4 + 1 + len(tag.encode())  # frame head, class/method, tag shortstr
        tags = np.lib.stride_tricks.as_strided(buf[offset:], (n, 8), (len(record), 1))
        first = 1
        while self.transport is not None:
            tags[:] = np.arange(first, first + n, dtype=">u8").view(np.uint8).reshape(n, 8)
            first += n
            self.transport.write(buf.tobytes())
            await self.resumed.wait()
            await asyncio.sleep(0)


async def serve(port: int, size: int) -> None:
    loop = asyncio.get_running_loop()
    body = bytes(i % 27 + 64 for i in range(size))
    server = await loop.create_server(lambda: PeerProtocol(body), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=16, help="body size of blasted deliveries")
    args = parser.parse_args()
    import uvloop

    uvloop.run(serve(args.port, args.size))


if __name__ == "__main__":
    main()
