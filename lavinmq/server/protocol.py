"""``AMQPProtocol``: one client connection, asyncio glue around the sans-IO codec.

Reads (see ``reading``): ``data_received`` feeds the codec and dispatches every event it
returns (a read carrying hundreds of publishes is handled in one call). Writes: frames
are appended to a list and written with one ``writelines`` at the end of the loop
iteration (see ``broker.tick``). Backpressure: while the transport's buffer is over its
high-water mark (``pause_writing``) this connection's consumers stop taking messages;
publishers whose messages can't be drained are paused with ``pause_reading`` (see
``flow``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, cast

from lavinmq.amqp import spec
from lavinmq.amqp.connection import AMQPConnection, FrameRejected, Role
from lavinmq.amqp.constants import PROTOCOL_HEADER
from lavinmq.amqp.errors import (
    AMQPError,
    ChannelError,
    HardError,
    NotAllowed,
    UnexpectedFrame,
)
from lavinmq.amqp.events import (
    ContentReceived,
    HeartbeatReceived,
    MethodReceived,
    ProtocolHeaderReceived,
    PublishBatch,
)
from lavinmq.amqp.frames import HEARTBEAT, method_frame
from lavinmq.server.channel import Channel
from lavinmq.server.handshake import Handshake
from lavinmq.server.reading import READ_BUDGET, Reading

if TYPE_CHECKING:
    from lavinmq.auth import User
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.vhost import VHost
    from lavinmq.server.publisher import PublishHandlers

log = logging.getLogger(__name__)
HANDSHAKE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 3.0
WRITE_HIGH_WATER = 1024 * 1024
WRITE_LOW_WATER = 256 * 1024
LARGE_MIN = 64 * 1024
"""Bodies this large are assembled with room for their record in front (``large_body``)."""
RESOURCE_ALARM = "resource alarm"
"""The ``pause_reading_for`` reason of a connection blocked by ``broker.alarms``."""


class AMQPProtocol(Reading):
    """A client connection; implements the broker's ``ClientConnection`` protocol."""

    def __init__(self, broker: Broker, *, tls: bool = False) -> None:
        self.broker = broker
        self.config = broker.config
        self.tls = tls
        self.transport: asyncio.Transport | None = None
        self.codec = AMQPConnection(
            Role.SERVER,
            max_body_size=self.config.max_message_size,
            batch_publishes=True,
            large_min=LARGE_MIN,
        )
        self.channels: dict[int, Channel] = {}
        self.vhost: VHost | None = None
        self.user: User | None = None
        self.name = ""
        self.vhost_name = ""
        self.user_name = ""
        self.client_properties: dict[str, Any] = {}
        self.peer: tuple[str, int] = ("", 0)
        self.local: tuple[str, int] = ("", 0)
        self.frame_max = self.config.frame_max
        self.channel_max = self.config.channel_max
        self.heartbeat = 0
        self.connected_at = time.time()
        self.writable = True
        self.closing = False
        self.closed = False
        self.handshake = Handshake(self)
        self.stat_recv_oct = self.stat_send_oct = 0
        self._out: list[bytes] = []
        self._recv_activity = True
        self._send_activity = False
        self._timers: list[asyncio.TimerHandle] = []
        self._paused_reading = False
        self._reading_paused_by: set[Any] = set()
        self._read_budget = READ_BUDGET
        self._init_reading()
        self._confirm_pending: dict[PublishHandlers, None] = {}
        self._publisher = False  # has published: subject to resource alarms
        # The resource alarms blocking this publisher; the empty frozenset is shared, so
        # connections that are never blocked don't carry a set each (216 B).
        self._blocked_by: frozenset[str] = frozenset()
        self._write_shut = False

    # -- asyncio callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.peer = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else ("unix", 0)
        self.local = (str(local[0]), int(local[1])) if isinstance(local, tuple) else ("unix", 0)
        self.name = f"{self.peer[0]}:{self.peer[1]} -> {self.local[0]}:{self.local[1]}"
        self._timers.append(self.broker.loop.call_later(HANDSHAKE_TIMEOUT, self._handshake_timeout))

    def confirm_pending(self, channel: PublishHandlers) -> None:
        """``channel`` has confirms to send once this read is processed."""
        self._confirm_pending[channel] = None

    def _dispatch(self, event: Any) -> None:
        # Hot path: the common events are checked first, by exact type.
        kind = type(event)
        if kind is PublishBatch:
            if not self._publisher:
                self._first_publish()
            channel = self.channels.get(event.channel)
            if channel is None:
                raise ChannelError(f"expected 'channel.open' for channel {event.channel}")
            channel.on_publish_batch(event.method, event.contents)
        elif kind is ContentReceived:
            if not self._publisher:
                self._first_publish()
            channel = self.channels.get(event.channel)
            if channel is None:
                raise ChannelError(f"expected 'channel.open' for channel {event.channel}")
            channel.on_content(event.method, event.properties, event.body)
        elif kind is MethodReceived:
            if event.channel == 0:
                self.handshake.on_method(event.method)
            else:
                self._channel_method(event.channel, event.method)
        elif kind is HeartbeatReceived:
            pass
        elif kind is FrameRejected:
            if not self.handshake.sent_start and self.transport is not None:
                self.transport.write(PROTOCOL_HEADER)  # tell the peer which protocol we speak
                self.abort()
                return
            self._on_error(event.channel, event.error)
            if not event.channel or isinstance(event.error, HardError):
                self._shutdown_write()
        elif kind is ProtocolHeaderReceived:
            self.handshake.start()

    def _channel_method(self, number: int, method: spec.Method) -> None:
        if self.vhost is None or self.closing:
            if self.closing:
                return
            raise UnexpectedFrame(f"{method.NAME} before connection.open")
        channel = self.channels.get(number)
        if channel is None:
            if not isinstance(method, spec.ChannelOpen):
                raise ChannelError(f"expected 'channel.open' for channel {number}")
            if len(self.channels) >= self.channel_max:  # RabbitMQ's check and text (530)
                raise NotAllowed(
                    f"number of channels opened ({len(self.channels)}) has reached "
                    f"the negotiated channel_max ({self.channel_max})"
                )
            if number > self.channel_max:
                raise NotAllowed(
                    f"channel {number} is above the negotiated channel_max ({self.channel_max})"
                )
            self.channels[number] = Channel(self, number)
            self.send(method_frame(number, spec.ChannelOpenOk()))
            return
        channel.on_method(method)

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        for channel in list(self.channels.values()):
            channel.resume_deliveries()

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed and self.transport is None:
            return
        self.closed = True
        self.transport = None
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._out.clear()
        if self._publisher:
            for alarm in self.broker.alarms:
                alarm.remove_publisher(self)
        self._cleanup()

    # -- errors and closing -------------------------------------------------------------

    def _on_error(self, channel_number: int, exc: AMQPError) -> None:
        if isinstance(exc, HardError) or channel_number == 0:
            log.warning("connection %s: closing: %s", self.name, exc.reply_text)
            self.close_with(exc)
            return
        channel = self.channels.get(channel_number)
        if channel is None:
            self.close_with(ChannelError(f"channel {channel_number} not open"))
            return
        log.info("connection %s channel %d: closing: %s", self.name, channel_number, exc.reply_text)
        channel.close_with(exc)

    def close_with(self, exc: AMQPError) -> None:
        """Send Connection.Close for a hard error and wait for Close-Ok."""
        self.close_by_server(exc.reply_code, exc.reply_text, exc.class_id, exc.method_id)

    def close_by_server(
        self, reply_code: int, reply_text: str, class_id: int = 0, method_id: int = 0
    ) -> None:
        if self.closing or self.closed:
            return
        self.closing = True
        self._cleanup_channels()
        if self.handshake.sent_start:
            self.send(
                method_frame(0, spec.ConnectionClose(reply_code, reply_text, class_id, method_id))
            )
            self.flush()
            self._timers.append(self.broker.loop.call_later(CLOSE_TIMEOUT, self.abort))
        else:
            self.abort()

    def on_close_ok(self) -> None:
        self.abort()

    def _shutdown_write(self) -> None:
        """The codec stopped parsing (a hard error), so the peer's Close-Ok can't be read:
        half-close after the Connection.Close instead of waiting CLOSE_TIMEOUT for it. The
        peer sees Close then EOF; the socket closes when it does (or at CLOSE_TIMEOUT)."""
        transport = self.transport
        if transport is None or self._write_shut:
            return
        self.flush()
        self._write_shut = True
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()

    def abort(self) -> None:
        """Close the socket after writing what is buffered."""
        if self.transport is not None:
            self.flush()
            self.transport.close()

    def _handshake_timeout(self) -> None:
        if self.vhost is None and not self.closed:
            log.info("connection %s: handshake timeout", self.name)
            self.abort()

    def _cleanup_channels(self) -> None:
        for channel in list(self.channels.values()):
            channel.cleanup()
        self.channels.clear()

    def _cleanup(self) -> None:
        self._cleanup_channels()
        if self.vhost is not None:
            for q in list(self.vhost.queues.values()):
                if q.exclusive and q.owner is self:
                    self.vhost.delete_queue(q.name)
        if self.handshake.opened:
            self.broker.unregister(self)
            log.info(
                "connection %s closed (user %s, vhost %s)",
                self.name,
                self.user_name,
                self.vhost_name,
            )

    # -- writing ------------------------------------------------------------------------

    def send(self, frame: bytes) -> None:
        """Queue a frame; all queued frames go out with one writelines per iteration."""
        if not self._out:
            self.broker.tick.writer_dirty(self)
        self._out.append(frame)

    def send_frames(self, frames: list[bytes]) -> None:
        if not self._out:
            self.broker.tick.writer_dirty(self)
        self._out.extend(frames)

    def flush(self) -> None:
        out = self._out
        if not out or self.transport is None:
            return
        self._out = []
        if self._write_shut:
            return
        self._send_activity = True
        self.stat_send_oct += sum(map(len, out))
        self.transport.writelines(out)

    # -- heartbeats ---------------------------------------------------------------------

    def start_heartbeats(self, interval: int) -> None:
        self.heartbeat = interval
        if interval > 0:
            self._schedule_heartbeat()

    def _schedule_heartbeat(self) -> None:
        self._timers = [t for t in self._timers if not t.cancelled()]
        self._timers.append(
            self.broker.loop.call_later(self.heartbeat / 2, self._heartbeat_tick, 0)
        )

    def _heartbeat_tick(self, silent_ticks: int) -> None:
        if self.closed:
            return
        if not self._send_activity:
            self.send(HEARTBEAT)
        self._send_activity = False
        # While reading is paused (blocked, flow control) the peer's heartbeats wait unread.
        silent_ticks = 0 if self._recv_activity or self._paused_reading else silent_ticks + 1
        self._recv_activity = False
        if silent_ticks >= 4:  # two full heartbeat intervals without a byte from the peer
            log.warning("connection %s: missed heartbeats from client, closing", self.name)
            self.abort()
            return
        self._timers.append(
            self.broker.loop.call_later(self.heartbeat / 2, self._heartbeat_tick, silent_ticks)
        )

    # -- resource alarms (``broker.alarms``) -----------------------------------------------

    def _first_publish(self) -> None:
        self._publisher = True
        for alarm in self.broker.alarms:
            alarm.add_publisher(self)

    def _announce_blocking(self) -> bool:
        caps = self.client_properties.get("capabilities")
        return isinstance(caps, dict) and bool(caps.get("connection.blocked"))

    def block(self, reason: str) -> None:
        """A resource alarm: stop reading this publisher, tell it why if it listens."""
        if reason in self._blocked_by or self.closed:
            return
        self._blocked_by |= {reason}
        if len(self._blocked_by) > 1:
            return  # already blocked (and told) by another alarm
        log.info("connection %s: blocked: %s", self.name, reason)
        if self._announce_blocking():
            self.send(method_frame(0, spec.ConnectionBlocked(reason)))
        self.pause_reading_for(RESOURCE_ALARM)

    def unblock(self, reason: str) -> None:
        """The alarm ``reason`` cleared: read again once no other alarm blocks us."""
        if reason not in self._blocked_by:
            return
        self._blocked_by -= {reason}
        if self._blocked_by or self.closed:
            return
        log.info("connection %s: unblocked", self.name)
        if self._announce_blocking():
            self.send(method_frame(0, spec.ConnectionUnblocked()))
        self.resume_reading_for(RESOURCE_ALARM)

    # -- ClientConnection ---------------------------------------------------------------

    def details(self) -> dict[str, Any]:
        from lavinmq.server.info import connection_details  # cold path: imported on first use

        return connection_details(self)


__all__ = ["PROTOCOL_HEADER", "AMQPProtocol"]
