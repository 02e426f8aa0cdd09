"""AMQP over WebSocket: an ``asyncio.Transport`` whose bytes travel in WebSocket messages.

As LavinMQ's ``WebSocketIO``: every binary message from the client is a chunk of the raw
AMQP byte stream (frames may be split across messages or share one) and goes to the same
:class:`~lavinmq.server.protocol.AMQPProtocol` a TCP connection gets; what the protocol
writes leaves as binary messages of up to ``MAX_MESSAGE`` bytes.

The HTTP layer owns the WebSocket (aiohttp's ``WebSocketResponse``): it calls ``feed``
for each binary message, awaits ``readable`` before reading the next one (so that
``pause_reading`` stops reading the socket, as on TCP) and calls ``connection_lost`` when
the WebSocket is gone. Sends are asynchronous there, so writes are buffered here and a
writer task drains them; ``pause_writing``/``resume_writing`` follow the buffer's
water marks exactly as asyncio's socket transports do.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from lavinmq.server.protocol import AMQPProtocol

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from lavinmq.broker.broker import Broker

log = logging.getLogger(__name__)
HIGH_WATER = 1024 * 1024
LOW_WATER = 256 * 1024
MAX_MESSAGE = 128 * 1024
"""Largest WebSocket message sent: bigger writes are split (clients reassemble frames)."""


class WebSocketLike(Protocol):
    """What the transport needs of a WebSocket (aiohttp's ``WebSocketResponse`` fits)."""

    async def send_bytes(self, data: bytes) -> None: ...

    async def close(self) -> bool: ...


class WebSocketTransport(asyncio.Transport):
    """One AMQP connection carried by one WebSocket.

    Args:
        broker: the broker the connection belongs to.
        ws: the WebSocket, already accepted.
        extra: ``get_extra_info`` values (``peername``, ``sockname``, ``peercert``...).
    """

    def __init__(self, broker: Broker, ws: WebSocketLike, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self._ws = ws
        self._loop = broker.loop
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._high = HIGH_WATER
        self._low = LOW_WATER
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._lost = False
        self._write_paused = False
        self._reading = asyncio.Event()
        self._reading.set()
        self.protocol = AMQPProtocol(broker, tls=extra.get("sslcontext") is not None)
        self.protocol.connection_made(self)

    # -- called by the HTTP layer -------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """A binary message arrived: more of the AMQP byte stream."""
        if not self._lost:
            self.protocol.data_received(data)

    async def readable(self) -> None:
        """Return when the protocol wants more data (not paused)."""
        await self._reading.wait()

    def connection_lost(self, exc: Exception | None = None) -> None:
        """The WebSocket is closed; tell the protocol (once)."""
        if self._lost:
            return
        self._lost = self._closing = True
        self._buffer.clear()
        self._buffered = 0
        self._reading.set()
        self.protocol.connection_lost(exc)

    # -- asyncio.Transport --------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writelines((data,))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        if self._closing:
            return
        chunk = b"".join(list_of_data)
        if not chunk:
            return
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        self._start_writer()
        if not self._write_paused and self._buffered > self._high:
            self._write_paused = True
            self.protocol.pause_writing()

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        self.close()

    def close(self) -> None:
        """Send what is buffered, then close the WebSocket."""
        if self._closing:
            return
        self._closing = True
        self._start_writer()

    def abort(self) -> None:
        self._buffer.clear()
        self._buffered = 0
        self.close()

    def is_closing(self) -> bool:
        return self._closing

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def is_reading(self) -> bool:
        return self._reading.is_set()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = HIGH_WATER if high is None else high
        self._low = min(self._high, LOW_WATER if low is None else low)

    def get_write_buffer_size(self) -> int:
        return self._buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    # -- the writer task ----------------------------------------------------------------

    def _start_writer(self) -> None:
        if self._writer is None and not self._lost:
            self._writer = self._loop.create_task(self._write_loop())

    async def _write_loop(self) -> None:
        try:
            while self._buffer:
                data = b"".join(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
                self._buffer.clear()
                for start in range(0, len(data), MAX_MESSAGE):
                    chunk = data[start : start + MAX_MESSAGE] if len(data) > MAX_MESSAGE else data
                    await self._ws.send_bytes(chunk)
                    self._buffered = max(0, self._buffered - len(chunk))
                    if self._write_paused and self._buffered <= self._low:
                        self._write_paused = False
                        self.protocol.resume_writing()
            if self._closing:
                await self._ws.close()
        except (ConnectionError, RuntimeError) as exc:  # the peer went away mid-send
            log.debug("websocket send failed: %s", exc)
            self._buffer.clear()
            self._buffered = 0
        finally:
            self._writer = None


def websocket_transport(
    broker: Broker,
) -> Callable[[WebSocketLike, dict[str, Any]], WebSocketTransport]:
    """The factory the HTTP layer calls as ``factory(ws, extra)`` for each AMQP WebSocket."""

    def make(ws: WebSocketLike, extra: dict[str, Any]) -> WebSocketTransport:
        return WebSocketTransport(broker, ws, extra)

    return make


__all__ = ["WebSocketLike", "WebSocketTransport", "websocket_transport"]
