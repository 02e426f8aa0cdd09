"""Resource alarms: low free disk space blocks publishing connections.

Once a second the free space of the data directory's file system is read with
``statvfs`` (one cheap syscall). Below the limit, every connection that publishes is
blocked, as RabbitMQ does: it gets Connection.Blocked (when its client announced the
``connection.blocked`` capability) and its socket is no longer read, so its publishes stay
in the kernel's buffers and on the client. When space returns, blocked connections get
Connection.Unblocked and are read again. Connections that never publish (consumers) keep
running, so they can drain queues and free space.

The limit is ``free_disk_min`` or three segments, whichever is bigger (LavinMQ's rule): a
store must always be able to allocate the next segment file.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Final, Protocol

log = logging.getLogger(__name__)

CHECK_INTERVAL: Final = 1.0
DISK_REASON: Final = "low on disk"


class Blockable(Protocol):
    """A connection the alarm can block (``server.protocol.AMQPProtocol``)."""

    def block(self, reason: str) -> None: ...

    def unblock(self) -> None: ...


class DiskAlarm:
    """Watches free disk space and blocks or unblocks the registered publishers.

    Args:
        path: a path on the file system to watch (the data directory).
        limit: returns the minimum free bytes; read at every check, so a config reload
            takes effect at the next one.
        loop: the broker's event loop.
        interval: seconds between checks.
    """

    __slots__ = (
        "_handle",
        "_limit",
        "_loop",
        "_path",
        "active",
        "free",
        "interval",
        "publishers",
        "statvfs",
    )

    def __init__(
        self,
        path: str,
        limit: Callable[[], int],
        loop: asyncio.AbstractEventLoop,
        interval: float = CHECK_INTERVAL,
    ) -> None:
        self._path = path
        self._limit = limit
        self._loop = loop
        self.interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self.active = False
        self.free = -1  # bytes available to unprivileged users at the last check
        self.publishers: set[Blockable] = set()
        # An attribute so tests can fake a full disk.
        self.statvfs: Callable[[str], os.statvfs_result] = os.statvfs

    def start(self) -> None:
        """Check now, then every ``interval`` seconds."""
        self.check()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def check(self) -> None:
        """Measure free space and raise or clear the alarm (and re-arm the timer)."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_later(self.interval, self.check)
        try:
            st = self.statvfs(self._path)
        except OSError as exc:
            log.warning("cannot read free disk space of %s: %s", self._path, exc)
            return
        self.free = st.f_bavail * st.f_frsize
        limit = self._limit()
        if self.free < limit and not self.active:
            log.warning(
                "free disk space %d bytes is below the limit of %d bytes: blocking publishers",
                self.free,
                limit,
            )
            self._set(True)
        elif self.free >= limit and self.active:
            log.info(
                "free disk space %d bytes is above the limit again: unblocking publishers",
                self.free,
            )
            self._set(False)

    def add_publisher(self, conn: Blockable) -> None:
        """``conn`` published for the first time: block it at once if the alarm is on."""
        self.publishers.add(conn)
        if self.active:
            conn.block(DISK_REASON)

    def remove_publisher(self, conn: Blockable) -> None:
        self.publishers.discard(conn)

    def _set(self, active: bool) -> None:
        self.active = active
        for conn in list(self.publishers):
            if active:
                conn.block(DISK_REASON)
            else:
                conn.unblock()
