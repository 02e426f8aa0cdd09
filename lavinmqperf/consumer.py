"""A throughput consumer: counts deliveries from frame headers, or decodes them when it
must look at bodies (``-V`` verify, ``-l`` latency), or polls with Basic.Get (``-g``)."""

from __future__ import annotations

import asyncio
import time

from lavinmq.client import Channel, ChannelClosed, Message, connect
from lavinmqperf.connection import PerfConnection
from lavinmqperf.context import WorkerContext
from lavinmqperf.options import body_pattern
from lavinmqperf.scanner import DeliveryScanner
from lavinmqperf.ticker import Ticker

POLL_INTERVAL = 0.05


class InvalidData(Exception):
    """A consumed body differs from what the publishers send (``--verify``)."""


class Consumer:
    """One consuming connection on ``queue``; consumes until stopped or ``quota`` is met.

    Args:
        ctx: the worker's shared state.
        queue: the queue to declare and consume from ("" for a server-named one).
        quota: ``-D``, messages to consume by all consumers together (``None``: no limit).
    """

    def __init__(self, ctx: WorkerContext, queue: str, quota: int | None) -> None:
        self.ctx = ctx
        self.opts = ctx.opts
        self.queue = queue
        self.quota = quota
        self.count = 0
        """Messages counted (never more than the quota)."""
        self.seen = 0
        """Deliveries received, quota or not (delivery tags follow this on the channel)."""
        self.finished = False
        self.error: BaseException | None = None
        self.expected = body_pattern(self.opts.size)
        self.ticker = Ticker(self.opts.consume_rate)
        self.settled = 0
        """Deliveries counted (or dropped past ``-D``), out of ``seen``."""
        self.last_tag = 0
        self._timer: asyncio.TimerHandle | None = None
        self._paused = False
        self._tx_again = False
        self.conn: PerfConnection | None = None
        self.ch: Channel | None = None
        self._commit: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Connect, declare (or passively check) the queue, set prefetch, bind."""
        opts = self.opts
        conn = await connect(opts.uri, name="lavinmqperf consumer", connection_class=PerfConnection)
        assert isinstance(conn, PerfConnection)
        self.conn = conn
        ch = await conn.channel()
        named = bool(self.queue)
        try:
            self.queue, _, _ = await ch.queue_declare(
                self.queue, durable=named, auto_delete=not named, arguments=opts.queue_args
            )
        except ChannelClosed:  # exists with other arguments: use it as it is (as LavinMQ)
            ch = await conn.channel()
            self.queue, _, _ = await ch.queue_declare(self.queue, passive=True)
        if opts.measure_latency:
            await ch.queue_purge(self.queue)  # old messages would skew the latencies
        if opts.ack_in_transaction > 0:
            await ch.tx_select()
        if opts.prefetch is not None:
            await ch.basic_qos(opts.prefetch)
        if opts.exchange:
            await ch.queue_bind(self.queue, opts.exchange, opts.routing_key)
        self.ch = ch

    async def run(self) -> None:
        """Consume until the parent says stop, the quota is met or the channel closes."""
        assert self.conn is not None and self.ch is not None
        conn, ch = self.conn, self.ch
        self.ticker = Ticker(self.opts.consume_rate)  # paced from GO on
        if self.opts.poll:
            await self._poll(ch)
        elif not self.finished:
            if self.opts.fast_consumers():
                self._start_scanner(conn)
            await ch.basic_consume(
                self.queue,
                self._on_message,
                no_ack=self.opts.ack == 0,
                arguments=self.opts.consumer_args,
            )
            while not (self.ctx.stopped or self._all_done() or not ch.is_open):  # noqa: ASYNC110 - -D is shared memory
                await asyncio.sleep(POLL_INTERVAL)
        if self.error is not None:
            raise self.error
        if not ch.is_open and not self.ctx.stopped and not self.finished:
            ch._raise_if_closed()  # the broker closed the channel: report why
        await self._close()

    async def _close(self) -> None:
        """Close the channel first: closing the connection straight away while deliveries
        are in flight makes the client's codec see content frames of a channel it has
        already released (and log a protocol error)."""
        assert self.conn is not None and self.ch is not None
        if self.ch.is_open and self.conn.is_open:
            try:
                async with asyncio.timeout(5):
                    if self._commit is not None:
                        await self._commit
                    if self.opts.ack_in_transaction > 0:
                        await self.ch.tx_commit()  # the acks since the last commit
                    await self.ch.close()
            except (TimeoutError, ChannelClosed):
                pass
        await self.conn.close()

    # -- fast path: frame headers only --------------------------------------------------

    def _start_scanner(self, conn: PerfConnection) -> None:
        """Divert received bytes to a :class:`DeliveryScanner` (set before Basic.Consume,
        so the codec holds no half frame and every delivery reaches the scanner)."""
        scanner = DeliveryScanner(conn.forward)
        feed = scanner.feed

        def on_data(data: bytes) -> None:
            n = feed(data)
            if n and not self.finished:
                self._arrived(n, scanner.last_tag)

        conn.receiver = on_data

    # -- slow path: decoded messages ----------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        if self.finished:
            return
        opts = self.opts
        if opts.measure_latency:
            self._record_latency(msg.body)
        if opts.verify and not self._body_ok(msg.body):
            self.error = InvalidData("Invalid data")
            self.finished = True
            return
        self._arrived(1, msg.delivery_tag)

    def _record_latency(self, body: bytes) -> None:
        if len(body) >= 8:
            sent = int.from_bytes(body[:8], "little", signed=True)
            self.ctx.latencies.append((time.monotonic_ns() - sent) / 1e6)

    def _body_ok(self, body: bytes) -> bool:
        if self.opts.measure_latency and len(body) >= 8:
            return body[8:] == self.expected[8:]
        return body == self.expected

    async def _tx_commit(self) -> None:
        """Commit the acks sent so far; again if more commits came due meanwhile."""
        assert self.ch is not None
        try:
            while self.ch.is_open:
                self._tx_again = False
                await self.ch.tx_commit()
                if not self._tx_again:
                    break
        finally:
            self._commit = None

    # -- Basic.Get polling ----------------------------------------------------------------

    async def _poll(self, ch: Channel) -> None:
        no_ack = self.opts.ack == 0
        while not (self.ctx.stopped or self._all_done()):
            msg = await ch.basic_get(self.queue, no_ack=no_ack)
            if msg is None:
                continue
            self._on_message(msg)
            if self.opts.consume_rate:
                await asyncio.sleep(self.ticker.delay())

    # -- shared -------------------------------------------------------------------------

    def _all_done(self) -> bool:
        """This consumer, or all of them together, consumed ``-D`` messages."""
        if not self.finished and self.quota is not None:
            self.finished = self.ctx.consumed_total() >= self.quota
        return self.finished

    def _count(self, n: int) -> int:
        """Count up to ``n`` messages within ``-D``; return how many were counted.

        ``-D`` is a total over all consumers, as in LavinMQ (consumers of one queue get
        uneven shares): the budget left is read from the shared counters, so consumers in
        other processes may overshoot it together by what they had in flight.
        """
        if self.quota is not None:
            n = max(0, min(n, self.quota - self.ctx.consumed_total()))
            if self.ctx.consumed_total() + n >= self.quota:
                self.finished = True
        self.count += n
        self.ctx.add_consumed(n)
        return n

    # -- accounting: counting, acks, transactions, consume rate --------------------------

    def _arrived(self, n: int, last_tag: int) -> None:
        """``n`` more deliveries arrived, the last one with ``last_tag``."""
        self.seen += n
        self.last_tag = last_tag
        self._settle()

    def _settle(self) -> None:
        """Count the deliveries not counted yet, as far as ``-R`` allows; with messages
        left over, stop reading from the socket until they are due (so the broker sees a
        consumer of that speed, as LavinMQ's blocking consumer)."""
        pending = self.seen - self.settled
        if pending and not self.finished:
            allowed = pending if self.opts.poll else self.ticker.allowance(pending)
            first = self.settled
            counted = self._count(allowed)
            self.settled += allowed
            self.ticker.done += allowed
            self._ack(first, first + counted)
        conn = self.conn
        if conn is None or self._timer is not None:
            return
        if self.settled < self.seen and not self.finished:
            conn.pause_reading()
            self._paused = True
            self._timer = conn.loop.call_later(max(self.ticker.delay(), 0.001), self._resume)
        elif self._paused:
            self._paused = False
            conn.resume_reading()

    def _resume(self) -> None:
        self._timer = None
        self._settle()

    def _ack(self, first: int, last: int) -> None:
        """Ack (multiple) at every ``-a``-th delivery of deliveries ``first+1..last``, and
        commit at every ``-T``-th. A channel's delivery tags are consecutive, so delivery
        number ``k`` has tag ``last_tag - (seen - k)``."""
        ch = self.ch
        every = self.opts.ack
        if every <= 0 or ch is None or not ch.is_open:
            return
        for k in range((first // every + 1) * every, last + 1, every):
            ch.basic_ack(self.last_tag - (self.seen - k), multiple=True)
        tx = self.opts.ack_in_transaction
        if tx > 0 and last // tx > first // tx:
            if self._commit is None:
                self._commit = asyncio.ensure_future(self._tx_commit())
            else:
                self._tx_again = True


__all__ = ["Consumer", "InvalidData"]
