"""One shovel: a task that moves messages from its source to its destination, and
reconnects (with backoff) when either end goes away.

Delivery guarantee, by ``ack-mode``: ``on-confirm`` acks a message at the source only once
the destination confirmed it, so nothing is lost when either broker restarts or a link
drops (a message may arrive twice: at-least-once); ``on-publish`` acks once it is sent;
``no-ack`` consumes without acks (fastest, may lose messages in flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from lavinmq.amqp.errors import AMQPError
from lavinmq.client import ClientError
from lavinmq.shovel.config import QUEUE_LENGTH, ShovelConfig, ShovelConfigError, scrub
from lavinmq.shovel.destination import Destination, DestinationError, Settlement, make_destination
from lavinmq.shovel.source import AMQPSource

log = logging.getLogger(__name__)
MIN_DELAY = 0.1
MAX_DELAY = 60.0
RETRIES_BEFORE_BACKOFF = 3
SETTLE_TIMEOUT = 5.0
FAILURES = (ClientError, AMQPError, OSError, TimeoutError, DestinationError, ShovelConfigError)


def backoff(delay: float, failures: int) -> float:
    """The wait before reconnect attempt ``failures``: ``delay`` for the first few, then
    doubling, at most a minute (or ``delay`` if that is longer)."""
    delay = max(delay, MIN_DELAY)
    growth = 1 << min(max(failures - RETRIES_BEFORE_BACKOFF, 0), 10)
    return min(delay * growth, max(delay, MAX_DELAY))


class ShovelRunner:
    """Runs one shovel; ``details()`` is its API status.

    Args:
        vhost: the vhost the shovel parameter belongs to.
        name: the shovel's name.
        value: the parameter value (its definition).
        resolve: maps a URI to a connectable one (``amqp://`` without host: this broker).
        on_done: called when a ``src-delete-after`` shovel has moved all it should.
    """

    def __init__(
        self,
        vhost: str,
        name: str,
        value: Any,
        resolve: Callable[[str], str],
        on_done: Callable[[ShovelRunner], None],
    ) -> None:
        self.vhost = vhost
        self.name = name
        self.value = copy.deepcopy(value)
        self._resolve = resolve
        self._on_done = on_done
        self.state = "starting"
        self.error: str | None = None
        self.timestamp = time.time()
        self.message_count = 0
        self.cfg: ShovelConfig | None = None
        self._limit: int | None = None
        self._transferred = 0
        self._attempt = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        try:
            self.cfg = ShovelConfig.parse(value)
        except ShovelConfigError as exc:
            self._set_state("terminated", str(exc))

    def hold(self) -> None:
        """Mark this (never started) runner paused: the store keeps it instead."""
        self._set_state("paused")

    def start(self) -> None:
        if self.cfg is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop gracefully: let the destination confirm what is in flight, then close."""
        self._stop.set()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            if self.state != "running":
                task.cancel()  # connecting or waiting to reconnect: nothing in flight
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state("terminated", self.error)

    def _set_state(self, state: str, error: str | None = None) -> None:
        if state != self.state or error != self.error:
            self.timestamp = time.time()
        self.state, self.error = state, error

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._set_state("starting", self.error)
            try:
                if await self._session():
                    log.info(
                        "shovel %s in vhost %s: done (src-delete-after)", self.name, self.vhost
                    )
                    self._set_state("terminated")
                    self._on_done(self)
                    return
                continue
            except FAILURES as exc:
                failures = 1 if self.state == "running" else failures + 1
                reason = str(exc) or type(exc).__name__
            except Exception as exc:  # a bug: keep retrying, loudly
                log.exception("shovel %s in vhost %s failed", self.name, self.vhost)
                failures, reason = failures + 1, f"internal error: {exc!r}"
            if self._stop.is_set():
                return
            log.warning("shovel %s in vhost %s: %s", self.name, self.vhost, reason)
            self._set_state("terminated", reason)
            assert self.cfg is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop.wait(), backoff(self.cfg.reconnect_delay, failures)
                )

    def _pick(self, uris: tuple[str, ...]) -> str:
        """Several URIs: try the next one on every attempt."""
        return self._resolve(uris[self._attempt % len(uris)])

    async def _session(self) -> bool:
        """One connection to each end; True when the shovel has finished its work."""
        cfg = self.cfg
        assert cfg is not None
        self._attempt += 1
        source = AMQPSource(self.name, self._pick(cfg.src_uris), cfg)
        dest = make_destination(self.name, self.vhost, self._pick(cfg.dest_uris), cfg)
        try:
            await source.start()
            await dest.start()
            if self._limit is None and cfg.src_delete_after is not None:
                self._limit = (
                    source.queue_length
                    if cfg.src_delete_after == QUEUE_LENGTH
                    else cfg.src_delete_after
                )
            self._set_state("running")
            log.info("shovel %s in vhost %s: running", self.name, self.vhost)
            return await self._pump(source, dest)
        finally:
            await dest.settle(SETTLE_TIMEOUT)  # their acks go out before the source closes
            await source.close()
            await dest.close()

    async def _pump(self, source: AMQPSource, dest: Destination) -> bool:
        """Transfer until done, stopped, or either connection closes (raised)."""
        transfer = asyncio.ensure_future(self._transfer(source, dest))
        watchers = {
            asyncio.ensure_future(source.wait_closed()): "source",
            asyncio.ensure_future(dest.wait_closed()): "destination",
            asyncio.ensure_future(self._stop.wait()): "stop",
        }
        try:
            done, _ = await asyncio.wait({transfer, *watchers}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (*watchers, transfer):
                waiter.cancel()
            await asyncio.gather(transfer, *watchers, return_exceptions=True)
        if transfer in done and not transfer.cancelled():
            return transfer.result()
        ended = next(iter(w for w in done if w is not transfer))
        if watchers[ended] == "stop":
            return False
        raise DestinationError(f"{watchers[ended]} connection closed: {ended.result()}")

    def _budget(self) -> int | None:
        return None if self._limit is None else max(self._limit - self._transferred, 0)

    async def _transfer(self, source: AMQPSource, dest: Destination) -> bool:
        budget = self._budget()
        if budget == 0:
            return True
        pushed = 0
        async with source.consume() as messages:
            async for msg in messages:
                settlement = await dest.push(msg)
                self.message_count += 1
                self._settle(source, msg.delivery_tag, settlement)
                pushed += 1
                if pushed == budget:
                    break  # later deliveries stay unacked: requeued when the source closes
        if budget is None:
            raise DestinationError("the source cancelled the consumer (queue deleted?)")
        await dest.settle(SETTLE_TIMEOUT)
        await asyncio.sleep(0)  # confirm callbacks run
        if self._budget() != 0:
            raise DestinationError("not every message was confirmed; retrying the rest")
        return True

    def _settle(self, source: AMQPSource, tag: int, settlement: Settlement) -> None:
        if self.cfg is not None and self.cfg.ack_mode == "no-ack":
            self._transferred += 1
        elif settlement is True:
            source.ack(tag)
            self._transferred += 1
        elif settlement is False:
            source.reject(tag, requeue=False)
            self._transferred += 1
        else:
            settlement.add_done_callback(functools.partial(self._confirmed, source, tag))

    def _confirmed(self, source: AMQPSource, tag: int, fut: asyncio.Future[bool]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return  # the destination is gone: the source requeues the message
        if fut.result():
            source.ack(tag)
            self._transferred += 1
        else:
            source.reject(tag, requeue=True)  # nacked by the destination: try again later

    def details(self) -> dict[str, Any]:
        """RabbitMQ's /api/shovels shape (plus LavinMQ's ``error`` and ``message_count``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "vhost": self.vhost,
            "type": "dynamic",
            "state": self.state,
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.timestamp)),
            "message_count": self.message_count,
            "error": self.error,
        }
        if self.error and self.state == "terminated":
            out["reason"] = self.error
        cfg = self.cfg
        if cfg is not None:
            out.update(
                {
                    "src_protocol": "amqp091",
                    "dest_protocol": "amqp091",
                    "src_uri": scrub(cfg.src_uris[0]),
                    "dest_uri": scrub(cfg.dest_uris[0]),
                    "ack_mode": cfg.ack_mode,
                }
            )
            for key in (
                "src_queue",
                "src_exchange",
                "dest_queue",
                "dest_exchange",
                "dest_exchange_key",
            ):
                if getattr(cfg, key) is not None:
                    out[key] = getattr(cfg, key)
            if cfg.src_exchange is not None:
                out["src_exchange_key"] = cfg.src_exchange_key
        return out
