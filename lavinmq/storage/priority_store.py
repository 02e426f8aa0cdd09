"""A store per priority level behind the MessageStore interface (priority queues).

Level ``n`` lives in ``<dir>/prio.<n>``; a position carries its level in bits 56-63, so
ack/requeue/read find the right store. ``shift`` takes from the highest level first.
Stores are lazy: a level that never got a message has no files.
"""

from __future__ import annotations

import os
from pathlib import Path

from lavinmq.storage.message_store import SEGMENT_SIZE, MessageStore
from lavinmq.storage.segment import remove_directory

LEVEL_SHIFT = 56
POS_MASK = (1 << LEVEL_SHIFT) - 1


class PriorityStore:
    """``MessageStore``'s API plus ``push(record, priority)``."""

    __slots__ = ("_dir", "_levels")

    def __init__(
        self, directory: os.PathLike[str] | str, max_priority: int, segment_size: int = SEGMENT_SIZE
    ) -> None:
        self._dir = Path(directory)
        self._levels = [
            MessageStore(self._dir / f"prio.{n:03d}", segment_size) for n in range(max_priority + 1)
        ]

    @property
    def directory(self) -> str:
        """The queue's directory, holding one store directory per level."""
        return str(self._dir)

    def push(self, payload: bytes, priority: int = 0) -> int:
        level = min(max(priority, 0), len(self._levels) - 1)
        return self._levels[level].push(payload) | (level << LEVEL_SHIFT)

    def _first(self, peek: bool) -> tuple[int, bytes | memoryview, bool] | None:
        for level in range(len(self._levels) - 1, -1, -1):
            store = self._levels[level]
            if store.ready:
                item = store.peek() if peek else store.shift()
                if item is not None:
                    return item[0] | (level << LEVEL_SHIFT), item[1], item[2]
        return None

    def shift(self) -> tuple[int, bytes | memoryview, bool] | None:
        return self._first(False)

    def release_held(self) -> None:
        """Nothing to release: records pushed by priority are never held."""

    def peek(self) -> tuple[int, bytes | memoryview, bool] | None:
        return self._first(True)

    def _at(self, pos: int) -> tuple[MessageStore, int]:
        return self._levels[pos >> LEVEL_SHIFT], pos & POS_MASK

    def read(self, pos: int) -> bytes:
        store, inner = self._at(pos)
        return store.read(inner)

    def requeue(self, pos: int) -> None:
        store, inner = self._at(pos)
        store.requeue(inner)

    def ack(self, pos: int) -> None:
        store, inner = self._at(pos)
        store.ack(inner)

    def purge(self) -> int:
        return sum(store.purge() for store in self._levels)

    def flush(self) -> None:
        for store in self._levels:
            store.flush()

    def take_dirty_fds(self) -> list[int]:
        return [fd for store in self._levels for fd in store.take_dirty_fds()]

    def close(self) -> None:
        for store in self._levels:
            store.close()

    def delete(self) -> None:
        for store in self._levels:
            store.delete()
        # Not rmdir: the levels are only renamed ``*.deleted`` in here and removed on the
        # background thread, so the directory is not empty yet; this renames it whole
        # (a leftover after a crash is found by ``remove_leftover_directories``).
        remove_directory(str(self._dir))

    @property
    def ready(self) -> int:
        return sum(store.ready for store in self._levels)

    @property
    def count(self) -> int:
        return sum(store.count for store in self._levels)

    @property
    def bytesize(self) -> int:
        return sum(store.bytesize for store in self._levels)

    @property
    def ready_bytesize(self) -> int:
        return sum(store.ready_bytesize for store in self._levels)
