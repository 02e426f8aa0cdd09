"""The reading half of ``AMQPProtocol``: reads, the per-iteration read budget, pauses.

The protocol is an ``asyncio.BufferedProtocol`` so that it chooses how much one read
takes. The loop reads into one buffer shared by every connection of the loop's thread
(``get_buffer`` and ``buffer_updated`` run back to back for one socket, nothing else can
use it in between) and ``buffer_updated`` hands a bytes copy of what arrived to the
codec, as a plain ``Protocol`` would get it. Usually a read takes up to 256 KiB, as
uvloop's own reads do; while large bodies are coming (``AMQPConnection.large_reads``)
up to 2 MiB, and then, with the compiled ``_cread``, straight into the bytes object the
codec gets (no copy).
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from lavinmq._ext import NO_EXTENSIONS
from lavinmq.amqp.errors import AMQPError, InternalError

if TYPE_CHECKING:
    from lavinmq.amqp.connection import AMQPConnection
    from lavinmq.broker.broker import Broker
    from lavinmq.server._cread import BytesReadTarget
    from lavinmq.server.publisher import PublishHandlers

log = logging.getLogger("lavinmq.server.protocol")
READ_SIZE: Final = 256 * 1024
"""What one read takes, as uvloop's reads for a plain protocol."""
READ_MAX: Final = 2 * 1024 * 1024
"""What one read takes at most while a large body is coming."""
READ_BUDGET: Final = 2 * READ_SIZE
"""Bytes a publishing connection may hand in per event-loop iteration: two reads (the
tick after them flushes the store and the deliveries; one read per tick was 15% slower
with 16 KiB messages)."""
READ_BUDGET_KEY: Final = "read-budget"
READ_SHORT: Final = 16 * 1024
"""What a publishing connection is read per loop iteration while a queue it publishes to
waits for its consumers' acks or a poller (``read_less``). Smaller serves them better
and the publisher worse (lavinmqperf -a 1 -P 1000 / -g -a 1 / the publisher beside a
consumer limited to 1,000 msgs/s: 32 KiB 175k / 1.8k / 1.74M msgs/s, 16 KiB 180k / 3.3k
/ 1.65M, 8 KiB 183k / 5.4k / 1.52M)."""


def _large_reads(view: memoryview) -> tuple[memoryview | BytesReadTarget, Callable[[int], bytes]]:
    """What large reads go into, and what turns ``n`` bytes read into it into bytes."""
    if not NO_EXTENSIONS:
        try:
            from lavinmq.server._cread import BytesReadTarget
        except ImportError:
            pass
        else:
            target = BytesReadTarget(READ_MAX)
            return target, target.take
    # The pure-Python twin: a buffer shared by the thread's connections, copied out.
    return view, lambda n: bytes(view[:n])


class _ReadBuffers(threading.local):
    """The read buffers of this thread's event loop (tests run brokers in threads)."""

    def __init__(self) -> None:
        # Anonymous memory: pages are only touched (and resident) once a read used them.
        shared = memoryview(mmap.mmap(-1, READ_MAX))
        self.small = shared[:READ_SIZE]
        self.short = shared[:READ_SHORT]
        self.large, self.take_large = _large_reads(shared)


_buffers = _ReadBuffers()


class Reading(asyncio.BufferedProtocol):
    """Declares what it uses of ``AMQPProtocol``."""

    broker: Broker
    codec: AMQPConnection
    name: str
    closed: bool
    transport: asyncio.Transport | None
    stat_recv_oct: int
    _recv_activity: bool
    _read_budget: int
    _publisher: bool
    _paused_reading: bool
    _reading_paused_by: set[Any]
    _confirm_pending: dict[PublishHandlers, None]
    _small_view: memoryview
    _reading_less: bool
    _large_buffer: memoryview | BytesReadTarget
    _take_large: Callable[[int], bytes]

    def _init_reading(self) -> None:
        """Take this thread's read buffers (the protocol is made in its loop's thread)."""
        buffers = _buffers
        self._small_view = buffers.small
        self._reading_less = False
        self._large_buffer, self._take_large = buffers.large, buffers.take_large

    # get_buffer and buffer_updated run once per read, and a client waiting for each
    # confirm makes a read per message: attribute loads only, no calls they can avoid.
    # Nothing runs between the two, so both see the same ``large_reads``.
    def get_buffer(self, sizehint: int) -> memoryview | BytesReadTarget:
        return self._large_buffer if self.codec.large_reads else self._small_view

    def buffer_updated(self, nbytes: int) -> None:
        if self.codec.large_reads:
            self.data_received(self._take_large(nbytes))
        else:
            self.data_received(bytes(self._small_view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        """Bytes from the peer (also fed directly by the WebSocket transport)."""
        self.stat_recv_oct += len(data)
        self._recv_activity = True
        if self.closed:
            return
        for event in self.codec.receive_data(data):
            try:
                self._dispatch(event)
            except AMQPError as exc:
                self._on_error(getattr(event, "channel", 0), exc)
            except Exception as exc:  # a broker bug must not take the whole loop down
                log.exception("connection %s: internal error", self.name)
                self._on_error(0, InternalError(str(exc)))
            if self.closed or self.transport is None:
                return
        if self._confirm_pending:
            pending, self._confirm_pending = self._confirm_pending, {}
            for channel in pending:
                channel.emit_confirms()
        self._read_budget -= len(data)
        if self._read_budget <= 0 and self._publisher:
            self._yield_reading()

    def _yield_reading(self) -> None:
        # libuv reads a busy socket up to 32 times per loop iteration (2 MiB of publishes)
        # before serving anyone else: a publisher that never pauses would delay every
        # other connection (a Basic.Get took ~100 ms). Cap it per iteration instead.
        self.pause_reading_for(READ_BUDGET_KEY)
        self.broker.loop.call_soon(self._refill_read_budget)

    def _refill_read_budget(self) -> None:
        if self._reading_less:  # still publishing to a queue that waits for acks
            self._reading_less = False
            self._read_budget = READ_SHORT
        else:
            self._small_view = _buffers.small
            self._read_budget = READ_BUDGET
        self.resume_reading_for(READ_BUDGET_KEY)

    def read_less(self) -> None:
        """A queue this connection just published to has a backlog, and its consumers
        can take no more until their own acks come back (prefetch): they get one round
        trip per loop iteration, so keep the iterations short. This read is the last of
        the iteration, and the next ones take ``READ_SHORT`` bytes each, until an
        iteration's publishes no longer reach such a queue. With prefetch 1000 and an ack
        per message, the consumer got 78k msgs/s while the publisher put in 1.1M;
        reading less, 180k (RabbitMQ: 119k)."""
        self._reading_less = True
        self._small_view = _buffers.short
        self._read_budget = 0

    def pause_reading_for(self, reason: Any) -> None:
        """Stop reading from the socket until every ``reason`` is released."""
        self._reading_paused_by.add(reason)
        if not self._paused_reading and self.transport is not None:
            self._paused_reading = True
            self.transport.pause_reading()

    def resume_reading_for(self, reason: Any) -> None:
        self._reading_paused_by.discard(reason)
        if self._paused_reading and not self._reading_paused_by and self.transport is not None:
            self._paused_reading = False
            self.transport.resume_reading()

    if TYPE_CHECKING:  # AMQPProtocol's

        def _dispatch(self, event: Any) -> None: ...

        def _on_error(self, channel_number: int, exc: AMQPError) -> None: ...


__all__ = ["READ_BUDGET", "READ_MAX", "READ_SIZE", "Reading"]
