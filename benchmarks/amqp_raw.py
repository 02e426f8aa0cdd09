"""A minimal blocking AMQP 0-9-1 client for benchmarks: handshake, declare, and a publisher
that writes pre-encoded frames as fast as the socket takes them.

It speaks plain AMQP (no broker-specific extension), so the same code loads LavinMQ and
RabbitMQ. Frames are encoded with ``lavinmq.amqp`` (the codec is tested against pamqp).
"""

from __future__ import annotations

import socket
import struct
import time
from typing import TypeVar

from lavinmq.amqp import spec
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import BasicProperties

M = TypeVar("M", bound=spec.Method)

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
_FRAME_HEAD = struct.Struct(">BHI")


class RawClient:
    """One blocking connection with channel 1 open.

    Args:
        port: the broker's AMQP port on 127.0.0.1.
        timeout: socket timeout for every read.
    """

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        timeout: float = 60.0,
        user: str = "guest",
        password: str = "guest",
    ) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self.frame_max = 131072
        self._handshake(user, password)

    def _handshake(self, user: str, password: str) -> None:
        self.sock.sendall(PROTOCOL_HEADER)
        self.expect(spec.ConnectionStart)
        props = {"product": "lavinmq-bench", "capabilities": {"publisher_confirms": True}}
        response = f"\x00{user}\x00{password}".encode()
        self.send(0, spec.ConnectionStartOk(props, "PLAIN", response, "en_US"))
        tune = self.expect(spec.ConnectionTune)
        self.frame_max = min(tune.frame_max or 131072, 131072)
        # Heartbeats off: idle connections must stay idle (nothing to answer).
        self.send(0, spec.ConnectionTuneOk(tune.channel_max or 2047, self.frame_max, 0))
        self.send(0, spec.ConnectionOpen("/"))
        self.expect(spec.ConnectionOpenOk)
        self.send(1, spec.ChannelOpen())
        self.expect(spec.ChannelOpenOk)

    # -- frames ------------------------------------------------------------------------

    def send(self, channel: int, method: spec.Method) -> None:
        self.sock.sendall(method_frame(channel, method))

    def _read_frame(self) -> tuple[int, int, bytes]:
        while True:
            if len(self._buf) >= 7:
                kind, channel, size = _FRAME_HEAD.unpack_from(self._buf)
                if len(self._buf) >= size + 8:
                    payload = bytes(self._buf[7 : 7 + size])
                    del self._buf[: size + 8]
                    return kind, channel, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            self._buf += chunk

    def expect(self, cls: type[M]) -> M:
        """Read frames until a method arrives (heartbeats and content are skipped)."""
        while True:
            kind, _, payload = self._read_frame()
            if kind != 1:
                continue
            index = int.from_bytes(payload[:4], "big")
            method_cls = spec.METHODS.get(index)
            if method_cls is None:
                raise ConnectionError(f"unknown method {index:#x}")
            method = method_cls.decode(memoryview(payload)[4:], 0)
            if isinstance(method, spec.ConnectionClose | spec.ChannelClose):
                raise ConnectionError(f"closed by the broker: {method}")
            if isinstance(method, cls):
                return method

    # -- operations ----------------------------------------------------------------------

    def declare_queue(self, name: str, durable: bool = True, nowait: bool = False) -> int:
        """Declare a queue; returns its message count (0 with ``nowait``)."""
        self.send(1, spec.QueueDeclare(0, name, False, durable, False, False, nowait, {}))
        if nowait:
            return 0
        ok = self.expect(spec.QueueDeclareOk)
        assert isinstance(ok, spec.QueueDeclareOk)
        return ok.message_count

    def message_count(self, name: str) -> int:
        self.send(1, spec.QueueDeclare(0, name, True, False, False, False, False, {}))
        ok = self.expect(spec.QueueDeclareOk)
        assert isinstance(ok, spec.QueueDeclareOk)
        return ok.message_count

    def publish(
        self, queue: str, body: bytes, count: int, persistent: bool = True, chunk: int = 2000
    ) -> None:
        """Publish ``count`` copies of ``body`` to ``queue`` (default exchange), no confirms.

        One message is encoded once; the socket gets ``chunk`` messages per write.
        """
        props = BasicProperties(delivery_mode=2 if persistent else 1).encode()
        one = method_frame(1, spec.BasicPublish(0, "", queue, False, False)) + b"".join(
            content_frames(1, body, props, self.frame_max)
        )
        block = one * chunk
        full, rest = divmod(count, chunk)
        for _ in range(full):
            self.sock.sendall(block)
        if rest:
            self.sock.sendall(one * rest)

    def consume(self, queue: str, count: int) -> None:
        """Consume ``count`` messages with automatic acks (no_ack), then cancel."""
        self.send(1, spec.BasicConsume(0, queue, "bench", False, True, False, False, {}))
        self.expect(spec.BasicConsumeOk)
        deliver = spec.BasicDeliver.INDEX.to_bytes(4, "big")
        received = 0
        while received < count:
            kind, _, payload = self._read_frame()
            if kind == 1 and payload[:4] == deliver:
                received += 1
        self.send(1, spec.BasicCancel("bench", False))
        self.expect(spec.BasicCancelOk)

    def wait_for_count(self, queue: str, count: int, timeout: float = 3600.0) -> float:
        """Poll until ``queue`` holds ``count`` messages; returns the seconds it took."""
        started = time.monotonic()
        while self.message_count(queue) < count:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{queue} did not reach {count} messages")
            time.sleep(0.2)
        return time.monotonic() - started

    def close(self) -> None:
        try:
            self.send(0, spec.ConnectionClose(200, "bye", 0, 0))
            self.expect(spec.ConnectionCloseOk)
        except (OSError, ConnectionError):
            pass
        finally:
            self.sock.close()
