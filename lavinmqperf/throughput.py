"""The throughput scenario: the parent process of a run.

It checks the broker and the queues (clear errors before any worker starts), starts
worker processes (consumers first in the plan, publishers after, each role spread over
up to one process per CPU), waits until every client is connected, then says GO, prints
the publish and consume rates each second from the shared counters, and stops everyone
on ``-z``, when every client is done (``-C``/``-D``), on Ctrl-C/SIGTERM or on an error.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, TextIO

import numpy as np
import orjson
import uvloop

from lavinmq.client import ChannelClosed, connect
from lavinmqperf.context import GO, STOP
from lavinmqperf.errors import PerfError, describe
from lavinmqperf.options import ThroughputOptions, split
from lavinmqperf.stats import LatencyReservoir, Result, histogram_lines, live_latency
from lavinmqperf.worker import WorkerPlan, worker_main

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def plan_workers(opts: ThroughputOptions) -> list[WorkerPlan]:
    """Spread consumers, then publishers, over up to ``processes`` (default: CPU count)
    worker processes per role; each role gets its own processes."""
    per_role = opts.processes or os.cpu_count() or 1
    queues = opts.queue_names()
    plans: list[WorkerPlan] = []
    for consume, clients, total in (
        (True, opts.consumers, opts.cmessages),
        (False, opts.publishers, opts.pmessages),
    ):
        if clients <= 0:
            continue
        role = [WorkerPlan(consume, len(plans) + i) for i in range(min(clients, per_role))]
        # publishers share -C out exactly; consumers cannot (the broker decides who gets
        # what), so each one checks the shared total against -D
        quotas = split(total, clients) if not consume else [total or None] * clients
        for i, quota in enumerate(quotas):
            plan = role[i % len(role)]
            plan.quotas.append(quota)
            if consume:
                plan.queues.append(queues[i % len(queues)])
        plans += role
    return plans


async def preflight(opts: ThroughputOptions) -> None:
    """Connect once and check the exchange and declare the queues, so that a wrong URI,
    bad credentials or a refused declare fail fast with a clear message."""
    async with connect(opts.uri, name="lavinmqperf setup", timeout=10) as conn:
        ch = await conn.channel()
        if opts.exchange:
            try:
                await ch.exchange_declare(opts.exchange, passive=True)
            except ChannelClosed as exc:
                raise PerfError(f"exchange {opts.exchange!r} is not usable: {exc}") from exc
            ch = await conn.channel()
        if opts.consumers <= 0:
            return
        for queue in dict.fromkeys(opts.queue_names()):
            if not queue:
                continue
            try:
                await ch.queue_declare(queue, durable=True, arguments=opts.queue_args)
            except ChannelClosed as refused:  # exists with other arguments: used as it is
                ch = await conn.channel()
                try:
                    await ch.queue_declare(queue, passive=True)
                except ChannelClosed:
                    raise PerfError(f"cannot declare queue {queue!r}: {refused}") from refused


class _Stop(Exception):
    """SIGTERM: stop like Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


class ThroughputRun:
    """One run of the throughput scenario.

    Args:
        opts: the options.
        out: where the live lines and the summary go.
    """

    def __init__(self, opts: ThroughputOptions, out: TextIO | None = None) -> None:
        self.opts = opts
        self.out = out or sys.stdout
        self.errors: list[str] = []
        self.reservoir = LatencyReservoir() if opts.measure_latency else None
        self._second: list[np.ndarray[Any, np.dtype[np.float64]]] = []
        self._done = 0
        self._procs: list[BaseProcess] = []
        self._pipes: list[Pipe] = []
        self._counts: Any = None
        self._control: Any = None

    def run(self) -> Result:
        """Run to the end; print and return the result.

        Raises:
            PerfError: the broker could not be used, or a client failed during the run.
        """
        try:
            uvloop.run(preflight(self.opts))
        except PerfError:
            raise
        except Exception as exc:
            raise PerfError(describe(exc)) from exc
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            self._start(plan_workers(self.opts))
            result = self._measure()
        finally:
            self._stop_workers()
            signal.signal(signal.SIGTERM, previous)
        self._print_summary(result)
        if self.errors:
            raise PerfError(self.errors[0])
        return result

    def _start(self, plans: list[WorkerPlan]) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process with threads
        self._counts = ctx.RawArray("q", 2 * len(plans))
        self._control = ctx.RawArray("b", 2)
        for plan in plans:
            reader, writer = ctx.Pipe(duplex=False)
            args = (plan, self.opts, self._counts, self._control, writer)
            proc = ctx.Process(target=worker_main, args=args, daemon=True)
            proc.start()
            writer.close()
            self._procs.append(proc)
            self._pipes.append(reader)

    def _totals(self) -> tuple[int, int]:
        counts = self._counts
        return sum(counts[0::2]), sum(counts[1::2])

    def _measure(self) -> Result:
        ready = 0
        deadline = time.monotonic() + READY_TIMEOUT
        while ready < len(self._procs):
            ready += self._poll(deadline - time.monotonic())
            if self.errors or self._done:
                raise PerfError(self.errors[0] if self.errors else "a worker exited early")
            if time.monotonic() > deadline:
                raise PerfError("timed out waiting for the clients to connect")
        self._control[GO] = 1
        start = time.monotonic()
        pub_rates: list[int] = []
        con_rates: list[int] = []
        try:
            self._report_loop(start, pub_rates, con_rates)
        except (KeyboardInterrupt, _Stop):
            pass
        self._control[STOP] = 1
        elapsed = time.monotonic() - start
        published, consumed = self._totals()
        return Result(elapsed, published, consumed, pub_rates, con_rates, self.reservoir)

    def _report_loop(self, start: float, pub_rates: list[int], con_rates: list[int]) -> None:
        timeout = self.opts.timeout
        last = (0, 0)
        tick = start
        while True:
            tick += 1.0
            end = min(tick, start + timeout) if timeout else tick
            while (now := time.monotonic()) < end:
                self._poll(end - now)
                if self.errors or self._done == len(self._procs):
                    return
            if timeout and now - start >= timeout - 0.01 and now < tick:
                return
            totals = self._totals()
            pub_rates.append(round((totals[0] - last[0]) / (now - tick + 1.0)))
            con_rates.append(round((totals[1] - last[1]) / (now - tick + 1.0)))
            last = totals
            if not self.opts.quiet:
                self._print_live(pub_rates[-1], con_rates[-1])
            if timeout and now - start >= timeout - 0.01:
                return

    def _print_live(self, pub_rate: int, con_rate: int) -> None:
        line = f"Publish rate: {pub_rate} msgs/s Consume rate: {con_rate} msgs/s"
        if self.opts.measure_latency and self._second:
            line += live_latency(np.concatenate(self._second))
        self._second.clear()
        print(line, file=self.out, flush=True)

    def _poll(self, timeout: float) -> int:
        """Handle worker messages for up to ``timeout`` seconds; return how many workers
        reported ready."""
        ready = 0
        for pipe in wait(self._pipes, max(timeout, 0.0)):
            assert isinstance(pipe, Pipe)
            try:
                message = pipe.recv()
            except EOFError:
                self._pipes.remove(pipe)
                continue
            ready += self._handle(message)
        return ready

    def _handle(self, message: tuple[Any, ...]) -> int:
        kind = message[0]
        if kind == "ready":
            return 1
        if kind == "latency" and self.reservoir is not None:
            samples = np.frombuffer(message[2], dtype=np.float64)
            self.reservoir.add(samples, message[1])
            self._second.append(samples)
        elif kind == "error":
            self.errors.append(message[1])
        elif kind == "done":
            self._done += 1
        return 0

    def _stop_workers(self) -> None:
        if self._control is not None:
            self._control[STOP] = 1
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._pipes and time.monotonic() < deadline:
            self._poll(0.05)
            if all(not proc.is_alive() for proc in self._procs):
                self._poll(0)
                break
        for proc in self._procs:
            proc.join(max(deadline - time.monotonic(), 0.1))
            if proc.is_alive():
                proc.terminate()
                proc.join(1)

    def _print_summary(self, result: Result) -> None:
        print(file=self.out)
        if self.opts.json_output:
            print(orjson.dumps(result.to_json()).decode(), file=self.out)
        else:
            print("\n".join(result.summary_lines()), file=self.out)
        if self.opts.histogram and result.latency is not None:
            print("\n".join(histogram_lines(result.latency.samples)), file=self.out)
        if self.opts.plot:
            from lavinmqperf.plot import write_rate_plot

            write_rate_plot(self.opts.plot, result.pub_rates, result.consume_rates)
        self.out.flush()


__all__ = ["ThroughputRun", "plan_workers", "preflight"]
