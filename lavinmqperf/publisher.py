"""A throughput publisher: pre-encoded batches, TCP backpressure, confirms, rate limits."""

from __future__ import annotations

import asyncio
import os
import time

from lavinmq.client import Channel, Connection, connect
from lavinmqperf.context import WorkerContext
from lavinmqperf.options import ThroughputOptions, body_pattern
from lavinmqperf.ticker import Ticker

BATCH_MESSAGES = 1000
BATCH_BYTES = 256 * 1024
"""A batch is one ``writelines``: up to 1000 messages, or fewer when they are large."""
_FRAME_BYTES = 64
"""Roughly the frame overhead of one small publish (method, header and body frames)."""


class Publisher:
    """One publishing connection; :meth:`run` publishes until stopped or ``quota`` is met.

    Args:
        ctx: the worker's shared state.
        quota: how many messages to publish (``None``: no limit).
    """

    def __init__(self, ctx: WorkerContext, quota: int | None) -> None:
        opts: ThroughputOptions = ctx.opts
        self.ctx = ctx
        self.opts = opts
        self.quota = quota
        self.body = body_pattern(opts.size)
        self.properties = opts.encoded_properties().encode()
        self.keys = opts.queue_names() if opts.queue_pattern else [opts.routing_key]
        self.batch = max(1, min(BATCH_MESSAGES, BATCH_BYTES // (opts.size + _FRAME_BYTES)))
        self._key_index = 0
        self._frames: dict[tuple[str, int], bytes] = {}
        self.conn: Connection | None = None
        self.ch: Channel | None = None

    async def open(self) -> None:
        """Connect and prepare the channel (transactions, confirms)."""
        self.conn = await connect(self.opts.uri, name="lavinmqperf publisher")
        self.ch = await self.conn.channel()
        if self.opts.pub_in_transaction > 0:
            await self.ch.tx_select()
        if self.opts.max_unconfirm > 0:
            await self.ch.confirm_select()

    async def run(self) -> None:
        """Publish until the parent says stop or the quota is reached, then close."""
        assert self.conn is not None and self.ch is not None
        conn, ch, opts, ctx = self.conn, self.ch, self.opts, self.ctx
        ticker = Ticker(opts.rate)
        sent = in_tx = 0
        while not ctx.stopped:
            n = self.batch if self.quota is None else min(self.batch, self.quota - sent)
            if n <= 0:
                break
            n = ticker.allowance(n)
            if n == 0:  # not due yet: sleep at least 1 ms (finer is busy waiting)
                await asyncio.sleep(max(ticker.delay(), 0.001))
                continue
            if opts.max_unconfirm > 0:
                window = opts.max_unconfirm - ch.unconfirmed
                if window <= 0:
                    await ch.wait_unconfirmed(opts.max_unconfirm)
                    continue
                n = min(n, window)
            if opts.pub_in_transaction > 0:
                n = min(n, opts.pub_in_transaction - in_tx)
            self._publish(ch, n)
            sent += n
            ticker.done += n
            ctx.add_published(n)
            if opts.pub_in_transaction > 0:
                in_tx += n
                if in_tx >= opts.pub_in_transaction:
                    await ch.tx_commit()
                    in_tx = 0
            await conn.drain()
            await asyncio.sleep(0)  # let acks, closes and heartbeats in between batches
        await conn.close()

    def _publish(self, ch: Channel, n: int) -> None:
        opts = self.opts
        if opts.random_bodies:
            for _ in range(n):
                ch.basic_publish(self._body(), opts.exchange, self._next_keys(1)[0][0],
                                 self.properties)  # fmt: skip
            return
        if opts.measure_latency:  # one timestamp per batch: the batch is one write
            body = self._body()
            for key, count in self._next_keys(n):
                ch.publish_many(body, count, opts.exchange, key, self.properties)
            return
        for key, count in self._next_keys(n):
            ch.publish_encoded(self._encoded(ch, key, count), count)

    def _encoded(self, ch: Channel, key: str, count: int) -> bytes:
        """``count`` encoded publishes to ``key``, cached: a steady publisher encodes
        nothing per batch and hands the same bytes object to every write."""
        frames = self._frames.get((key, count))
        if frames is None:
            if len(self._frames) > 64:
                self._frames.clear()
            one = ch.encode_publish(self.body, self.opts.exchange, key, self.properties)
            frames = self._frames[(key, count)] = one * count
        return frames

    def _body(self) -> bytes:
        """A fresh body: random bytes and/or a leading timestamp (``-l``)."""
        opts = self.opts
        if opts.measure_latency:
            stamp = time.monotonic_ns().to_bytes(8, "little", signed=True)
            rest = os.urandom(opts.size - 8) if opts.random_bodies else self.body[8:]
            return stamp + rest
        return os.urandom(opts.size)

    def _next_keys(self, n: int) -> list[tuple[str, int]]:
        """Round-robin ``n`` messages over the routing keys: ``[(key, count), ...]``."""
        keys = self.keys
        k = len(keys)
        if k == 1:
            return [(keys[0], n)]
        start = self._key_index
        self._key_index = (start + n) % k
        shares = [(keys[(start + j) % k], n // k + (1 if j < n % k else 0)) for j in range(k)]
        return [share for share in shares if share[1]]


__all__ = ["Publisher"]
