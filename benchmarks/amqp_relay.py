"""A fake AMQP 0-9-1 broker that stores nothing: the ceiling of moving messages through a
broker process on this machine.

Each message one publisher sends is passed to the one consumer as it arrives: the
Basic.Publish frame becomes a Basic.Deliver, the content header and body frames are
written on unchanged, as slices of what was read (no copy in user space, no parsing of
the body). The consumer's socket pauses the publisher's reading when full, as a broker's
flow control would. What lavinmqperf gets through it with large bodies is what loopback
TCP, the two client processes and one read plus one write per byte leave for any broker.

    python -m benchmarks.amqp_relay --port 5699

One publisher at a time: content frames of two would interleave on the consumer's socket.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
from typing import Any

from benchmarks.amqp_peer import PeerProtocol
from lavinmq.amqp import spec
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.frames import method_frame

_FRAME = struct.Struct(">BHI")
_PUBLISH = spec.BasicPublish.CLASS_ID << 16 | spec.BasicPublish.METHOD_ID
_METHOD, _HEADER, _BODY = 1, 2, 3


class Relay:
    """What the connections of one relay server share."""

    def __init__(self) -> None:
        self.consumer: RelayProtocol | None = None
        self.channel = 0
        self.tag = ""
        self.delivery_tag = 0
        self.publishers: set[RelayProtocol] = set()

    def deliver_frame(self) -> bytes:
        self.delivery_tag += 1
        deliver = spec.BasicDeliver(self.tag, self.delivery_tag, False, "", "perf-test")
        return method_frame(self.channel, deliver)


class RelayProtocol(PeerProtocol):
    """One connection to the relay; frames are cut by hand, not by the codec."""

    def __init__(self, relay: Relay) -> None:
        super().__init__(b"")
        self.relay = relay
        self.frame = bytearray()  # the header of the frame being read, or a whole method frame
        self.frame_size = 0  # bytes of ``frame`` when it is a method frame being gathered
        self.passing = 0  # bytes of a content frame still to pass on
        self.forwarding = False  # whether the message being read goes to a consumer
        self.started = False

    def data_received(self, data: bytes) -> None:
        i = 0
        if not self.started:
            if data[: len(PROTOCOL_HEADER)] != PROTOCOL_HEADER:
                raise ConnectionError("not AMQP 0-9-1")
            self.started = True
            self.send(0, spec.ConnectionStart(0, 9, {"product": "amqp_relay"}, b"PLAIN", b"en_US"))
            i = len(PROTOCOL_HEADER)
        out: list[bytes | memoryview] = []
        view = memoryview(data)
        while i < len(data):
            if self.passing:
                n = min(self.passing, len(data) - i)
                if self.forwarding:
                    out.append(view[i : i + n])
                self.passing -= n
                i += n
            else:
                i = self._gather(data, i, out)
        consumer = self.relay.consumer
        if out and consumer is not None and consumer.transport is not None:
            consumer.transport.writelines(out)

    def _gather(self, data: bytes, i: int, out: list[bytes | memoryview]) -> int:
        """Read a frame header from ``data[i:]``, or more of a method frame; the new ``i``."""
        frame = self.frame
        want = self.frame_size or 7
        n = min(want - len(frame), len(data) - i)
        frame += data[i : i + n]
        if len(frame) < want:
            return i + n
        kind, _, size = _FRAME.unpack_from(frame)
        if kind in (_HEADER, _BODY):
            if self.forwarding:
                out.append(_FRAME.pack(kind, self.relay.channel, size))
            self.passing = size + 1  # the payload and the frame end, as they arrive
            frame.clear()
        elif not self.frame_size:
            self.frame_size = 7 + size + 1  # gather the rest of the method frame
        else:
            self.frame_size = 0
            self._method_frame(bytes(frame), out)
            frame.clear()
        return i + n

    def _method_frame(self, frame: bytes, out: list[bytes | memoryview]) -> None:
        if frame[0] != _METHOD:
            return  # a heartbeat
        channel = int.from_bytes(frame[1:3], "big")
        index = int.from_bytes(frame[7:11], "big")
        if index == _PUBLISH:
            self.relay.publishers.add(self)
            # a consumer that arrives mid-message gets the next one, from its start
            self.forwarding = self.relay.consumer is not None
            if self.forwarding:
                out.append(self.relay.deliver_frame())
        else:
            self.on_method(channel, spec.METHODS[index].decode(memoryview(frame)[11:-1], 0))

    def on_method(self, channel: int, method: spec.Method) -> None:
        if isinstance(method, spec.BasicConsume):
            relay = self.relay
            relay.consumer, relay.channel = self, channel
            relay.tag = method.consumer_tag or "amq.ctag-relay"
            self.send(channel, spec.BasicConsumeOk(relay.tag))
        else:
            super().on_method(channel, method)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.relay.publishers.discard(self)
        if self.relay.consumer is self:
            self.relay.consumer = None
            self._resume_publishers()

    def pause_writing(self) -> None:
        for publisher in self.relay.publishers:
            if publisher.transport is not None:
                publisher.transport.pause_reading()

    def resume_writing(self) -> None:
        self._resume_publishers()

    def _resume_publishers(self) -> None:
        for publisher in self.relay.publishers:
            if publisher.transport is not None:
                publisher.transport.resume_reading()


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    relay = Relay()
    server = await loop.create_server(lambda: RelayProtocol(relay), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    import uvloop

    uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
