"""Helpers for the integration tier: polling, pika connections and a raw AMQP socket.

The raw client encodes and decodes frames with pamqp (an independent codec), so a bug in
our own ``lavinmq.amqp`` can't hide a bug in the server.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pika
from pamqp import commands, frame, header, heartbeat
from pamqp import encode as pamqp_encode
from pamqp.body import ContentBody

from tests.broker_thread import BrokerThread

T = TypeVar("T")
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_END = b"\xce"


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
    """Poll ``predicate`` every 10 ms until it returns something truthy (or fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.01)


async def async_wait_for(
    predicate: Callable[[], T | Awaitable[T]], within: float = 5.0, what: str = ""
) -> T:
    """``wait_for`` for async tests: polls without blocking the test's event loop."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or predicate}")
        await asyncio.sleep(0.01)


def pika_params(broker: BrokerThread, **kwargs: Any) -> pika.ConnectionParameters:
    user = kwargs.pop("user", "guest")
    password = kwargs.pop("password", "guest")
    kwargs.setdefault("connection_attempts", 1)
    kwargs.setdefault("blocked_connection_timeout", None)
    return pika.ConnectionParameters(
        host="127.0.0.1",
        port=broker.amqp_port,
        credentials=pika.PlainCredentials(user, password),
        **kwargs,
    )


def pika_connect(broker: BrokerThread, **kwargs: Any) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika_params(broker, **kwargs))


def assert_broker_alive(broker: BrokerThread) -> None:
    """A fresh connection can still declare, publish and get: the broker kept serving."""
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", q, b"alive")
        method, _, body = ch.basic_get(q, auto_ack=True)
        assert method is not None and body == b"alive"
    finally:
        conn.close()


def queue_exists(broker: BrokerThread, name: str, vhost: str = "/") -> bool:
    return broker.call(lambda: name in broker.broker.vhosts[vhost].queues)


def exchange_exists(broker: BrokerThread, name: str, vhost: str = "/") -> bool:
    return broker.call(lambda: name in broker.broker.vhosts[vhost].exchanges)


def connection_count(broker: BrokerThread) -> int:
    return broker.call(lambda: len(broker.broker.connections))


# -- raw socket client ------------------------------------------------------------------


def amqplain_response(login: str, password: str) -> bytes:
    """An AMQPLAIN response: a field table without its length prefix (as clients send it)."""
    return pamqp_encode.field_table({"LOGIN": login, "PASSWORD": password})[4:]


def raw_frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + FRAME_END


class RawClient:
    """A blocking AMQP client on a bare socket, for what real clients won't send."""

    def __init__(self, port: int, timeout: float = 5.0, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()
        self.frame_max = 131072

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, channel: int, *values: Any) -> None:
        """Marshal pamqp frames (methods, headers, bodies) and send them in one write."""
        self.sock.sendall(b"".join(frame.marshal(v, channel) for v in values))

    def publish(
        self,
        channel: int,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: commands.Basic.Properties | None = None,
    ) -> None:
        chunk = self.frame_max - 8
        self.send(
            channel,
            commands.Basic.Publish(exchange=exchange, routing_key=routing_key),
            header.ContentHeader(0, len(body), properties or commands.Basic.Properties()),
            *(ContentBody(body[i : i + chunk]) for i in range(0, len(body), chunk)),
        )

    # -- receiving ----------------------------------------------------------------------

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def recv_exact(self, n: int, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise EOFError(f"connection closed with {bytes(self.buf)!r} buffered")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def recv_frame(self, timeout: float | None = None) -> tuple[int, Any]:
        """The next frame as (channel, pamqp value); raises EOFError on close."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < 7:
            if not self._fill(deadline):
                raise EOFError(f"connection closed with {bytes(self.buf)!r} buffered")
        size = struct.unpack_from(">I", self.buf, 3)[0]
        while len(self.buf) < size + 8:
            if not self._fill(deadline):
                raise EOFError("connection closed inside a frame")
        consumed, channel, value = frame.unmarshal(bytes(self.buf[: size + 8]))
        del self.buf[:consumed]
        return channel, value

    def expect(self, cls: type[T], timeout: float | None = None, channel: int | None = None) -> T:
        """Skip heartbeats; the next frame must be a ``cls`` (on ``channel``)."""
        while True:
            ch, value = self.recv_frame(timeout)
            if isinstance(value, heartbeat.Heartbeat) and cls is not heartbeat.Heartbeat:
                continue
            assert isinstance(value, cls), f"expected {cls.__name__}, got {value!r} on channel {ch}"
            if channel is not None:
                assert ch == channel, f"{value!r} on channel {ch}, expected {channel}"
            return value

    def wait_eof(self, timeout: float | None = None) -> bytes:
        """Read until the server closes the socket; return what came before."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                if not self._fill(deadline):
                    break
            except ConnectionResetError:
                break
        data = bytes(self.buf)
        self.buf.clear()
        return data

    # -- handshake ------------------------------------------------------------------------

    def start(self) -> commands.Connection.Start:
        self.send_bytes(PROTOCOL_HEADER)
        return self.expect(commands.Connection.Start)

    def handshake(
        self,
        user: str = "guest",
        password: str = "guest",
        vhost: str = "/",
        *,
        heartbeat: int = 0,
        channel_max: int | None = None,
        frame_max: int | None = None,
        mechanism: str = "PLAIN",
        capabilities: dict[str, Any] | None = None,
    ) -> commands.Connection.Tune:
        """Protocol header .. Open-Ok; returns the server's Tune."""
        self.start()
        response = (
            amqplain_response(user, password)
            if mechanism == "AMQPLAIN"
            else f"\x00{user}\x00{password}".encode()
        )
        props = {"product": "raw", "capabilities": capabilities or {}}
        self.send(
            0,
            commands.Connection.StartOk(
                client_properties=props, mechanism=mechanism, response=response.decode("latin-1")
            ),
        )
        tune = self.expect(commands.Connection.Tune)
        self.frame_max = tune.frame_max if frame_max is None else frame_max
        self.send(
            0,
            commands.Connection.TuneOk(
                channel_max=tune.channel_max if channel_max is None else channel_max,
                frame_max=self.frame_max,
                heartbeat=heartbeat,
            ),
            commands.Connection.Open(virtual_host=vhost),
        )
        self.expect(commands.Connection.OpenOk)
        return tune

    def open_channel(self, number: int = 1) -> None:
        self.send(number, commands.Channel.Open())
        self.expect(commands.Channel.OpenOk, channel=number)

    def close_channel(self, number: int = 1) -> None:
        self.send(number, commands.Channel.Close(200, "", 0, 0))
        self.expect(commands.Channel.CloseOk, channel=number)

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.send(0, commands.Connection.Close(200, "bye", 0, 0))
            self.expect(commands.Connection.CloseOk)
        self.sock.close()

    def expect_connection_close(self, timeout: float | None = None) -> commands.Connection.Close:
        """The server sends Connection.Close; answer Close-Ok and wait for the socket to close."""
        close = self.expect(commands.Connection.Close, timeout)
        try:
            self.send(0, commands.Connection.CloseOk())
        except OSError:
            pass
        self.wait_eof(timeout)
        return close


def drain(ch: Any, queue: str) -> list[bytes]:
    """Every message body left in ``queue``, fetched with Basic.Get (no-ack) via pika."""
    bodies = []
    while True:
        method, _, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return bodies
        bodies.append(body)


def pump(
    conn: pika.BlockingConnection, predicate: Callable[[], T], timeout: float = 5.0, what: str = ""
) -> T:
    """Run pika's I/O loop in 10 ms slices until ``predicate`` is truthy (or fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        conn.process_data_events(time_limit=0.01)


def queue_state(broker: BrokerThread, name: str, vhost: str = "/") -> tuple[int, int, int]:
    """(ready, unacked, consumers) of a queue, read inside the broker loop."""

    def read() -> tuple[int, int, int]:
        q = broker.broker.vhosts[vhost].queues[name]
        return q.message_count, q.unacked, q.consumer_count

    return broker.call(read)
