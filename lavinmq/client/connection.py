"""The connection: an ``asyncio.Protocol`` around the sans-IO codec.

``data_received`` feeds ``AMQPConnection(Role.CLIENT)`` and dispatches the events it
returns to channels. Writes go through :meth:`Connection.send_frame`, which appends to a
list that is written with one ``transport.writelines`` per event-loop iteration, so a
burst of publishes or acks costs one syscall.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.events import ContentReceived, MethodReceived
from lavinmq.amqp.frames import FRAME_OVERHEAD, HEARTBEAT, method_frame
from lavinmq.amqp.spec import (
    ChannelOpen,
    ChannelOpenOk,
    ConnectionBlocked,
    ConnectionClose,
    ConnectionCloseOk,
    ConnectionOpen,
    ConnectionOpenOk,
    ConnectionSecure,
    ConnectionStart,
    ConnectionStartOk,
    ConnectionTune,
    ConnectionTuneOk,
    ConnectionUnblocked,
    Method,
)
from lavinmq.amqp.types import FieldTable
from lavinmq.client.channel import Channel
from lavinmq.client.channel_core import run_callback
from lavinmq.client.errors import CONNECTION_LOST, ClientError, ConnectionClosed
from lavinmq.client.heartbeat import Heartbeat
from lavinmq.client.opening import Opening
from lavinmq.client.url import ConnectionParameters

logger = logging.getLogger(__name__)
NO_FRAME_LIMIT = 2**32 - 1


class Connection(asyncio.Protocol):
    """One AMQP connection; get one with :func:`lavinmq.client.connect`.

    Attributes:
        server_properties: the broker's Connection.Start properties.
        frame_max: the negotiated maximum frame size (0: no limit).
        channel_max: the negotiated highest channel number.
        heartbeat: the negotiated heartbeat interval in seconds (0: off).
        blocked: True while the broker blocks publishers (Connection.Blocked).
        on_blocked: called with the reason when the broker blocks the connection.
        on_unblocked: called when the broker unblocks it.
    """

    def __init__(
        self,
        params: ConnectionParameters,
        loop: asyncio.AbstractEventLoop,
        client_properties: FieldTable,
    ) -> None:
        self.loop = loop
        self.params = params
        self._client_properties = client_properties
        self._codec = AMQPConnection(Role.CLIENT)
        self._transport: asyncio.Transport | None = None
        self._out: list[bytes] = []
        self._flush_pending = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._channels: dict[int, Channel] = {}
        self._next_channel = 1
        self._opened: asyncio.Future[None] = loop.create_future()
        self._lost: asyncio.Future[None] = loop.create_future()
        self._closed: ConnectionClosed | None = None
        self._stage = "connecting"
        self._heartbeat = Heartbeat(loop, 0, self._send_heartbeat, self._on_heartbeat_timeout)
        self.server_properties: FieldTable = {}
        self.frame_max = params.frame_max
        self.max_body_frame = (params.frame_max or NO_FRAME_LIMIT) - FRAME_OVERHEAD
        self.channel_max = params.channel_max
        self.heartbeat = 0
        self.blocked = False
        self.on_blocked: Callable[[str], None] | None = None
        self.on_unblocked: Callable[[], None] | None = None

    # -- public API ------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True from the end of the handshake until the connection closes."""
        return self._closed is None and self._opened.done() and self._transport is not None

    def channel(self) -> Opening[Channel]:
        """Open a channel: ``ch = await conn.channel()`` or ``async with conn.channel() as ch``.

        Raises:
            ClientError: when all channel numbers up to ``channel_max`` are in use.
            ConnectionClosed: when the connection is closed.
        """
        return Opening(self._open_channel(), Channel.close)

    async def close(self, reply_code: int = 200, reply_text: str = "Goodbye") -> None:
        """Close the connection (Connection.Close, wait for CloseOk). Idempotent."""
        if self._closed is None:
            self._shutdown(ConnectionClosed(200, "connection closed by the client"))
            self.send_frame(method_frame(0, ConnectionClose(reply_code, reply_text, 0, 0)))
            self._flush()
        try:
            async with asyncio.timeout(5):
                await asyncio.shield(self._lost)
        except TimeoutError:
            if self._transport is not None:
                self._transport.abort()

    def abort(self) -> None:
        """Drop the connection at once, without the closing handshake."""
        if self._closed is None:
            self._shutdown(ConnectionClosed(CONNECTION_LOST, "connection aborted by the client"))
        if self._transport is not None:
            self._transport.abort()

    async def wait_closed(self) -> ConnectionClosed:
        """Wait until the connection is gone; return why it closed."""
        await asyncio.shield(self._lost)
        assert self._closed is not None
        return self._closed

    async def drain(self) -> None:
        """Write buffered frames now and wait while the transport's buffer is full.

        Publishers call this every few hundred messages so that a slow broker or network
        applies TCP backpressure instead of filling memory.

        Raises:
            ConnectionClosed: when the connection is closed.
        """
        self._raise_if_closed()
        if self._out:
            self._flush()
        if self._write_paused:
            waiter = self._drain_waiter
            if waiter is None:
                waiter = self._drain_waiter = self.loop.create_future()
            await asyncio.shield(waiter)
            self._raise_if_closed()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- used by channels ------------------------------------------------------------------

    def send_frame(self, data: bytes) -> None:
        """Buffer encoded frames; they are written on the next loop iteration."""
        self._out.append(data)
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush)

    def release_channel(self, number: int) -> None:
        """Forget a closed channel so its number can be reused."""
        self._channels.pop(number, None)
        if self._closed is None:
            self._codec.reset_channel(number)
        else:
            # Closing: deliveries may still be arriving on it; drop their frames quietly
            # rather than treating a half-received message as a protocol error.
            self._codec.discard_channel(number)

    def _flush(self) -> None:
        self._flush_pending = False
        out = self._out
        if not out:
            return
        self._out = []
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.writelines(out)
            self._heartbeat.sent = True

    def _raise_if_closed(self) -> None:
        if self._closed is not None:
            raise self._closed.copy()

    async def _open_channel(self) -> Channel:
        self._raise_if_closed()
        number = self._allocate_channel()
        channel = self._channels[number] = Channel(self, number)
        try:
            await channel._call(ChannelOpen(), ChannelOpenOk)
        except BaseException:
            if channel.is_open:  # cancelled: the broker may open it anyway, so close it
                channel._begin_close()
            raise
        return channel

    def _allocate_channel(self) -> int:
        limit = self.channel_max or 65535
        if len(self._channels) >= limit:
            raise ClientError(f"all {limit} channel numbers are in use (channel_max)")
        number = self._next_channel
        while number in self._channels:
            number = number % limit + 1
        # round-robin, so a just-closed number is not reused while stale frames may arrive
        self._next_channel = number % limit + 1
        return number

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport: cast, don't isinstance
        self._transport = transport = cast(asyncio.Transport, transport)
        self._stage = "protocol header"
        transport.write(PROTOCOL_HEADER)

    def data_received(self, data: bytes) -> None:
        self._heartbeat.received = True
        channels = self._channels
        for event in self._codec.receive_data(data):
            # type() identity checks: cheaper than isinstance, and mypy narrows on them
            if type(event) is ContentReceived:
                channel = channels.get(event.channel)
                if channel is not None:
                    # bytes() is the body itself: only a server codec makes views
                    channel._on_content(event.method, event.properties, bytes(event.body))
            elif type(event) is MethodReceived:
                if event.channel:
                    channel = channels.get(event.channel)
                    if channel is not None:
                        channel._on_method(event.method)
                else:
                    self._on_connection_method(event.method)
            elif type(event) is FrameRejected:
                self._on_protocol_error(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._closed is None:
            self._shutdown(ConnectionClosed(CONNECTION_LOST, self._lost_reason(exc)))
        if not self._opened.done():
            assert self._closed is not None
            self._opened.set_exception(self._closed.copy())
        if not self._lost.done():
            self._lost.set_result(None)
        self._wake_drain()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    def _wake_drain(self) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _lost_reason(self, exc: Exception | None) -> str:
        if not self._opened.done():
            return (
                f"the broker closed the socket during the AMQP handshake ({self._stage}): "
                "bad credentials on a broker without authentication_failure_close, "
                "or not an AMQP 0-9-1 server"
            )
        return f"connection lost: {exc}" if exc else "connection lost: the broker closed the socket"

    def _shutdown(self, exc: ConnectionClosed) -> None:
        """Record why the connection ends and fail every channel with it."""
        self._closed = exc
        self._heartbeat.stop()
        for channel in list(self._channels.values()):
            channel._terminate(exc)
        self._channels.clear()

    # -- connection class methods (channel 0) -----------------------------------------------

    def _on_connection_method(self, method: Method) -> None:
        handler = _HANDLERS.get(type(method))
        if handler is None:
            logger.warning("ignoring unexpected %s", method.NAME)
        else:
            handler(self, method)

    def _on_start(self, method: ConnectionStart) -> None:
        self.server_properties = method.server_properties
        if b"PLAIN" not in method.mechanisms.split():
            self._fail_handshake(f"the broker does not offer PLAIN auth ({method.mechanisms!r})")
            return
        params = self.params
        response = b"\0" + params.username.encode() + b"\0" + params.password.encode()
        start_ok = ConnectionStartOk(self._client_properties, "PLAIN", response, "en_US")
        self._stage = "authentication"
        self.send_frame(method_frame(0, start_ok))

    def _on_secure(self, method: ConnectionSecure) -> None:
        self._fail_handshake("the broker sent Connection.Secure; only PLAIN is supported")

    def _on_tune(self, method: ConnectionTune) -> None:
        params = self.params
        self.channel_max = _negotiate(params.channel_max, method.channel_max) or 65535
        self.frame_max = _negotiate(params.frame_max, method.frame_max)
        self.heartbeat = method.heartbeat if params.heartbeat is None else params.heartbeat
        self.max_body_frame = (self.frame_max or NO_FRAME_LIMIT) - FRAME_OVERHEAD
        self._codec.frame_max = self.frame_max or NO_FRAME_LIMIT
        tune_ok = ConnectionTuneOk(self.channel_max, self.frame_max, self.heartbeat)
        self.send_frame(method_frame(0, tune_ok))
        self.send_frame(method_frame(0, ConnectionOpen(params.vhost)))
        self._stage = f"opening vhost {params.vhost!r}"
        self._heartbeat.interval = self.heartbeat
        self._heartbeat.start()

    def _on_open_ok(self, method: ConnectionOpenOk) -> None:
        self._stage = "open"
        if not self._opened.done():
            self._opened.set_result(None)

    def _on_close(self, method: ConnectionClose) -> None:
        exc = ConnectionClosed(
            method.reply_code, method.reply_text, method.class_id, method.method_id
        )
        if self._closed is None:
            self._shutdown(exc)
        self._close_transport(method_frame(0, ConnectionCloseOk()))

    def _on_close_ok(self, method: ConnectionCloseOk) -> None:
        self._close_transport()

    def _on_blocked(self, method: ConnectionBlocked) -> None:
        self.blocked = True
        if self.on_blocked is not None:
            run_callback(self.on_blocked, method.reason)

    def _on_unblocked(self, method: ConnectionUnblocked) -> None:
        self.blocked = False
        if self.on_unblocked is not None:
            run_callback(self.on_unblocked)

    def _on_protocol_error(self, event: FrameRejected) -> None:
        error = event.error
        logger.error("protocol error from the broker: %s", error.reply_text)
        close = ConnectionClose(error.reply_code, error.reply_text, error.class_id, error.method_id)
        if self._closed is None:
            self._shutdown(ConnectionClosed(error.reply_code, error.reply_text))
        self._close_transport(method_frame(0, close))

    def _fail_handshake(self, reason: str) -> None:
        self._shutdown(ConnectionClosed(CONNECTION_LOST, reason))
        self._close_transport()

    def _close_transport(self, last_frame: bytes | None = None) -> None:
        """Close the socket once ``last_frame``, if any, and anything queued are written."""
        if last_frame is not None:
            self.send_frame(last_frame)
            self._flush()
        if self._transport is not None:
            self._transport.close()

    def _send_heartbeat(self) -> None:
        # written directly: going through _flush would mark the connection as having
        # sent data and the next tick would skip its heartbeat
        if self._transport is not None:
            self._transport.write(HEARTBEAT)

    def _on_heartbeat_timeout(self) -> None:
        reason = f"missed heartbeats from the broker for {2 * self.heartbeat}s"
        logger.warning(reason)
        if self._closed is None:
            self._shutdown(ConnectionClosed(CONNECTION_LOST, reason))
        if self._transport is not None:
            self._transport.abort()


def _negotiate(client: int, server: int) -> int:
    """The lower of two limits where 0 means unlimited."""
    return min(client, server) if client and server else client or server


_HANDLERS: dict[type[Method], Callable[[Connection, Method], None]] = {
    ConnectionStart: Connection._on_start,  # type: ignore[dict-item]
    ConnectionSecure: Connection._on_secure,  # type: ignore[dict-item]
    ConnectionTune: Connection._on_tune,  # type: ignore[dict-item]
    ConnectionOpenOk: Connection._on_open_ok,  # type: ignore[dict-item]
    ConnectionClose: Connection._on_close,  # type: ignore[dict-item]
    ConnectionCloseOk: Connection._on_close_ok,  # type: ignore[dict-item]
    ConnectionBlocked: Connection._on_blocked,  # type: ignore[dict-item]
    ConnectionUnblocked: Connection._on_unblocked,  # type: ignore[dict-item]
}


__all__ = ["Connection"]
