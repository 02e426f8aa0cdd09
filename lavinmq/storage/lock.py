"""An exclusive lock on a data directory, so that two brokers never share one."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

LOCK_NAME = ".lock"


class DataDirLocked(RuntimeError):
    """Another process holds the data directory lock."""


class DataDirLock:
    """``flock`` on ``<data_dir>/.lock``, which holds the owner's pid.

    The lock belongs to the open file description, so it is released when the process
    dies, however it dies. Usable as a context manager.

    Args:
        data_dir: the data directory; created if missing.
    """

    __slots__ = ("_data_dir", "_fd")

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._fd = -1

    @property
    def locked(self) -> bool:
        """Whether this instance holds the lock."""
        return self._fd >= 0

    def acquire(self) -> None:
        """Take the lock and write our pid into the lock file.

        Raises:
            DataDirLocked: another process (or another ``DataDirLock``) holds it.
            RuntimeError: this instance already holds it.
        """
        if self._fd >= 0:
            raise RuntimeError(f"data directory {self._data_dir} is already locked by us")
        self._data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirLocked(
                f"data directory {self._data_dir} is locked by another lavinmq process (pid {pid})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (the file stays: removing it would race with other acquirers)."""
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
