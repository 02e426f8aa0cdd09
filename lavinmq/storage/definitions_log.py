"""Append-only log of definition frames, replayed at boot and compacted by rewriting.

Each record is a big-endian u32 length followed by that many bytes (the broker stores
encoded AMQP method frames). An append is written at once, so a killed broker loses
nothing; it is fsynced either at once (``sync=True``) or by the broker's next group
commit (``take_dirty_fds``), off the event loop: one fsync each made declaring 100,000
durable queues take 4.5 minutes.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from lavinmq.storage.fsync import fsync_directory

logger = logging.getLogger(__name__)

_LENGTH: Final = struct.Struct(">I")


class DefinitionsLog:
    """An append-only file of length-prefixed byte frames.

    The file is opened on the first ``append``; at that point a torn last record (from a
    crash mid-append) is cut away so that new records are not appended behind garbage.

    Args:
        path: the log file; it need not exist yet (its directory must).
    """

    __slots__ = ("_dirty", "_fd", "_path")

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd = -1
        self._dirty = False

    def append(self, frame: bytes, sync: bool = True) -> None:
        """Append one record; fsync it now when ``sync``, else leave it to whoever calls
        ``take_dirty_fds``.

        Raises:
            OSError: the write or the fsync failed; the log is left as it was.
        """
        if self._fd < 0:
            self._open()
        fd = self._fd
        size = os.fstat(fd).st_size
        data = memoryview(_LENGTH.pack(len(frame)) + frame)
        try:
            while data:
                data = data[os.write(fd, data) :]
            if sync:
                os.fsync(fd)
            else:
                self._dirty = True
        except OSError:
            # Later appends must not land behind half a record.
            os.ftruncate(fd, size)
            raise

    def take_dirty_fds(self) -> list[int]:
        """A duplicate of the log's descriptor when appends await a sync (the caller
        fdatasyncs and closes it: the broker's group commit)."""
        if not self._dirty or self._fd < 0:
            return []
        self._dirty = False
        return [os.dup(self._fd)]

    def replay(self) -> list[bytes]:
        """Return all records in order; a torn last record is ignored with a warning."""
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return []
        frames, end = _parse(data)
        if end < len(data):
            logger.warning(
                "%s: ignoring a torn record of %d bytes at the end", self._path, len(data) - end
            )
        return frames

    def compact(self, frames: Iterable[bytes]) -> None:
        """Atomically replace the log with ``frames``.

        The frames go to a temporary file that is fsynced and renamed over the log; then
        the directory is fsynced so that the rename survives a crash.
        """
        tmp = self._path.with_name(self._path.name + ".tmp")
        try:
            with open(tmp, "wb") as f:
                for frame in frames:
                    f.write(_LENGTH.pack(len(frame)))
                    f.write(frame)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.close()
        os.replace(tmp, self._path)
        fsync_directory(self._path.parent)

    def close(self) -> None:
        """Close the file (synced first if appends await a sync); ``append`` reopens it."""
        if self._fd >= 0:
            try:
                if self._dirty:
                    os.fsync(self._fd)
            finally:
                self._dirty = False
                os.close(self._fd)
                self._fd = -1

    def _open(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size:
                _, end = _parse(os.pread(fd, size, 0))
                if end < size:
                    logger.warning("%s: cutting a torn record of %d bytes", self._path, size - end)
                    os.ftruncate(fd, end)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd


def _parse(data: bytes) -> tuple[list[bytes], int]:
    """Split ``data`` into records; return them and the offset after the last whole one."""
    frames: list[bytes] = []
    off = 0
    size = len(data)
    unpack = _LENGTH.unpack_from
    while off + _LENGTH.size <= size:
        (n,) = unpack(data, off)
        start = off + _LENGTH.size
        if start + n > size:
            break
        frames.append(data[start : start + n])
        off = start + n
    return frames, off
