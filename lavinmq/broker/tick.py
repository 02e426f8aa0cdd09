"""Per event-loop-iteration batching: store flushes, socket writes and group commit.

Everything a read produces (publishes, acks, deliveries, confirms) is collected and
written at the end of the loop iteration, in this order:

1. stores flush their ack buffers and read pointers (so a delivery is on disk as
   "possibly delivered" before its frames leave),
2. writers (connections) send their buffered frames with one ``writelines`` each.

Publisher confirms for persistent messages wait for a group commit: all stores that took
such messages are fdatasync'ed together in a worker thread, then the waiting callbacks run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Flushable(Protocol):
    def flush(self) -> None: ...


class SyncSource(Protocol):
    def take_dirty_fds(self) -> list[int]: ...


class Tick:
    """The broker's end-of-iteration scheduler (one per broker / event loop)."""

    __slots__ = (
        "_loop",
        "_scheduled",
        "_stores",
        "_sync_callbacks",
        "_sync_running",
        "_sync_stores",
        "_writers",
        "on_sync_failure",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._scheduled = False
        self._stores: set[Flushable] = set()
        self._writers: dict[Flushable, None] = {}
        self._sync_stores: set[SyncSource] = set()
        self._sync_callbacks: list[Callable[[], None]] = []
        self._sync_running = False
        # Called instead of the waiting callbacks when a group commit fails: nothing it
        # covered may be confirmed (the broker closes the connections waiting on it).
        self.on_sync_failure: Callable[[BaseException], None] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def call_soon(self, callback: Callable[[], None]) -> None:
        self._loop.call_soon(callback)

    def store_dirty(self, store: Flushable) -> None:
        self._stores.add(store)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._run)

    def writer_dirty(self, writer: Flushable) -> None:
        self._writers[writer] = None
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._run)

    def sync(self, store: SyncSource) -> None:
        """Include ``store`` in the next group commit."""
        self._sync_stores.add(store)

    def commit(self, store: SyncSource) -> None:
        """Sync ``store`` in a group commit soon, with nothing waiting for it."""
        self.sync(store)
        self.after_sync(_nothing)

    def after_sync(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once everything written so far is fdatasync'ed."""
        self._sync_callbacks.append(callback)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        stores = self._stores
        if stores:
            self._stores = set()
            for store in stores:
                try:
                    store.flush()
                except OSError:
                    log.exception("flushing a message store failed")
        if self._sync_callbacks and not self._sync_running:
            self._start_sync()
        writers = self._writers
        if writers:
            self._writers = {}
            for writer in writers:
                writer.flush()

    def _start_sync(self) -> None:
        fds: list[int] = []
        for store in self._sync_stores:
            fds.extend(store.take_dirty_fds())
        self._sync_stores = set()
        callbacks, self._sync_callbacks = self._sync_callbacks, []
        self._sync_running = True
        fut = self._loop.run_in_executor(None, _fdatasync_all, fds)
        fut.add_done_callback(lambda f: self._sync_done(f, callbacks))

    def _sync_done(self, fut: asyncio.Future[None], callbacks: list[Callable[[], None]]) -> None:
        self._sync_running = False
        exc = fut.exception()
        if exc is not None:
            # After a failed fdatasync the kernel may have dropped the dirty pages, so a
            # retry proves nothing: the publishes it covered are never confirmed.
            log.critical("group commit failed, %d confirms withheld: %s", len(callbacks), exc)
            if self.on_sync_failure is not None:
                self.on_sync_failure(exc)
            callbacks = []
        for cb in callbacks:
            cb()
        if self._sync_callbacks:
            self._start_sync()

    def flush_now(self) -> None:
        """Run the end-of-iteration work immediately (shutdown, tests)."""
        self._run()


def _nothing() -> None:
    """The callback of a commit nobody waits for."""


def _fdatasync_all(fds: list[int]) -> None:
    try:
        for fd in fds:
            os.fdatasync(fd)
    finally:
        for fd in fds:
            os.close(fd)
