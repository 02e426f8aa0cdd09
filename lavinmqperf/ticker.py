"""Smooth pacing for rate-limited publishers and consumers (LavinMQ's ``ticker.cr``).

Work is done in batches, so instead of sleeping per message the ticker says how many
messages are due by now and how long to wait for the next one.
"""

from __future__ import annotations

import time


class Ticker:
    """Paces ``rate`` operations per second from the moment it is created (0: unpaced).

    Args:
        rate: operations per second; 0 means no limit.
    """

    __slots__ = ("_start", "done", "rate")

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._start = time.monotonic()
        self.done = 0
        """Operations performed so far (callers add to it)."""

    def allowance(self, want: int) -> int:
        """How many of ``want`` operations may run now (at least 1 once one is due)."""
        if not self.rate:
            return want
        due = int((time.monotonic() - self._start) * self.rate) + 1 - self.done
        return max(0, min(want, due))

    def delay(self) -> float:
        """Seconds until the next operation is due (0 when it already is)."""
        if not self.rate:
            return 0.0
        wait = self._start + (self.done + 1) / self.rate - time.monotonic()
        return max(wait, 0.0)


__all__ = ["Ticker"]
