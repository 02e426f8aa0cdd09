"""Segment files: naming, allocation, memory mapping and record scanning.

A segment file is ``SEGMENT_MAGIC`` followed by records, each a big-endian u32 length and
that many payload bytes. A length of 0 ends the data: the zero fill ``posix_fallocate``
leaves in a new file, or the zeros the writer keeps after its data in a recycled one
(``record_writer.py``). Ack files hold big-endian u32 offsets of deleted records of their
segment.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import queue
import shutil
import struct
import sys
import threading
from array import array
from collections.abc import Callable, Sequence
from typing import Final

from lavinmq.storage.errors import CorruptSegmentError, StoreFullError

logger = logging.getLogger(__name__)

SEGMENT_MAGIC: Final = b"LMQ\x01"
HEADER_SIZE: Final = len(SEGMENT_MAGIC)
LENGTH_SIZE: Final = 4
SEGMENT_PREFIX: Final = "msgs."
ACK_PREFIX: Final = "acks."
CORRUPT_SUFFIX: Final = ".corrupt"
DELETED_SUFFIX: Final = ".deleted"

LENGTH: Final = struct.Struct(">I")
_unpack_length = LENGTH.unpack_from
_FULL_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT})

# Acks are buffered as native u32 arrays: appending an int to an array allocates nothing,
# unlike packing 4 bytes per ack. They are byte-swapped to big-endian once per write.
OFFSETS_TYPECODE: Final = "I"
if array(OFFSETS_TYPECODE).itemsize != LENGTH_SIZE:  # pragma: no cover
    raise ImportError("lavinmq.storage needs a 4-byte C unsigned int")


def segment_name(segment_id: int) -> str:
    """Return the file name of a segment, e.g. ``msgs.0000000001``."""
    return f"{SEGMENT_PREFIX}{segment_id:010d}"


def ack_name(segment_id: int) -> str:
    """Return the file name of a segment's ack file, e.g. ``acks.0000000001``."""
    return f"{ACK_PREFIX}{segment_id:010d}"


def parse_id(name: str, prefix: str) -> int | None:
    """Return the id in ``<prefix><10 digits>``, or None when ``name`` is not such a file."""
    digits = name[len(prefix) :]
    if not name.startswith(prefix) or len(digits) != 10 or not digits.isascii():
        return None
    if not digits.isdigit():
        return None
    return int(digits)


def create_segment(path: str, size: int) -> tuple[int, mmap.mmap]:
    """Create, allocate and map a new segment file, magic header written.

    ``posix_fallocate`` (not ``ftruncate``) reserves the blocks up front, so a full disk
    fails here with ENOSPC instead of with SIGBUS on a later write through the mapping.

    Args:
        path: the file to create; it must not exist.
        size: the file size to allocate.

    Returns:
        The read/write file descriptor and a read/write shared mapping of the whole file.

    Raises:
        StoreFullError: the disk or quota is full; no file is left behind.
        OSError: any other failure; no file is left behind.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        # Magic first: a crash before fallocate leaves a valid empty segment, not a file
        # of zeros that recovery would have to call corrupt.
        os.write(fd, SEGMENT_MAGIC)
        os.posix_fallocate(fd, 0, size)
        mapping = mmap.mmap(fd, size)
    except OSError as exc:
        os.close(fd)
        os.unlink(path)
        if exc.errno in _FULL_ERRNOS:
            raise StoreFullError(exc.errno, f"no space for segment {path}: {exc}") from exc
        raise
    return fd, mapping


def map_segment(path: str) -> mmap.mmap:
    """Map an existing segment read-only after checking its magic header.

    The file descriptor is closed before returning: the mapping keeps its own.

    Raises:
        CorruptSegmentError: the file is too short or has a bad magic header.
        OSError: the file cannot be opened or mapped.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size < HEADER_SIZE:
            raise CorruptSegmentError(f"{path}: {size} bytes is too short for a segment")
        mapping = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    if mapping[:HEADER_SIZE] != SEGMENT_MAGIC:
        mapping.close()
        raise CorruptSegmentError(f"{path}: bad magic header")
    return mapping


_NO_OFFSETS: Final = array(OFFSETS_TYPECODE)


def scan_records(
    buf: mmap.mmap,
    start: int,
    limit: int,
    skip: array[int] | None = None,
    collect: array[int] | None = None,
) -> tuple[int, int, int]:
    """Walk the records of ``buf[start:limit]``.

    Scanning stops at a zero length (end of data) or at a record overrunning ``limit``
    (a torn tail).

    Args:
        buf: the mapped segment.
        start: offset of the first record.
        limit: the end of the readable bytes.
        skip: offsets of acked records in descending order (as ``read_acks`` returns
            them), which are walked over but not counted. Not modified.
        collect: when given, the offset of each counted record is appended to it.

    Returns:
        ``(end, count, nbytes)``: the offset after the last whole record, and the number
        and total payload size of the counted records.
    """
    off = start
    count = nbytes = 0
    acked = skip if skip is not None else _NO_OFFSETS
    si = len(acked) - 1  # index of the smallest skipped offset not passed yet
    while off + LENGTH_SIZE <= limit:
        (length,) = _unpack_length(buf, off)
        nxt = off + LENGTH_SIZE + length
        if length == 0 or nxt > limit:
            break
        while si >= 0 and acked[si] < off:
            si -= 1
        if si < 0 or acked[si] != off:
            count += 1
            nbytes += length
            if collect is not None:
                collect.append(off)
        off = nxt
    return off, count, nbytes


def read_acks(path: str) -> array[int]:
    """Read an ack file: the acked offsets, largest first; a missing file is empty.

    A trailing partial u32 (a write cut short by a crash) is ignored. The offsets are
    kept as 4-byte unsigned ints, sorted descending so that a reader moving forward
    through the segment drops them from the end as it passes them: a segment with
    200,000 acked tiny records costs 800 KB, not the 12 MB of a set of ints.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return array(OFFSETS_TYPECODE)
    offsets = array(OFFSETS_TYPECODE)
    offsets.frombytes(data[: len(data) - len(data) % LENGTH_SIZE])
    if sys.byteorder == "little":
        offsets.byteswap()
    return array(OFFSETS_TYPECODE, sorted(offsets, reverse=True))


def open_ack_file(path: str) -> int:
    """Open an ack file for appending, dropping a trailing partial u32 first.

    Appending after a partial u32 would shift every later offset, so the partial one
    (from a crash or a failed write) is cut away.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    size = os.fstat(fd).st_size
    if size % LENGTH_SIZE:
        os.ftruncate(fd, size - size % LENGTH_SIZE)
    return fd


def pack_offsets(offsets: array[int]) -> bytes:
    """Return offsets in the ack file format: big-endian u32s."""
    data = array(OFFSETS_TYPECODE, offsets)
    if sys.byteorder == "little":
        data.byteswap()
    return data.tobytes()


def write_all(fd: int, data: bytes) -> None:
    """Append all of ``data`` to ``fd``; on failure cut the file back to where it was.

    Raises:
        StoreFullError: the disk or quota is full.
        OSError: any other write failure.
    """
    view = memoryview(data)
    done = 0
    try:
        while done < len(view):
            done += os.write(fd, view[done:])
    except OSError as exc:
        if done:
            os.ftruncate(fd, os.fstat(fd).st_size - done)
        if exc.errno in _FULL_ERRNOS:
            raise StoreFullError(exc.errno, f"no space to write acks: {exc}") from exc
        raise
    finally:
        view.release()


def write_fully(fd: int, buffers: Sequence[bytes | memoryview], offset: int) -> None:
    """``pwritev`` all of ``buffers`` at ``offset``, continuing after a short write."""
    total = sum(map(len, buffers))
    done = os.pwritev(fd, buffers, offset)
    if done < total:  # rare (signals, full disks): finish with one joined write
        rest = b"".join(buffers)[done:]
        while rest:
            n = os.pwrite(fd, rest, offset + done)
            if n == 0:
                raise OSError(errno.EIO, "pwrite wrote nothing")
            done += n
            rest = rest[n:]


class _Remover:
    """Deletes files on one background thread, in submission order.

    Unlinking a fully acked 8 MiB segment frees its page cache and extents: with 1 MiB
    messages that was 13 % of the broker's (single-threaded) time. The store forgets a
    segment before its files go; ``remove_segment`` renames it first, so a crash before
    they go only leaves ``*.deleted`` files that recovery deletes.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        """Queue ``job`` to run after the jobs queued before it."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="segment-remover", daemon=True
                    )
                    self._thread.start()
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception:  # the thread must outlive one bad job
                logger.exception("background segment job failed")
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every submitted file is gone."""
        if self._thread is not None:
            self._queue.join()


_REMOVER = _Remover()
background_removal = False
"""When True, ``remove_segment``/``remove_files`` unlink on a background thread (the
broker sets it)."""


def remove_files(*paths: str) -> None:
    """Unlink ``paths`` in order, on the background thread when enabled."""
    run_in_background(lambda: _unlink_all(paths))


def run_in_background(job: Callable[[], None]) -> None:
    """Run ``job`` on the removal thread, after the jobs queued before it (an exception
    there is logged); at once when background removal is off."""
    if background_removal:
        _REMOVER.submit(job)
    else:
        job()


def remove_segment(segment_path: str, ack_path: str) -> None:
    """Delete a dropped segment and its ack file.

    With background removal the segment is first renamed to ``*.deleted`` (a cheap,
    atomic directory update; the unlink that frees its blocks is the slow part). A
    segment is dropped with acks still buffered, or by a purge that writes no acks at
    all, so if a crash came before the background unlink, recovery would find the file
    with records that look live and deliver acked or purged messages again. Renamed, it
    is only a leftover that recovery removes.
    """
    if background_removal:
        try:
            os.rename(segment_path, segment_path + DELETED_SUFFIX)
            segment_path += DELETED_SUFFIX
        except FileNotFoundError:
            pass
    remove_files(segment_path, ack_path)


def remove_directory(path: str) -> None:
    """Delete a store directory and everything in it.

    With background removal the directory is renamed ``*.deleted`` at once (a queue
    declared again under the same name gets a fresh one) and removed on the background
    thread, after the jobs queued before it (a spare being zeroed in it): unlinking a
    long queue's segments on the event loop stalled it for ~1 ms per 8 MiB segment.
    Leftovers from a crash are removed by ``remove_leftover_directories``.
    """
    if not background_removal:
        shutil.rmtree(path, ignore_errors=True)
        return
    doomed = path + DELETED_SUFFIX
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return
    except OSError:  # e.g. an earlier one of the same name is still being removed
        shutil.rmtree(path, ignore_errors=True)
        return
    run_in_background(lambda: shutil.rmtree(doomed, ignore_errors=True))


def remove_leftover_directories(parent: str) -> None:
    """Remove the ``*.deleted`` store directories a crash left in ``parent``."""
    try:
        entries = list(os.scandir(parent))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.endswith(DELETED_SUFFIX) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def drain_removals() -> None:
    """Block until background removals are done (shutdown, tests)."""
    _REMOVER.drain()


def _unlink_all(paths: tuple[str, ...]) -> None:
    for path in paths:
        unlink_quietly(path)


def unlink_quietly(path: str) -> None:
    """Remove a file, ignoring that it is already gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
