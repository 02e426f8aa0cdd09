"""Resource alarms: low free disk space, or too much memory, blocks publishing connections.

Once a second the free space of the data directory's file system is read with
``statvfs`` (one cheap syscall). Below the limit, every connection that publishes is
blocked, as RabbitMQ does: it gets Connection.Blocked (when its client announced the
``connection.blocked`` capability) and its socket is no longer read, so its publishes stay
in the kernel's buffers and on the client. When space returns, blocked connections get
Connection.Unblocked and are read again. Connections that never publish (consumers) keep
running, so they can drain queues and free space.

The limit is ``free_disk_min`` or three segments, whichever is bigger (LavinMQ's rule): a
store must always be able to allocate the next segment file.

The memory alarm works the same way on the process's resident memory against
``memory_high_watermark`` (RabbitMQ's ``vm_memory_high_watermark``). A connection blocked
by both alarms is unblocked when the last one clears.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import resource
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Final, Protocol

log = logging.getLogger(__name__)

CHECK_INTERVAL: Final = 1.0
DISK_REASON: Final = "low on disk"
MEMORY_REASON: Final = "low on memory"
_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")


class Blockable(Protocol):
    """A connection the alarm can block (``server.protocol.AMQPProtocol``)."""

    def block(self, reason: str) -> None: ...

    def unblock(self, reason: str) -> None: ...


def resident_memory() -> int:
    """This process's resident set size in bytes (``/proc/self/statm``, one read)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class ResourceAlarm:
    """Measures a resource every ``interval`` seconds and blocks the registered publishers
    while it is over its limit (and unblocks them when it is back under).

    Args:
        limit: returns the limit; read at every check, so a config reload takes effect
            at the next one.
        loop: the broker's event loop.
        interval: seconds between checks.
        publishers: the set of publishing connections, shared by the broker's alarms.
    """

    reason: ClassVar[str]
    resource: ClassVar[str]
    """The resource as RabbitMQ names it in alarm lists ("disk", "memory")."""
    _raised: ClassVar[str]
    """The log line when the alarm goes on (``{value}``, ``{limit}``)."""
    _cleared: ClassVar[str]
    """The log line when it goes off again (``{value}``)."""
    __slots__ = ("_handle", "_limit", "_loop", "active", "interval", "publishers")

    def __init__(
        self,
        limit: Callable[[], int],
        loop: asyncio.AbstractEventLoop,
        interval: float = CHECK_INTERVAL,
        publishers: set[Blockable] | None = None,
    ) -> None:
        self._limit = limit
        self._loop = loop
        self.interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self.active = False
        self.publishers: set[Blockable] = set() if publishers is None else publishers

    def start(self) -> None:
        """Check now, then every ``interval`` seconds."""
        self.check()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def check(self) -> None:
        """Measure and raise or clear the alarm (and re-arm the timer)."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._loop.call_later(self.interval, self.check)
        value = self._measure()
        if value is None:
            return
        limit = self._limit()
        breached = self._breached(value, limit)
        if breached != self.active:
            if breached:
                log.warning(self._raised.format(value=value, limit=limit))
            else:
                log.info(self._cleared.format(value=value))
            self._set(breached)

    def add_publisher(self, conn: Blockable) -> None:
        """``conn`` published for the first time: block it at once if the alarm is on."""
        self.publishers.add(conn)
        if self.active:
            conn.block(self.reason)

    def remove_publisher(self, conn: Blockable) -> None:
        self.publishers.discard(conn)

    def limit(self) -> int:
        """The limit now (the API shows it)."""
        return self._limit()

    def _set(self, active: bool) -> None:
        self.active = active
        for conn in list(self.publishers):
            if active:
                conn.block(self.reason)
            else:
                conn.unblock(self.reason)

    def _measure(self) -> int | None:
        raise NotImplementedError

    def _breached(self, value: int, limit: int) -> bool:
        raise NotImplementedError


class DiskAlarm(ResourceAlarm):
    """Free disk space of the data directory's file system, read with ``statvfs``.

    Args:
        path: a path on the file system to watch (the data directory).
        limit: returns the minimum free bytes.
    """

    reason = DISK_REASON
    resource = "disk"
    _raised = (
        "free disk space {value} bytes is below the limit of {limit} bytes: blocking publishers"
    )
    _cleared = "free disk space {value} bytes is above the limit again: unblocking publishers"
    __slots__ = ("_path", "free", "statvfs")

    def __init__(
        self,
        path: str,
        limit: Callable[[], int],
        loop: asyncio.AbstractEventLoop,
        interval: float = CHECK_INTERVAL,
        publishers: set[Blockable] | None = None,
    ) -> None:
        super().__init__(limit, loop, interval, publishers)
        self._path = path
        self.free = -1  # bytes available to unprivileged users at the last check
        # An attribute so tests can fake a full disk.
        self.statvfs: Callable[[str], os.statvfs_result] = os.statvfs

    def _measure(self) -> int | None:
        try:
            st = self.statvfs(self._path)
        except OSError as exc:
            log.warning("cannot read free disk space of %s: %s", self._path, exc)
            return None
        self.free = st.f_bavail * st.f_frsize
        return self.free

    def _breached(self, value: int, limit: int) -> bool:
        return value < limit


class MemoryAlarm(ResourceAlarm):
    """The broker's resident memory (RSS), against ``memory_high_watermark``.

    Messages live on disk, so the broker's RSS stays small and flat; this is the safety
    net RabbitMQ users expect from ``vm_memory_high_watermark``: if something does make
    it grow (huge messages held in transactions, thousands of connections), publishers
    are blocked before the machine runs out. A limit of 0 turns it off.
    """

    reason = MEMORY_REASON
    resource = "memory"
    _raised = (
        "memory use {value} bytes is above the high watermark of {limit} bytes: blocking publishers"
    )
    _cleared = "memory use {value} bytes is below the high watermark again: unblocking publishers"
    # No __slots__: one per broker, and tests replace ``rss`` on the instance.
    used = 0
    """Resident bytes at the last check."""
    rss: Callable[[], int] = staticmethod(resident_memory)

    def _measure(self) -> int | None:
        self.used = self.rss()
        return self.used

    def _breached(self, value: int, limit: int) -> bool:
        return 0 < limit < value


@functools.cache
def total_memory() -> int:
    """The memory this process may use: the machine's, or its cgroup's limit if lower.

    Read once: the watermark is resolved at every check and every ``/api/nodes``.
    """
    total = _PAGE_SIZE * os.sysconf("SC_PHYS_PAGES")
    try:
        raw = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(raw)) if raw.isdigit() else total


def memory_limit(watermark: float) -> int:
    """Bytes for ``memory_high_watermark``: a fraction of ``total_memory()`` up to 1.0,
    else a number of bytes; 0 (or less) turns the alarm off."""
    if watermark <= 0:
        return 0
    if watermark <= 1:
        return int(watermark * total_memory())
    return int(watermark)
