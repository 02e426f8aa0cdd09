"""Heartbeat timer for one connection (AMQP 0-9-1 section 4.2.7)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# The timer ticks twice per negotiated interval: a heartbeat goes out on a tick when
# nothing else was written since the previous one, and the peer counts as dead after
# two whole intervals (four ticks) in which nothing at all arrived.
TICKS_PER_INTERVAL = 2
DEAD_AFTER_TICKS = 2 * TICKS_PER_INTERVAL


class Heartbeat:
    """Sends heartbeats when idle and reports a silent peer.

    The connection sets :attr:`sent` / :attr:`received` whenever it writes / reads, so
    the hot path pays one attribute store per read or flush and never touches a timer.

    Args:
        loop: the event loop.
        interval: the negotiated heartbeat interval in seconds (0 disables the timer).
        send: writes one heartbeat frame.
        dead: called once when the peer has been silent for two intervals.
    """

    __slots__ = (
        "_dead",
        "_handle",
        "_loop",
        "_send",
        "_silent_ticks",
        "interval",
        "received",
        "sent",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval: int,
        send: Callable[[], None],
        dead: Callable[[], None],
    ) -> None:
        self._loop = loop
        self.interval = interval
        self._send = send
        self._dead = dead
        self._handle: asyncio.TimerHandle | None = None
        self._silent_ticks = 0
        self.sent = False
        self.received = False

    def start(self) -> None:
        """Start ticking (no-op when the interval is 0)."""
        if self.interval > 0 and self._handle is None:
            self._schedule()

    def stop(self) -> None:
        """Stop the timer."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _schedule(self) -> None:
        self._handle = self._loop.call_later(self.interval / TICKS_PER_INTERVAL, self._tick)

    def _tick(self) -> None:
        if self.received:
            self._silent_ticks = 0
        else:
            self._silent_ticks += 1
        self.received = False
        if self._silent_ticks >= DEAD_AFTER_TICKS:
            self._handle = None
            self._dead()
            return
        if not self.sent:
            self._send()
        self.sent = False
        self._schedule()


__all__ = ["Heartbeat"]
