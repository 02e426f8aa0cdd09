"""What one worker process shares with its clients and with the parent process.

Counters live in shared memory (a ``multiprocessing.RawArray`` of int64, two slots per
worker: published, consumed) so the parent reads live totals without any messages;
``control`` holds the GO and STOP flags the parent sets. Latency samples, errors and the
ready/done handshake travel over the worker's pipe.
"""

from __future__ import annotations

import asyncio
from array import array
from multiprocessing.connection import Connection as Pipe
from typing import Any

from lavinmqperf.options import ThroughputOptions

GO = 0
STOP = 1
LATENCY_BATCH = 65536
"""At most this many latency samples per shipment to the parent (a random subset beyond)."""


class WorkerContext:
    """Shared state of one worker process, handed to each of its clients.

    Args:
        opts: the run's options.
        slot: this worker's index in ``counts`` (slots ``2*slot`` and ``2*slot + 1``).
        counts: the shared int64 counters.
        control: the shared GO/STOP flags.
        pipe: the sending end of the pipe to the parent.
    """

    __slots__ = ("_control", "_counts", "_pipe", "con_index", "latencies", "opts", "pub_index")

    def __init__(
        self, opts: ThroughputOptions, slot: int, counts: Any, control: Any, pipe: Pipe
    ) -> None:
        self.opts = opts
        self._counts = counts
        self._control = control
        self._pipe = pipe
        self.pub_index = 2 * slot
        self.con_index = 2 * slot + 1
        self.latencies: array[float] = array("d")
        """Latency samples (ms) not yet shipped to the parent."""

    @property
    def stopped(self) -> bool:
        """True once the parent asked every client to stop."""
        return bool(self._control[STOP])

    async def wait_go(self) -> None:
        """Wait for the parent's start signal (every client of the run is connected)."""
        while not self._control[GO] and not self._control[STOP]:  # noqa: ASYNC110 - set by another process
            await asyncio.sleep(0.005)

    def add_published(self, n: int) -> None:
        """Count ``n`` published messages."""
        self._counts[self.pub_index] += n

    def add_consumed(self, n: int) -> None:
        """Count ``n`` consumed messages."""
        self._counts[self.con_index] += n

    def consumed_total(self) -> int:
        """Messages consumed so far by all consumers of the run (every process)."""
        return sum(self._counts[1::2])

    def send(self, *message: object) -> None:
        """Send a message to the parent (``("ready",)``, ``("error", text)``, ...)."""
        self._pipe.send(message)

    def ship_latencies(self) -> None:
        """Send the latency samples gathered since the last call to the parent."""
        samples = self.latencies
        if not samples:
            return
        self.latencies = array("d")
        count = len(samples)
        if count > LATENCY_BATCH:
            step = count / LATENCY_BATCH
            samples = array("d", (samples[int(i * step)] for i in range(LATENCY_BATCH)))
        self._pipe.send(("latency", count, samples.tobytes()))


__all__ = ["GO", "STOP", "WorkerContext"]
