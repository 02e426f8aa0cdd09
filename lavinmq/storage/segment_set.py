"""The segment files of one message store: which exist, which are mapped, their acks.

``SegmentSet`` is the file-handling half of ``MessageStore`` (its base class): it owns the
write segment (fd and read/write mapping), the read segment's mapping, one extra mapping
for random access, the per-segment live counts, the ack buffers and the ack file. Every
other segment is closed. ``MessageStore`` adds the record-level API and the counters.
"""

from __future__ import annotations

import logging
import mmap
import os
import sys
from array import array
from typing import Final

from lavinmq.storage.position import OFFSET_MASK
from lavinmq.storage.recovery import RecoveredState
from lavinmq.storage.segment import (
    HEADER_SIZE,
    LENGTH_SIZE,
    ack_name,
    create_segment,
    map_segment,
    open_ack_file,
    pack_offsets,
    segment_name,
    write_all,
)
from lavinmq.storage.spare import SPARE_NAME, recycle_segment, retire_segment

logger = logging.getLogger(__name__)

# Offsets are u32, so no segment may grow past 4 GiB.
MAX_SEGMENT_SIZE: Final = OFFSET_MASK
_MAX_RECORD: Final = MAX_SEGMENT_SIZE - HEADER_SIZE - LENGTH_SIZE
NO_PENDING: Final[dict[int, array[int]]] = {}
"""Every store without unflushed acks starts with this one (only read, never written)."""


def _compact_name(name: str) -> str | bytes:
    """A store directory named by a sha1 hex digest (every queue's) is kept as the 20-byte
    digest: 53 bytes instead of the 89 of the string, for each of 100,000 idle queues."""
    if len(name) == 40 and name == name.lower():
        try:
            return bytes.fromhex(name)
        except ValueError:
            pass
    return name


class SegmentSet:
    """Segment files, mappings and ack files of one store directory.

    Args:
        directory: the store directory (created on the first roll).
        segment_size: the size of a new segment file.
        state: what recovery found in ``directory``.
    """

    __slots__ = (
        "_ack_fd",
        "_ack_seg",
        "_acked",
        "_dir_dirty",
        "_dirty_ids",
        "_ends",
        "_last_id",
        "_live",
        "_name",
        "_parent",
        "_pending",
        "_racked",
        "_rend",
        "_rmap",
        "_roff",
        "_rseg",
        "_segment_size",
        "_wdirty",
        "_wfd",
        "_wmap",
        "_wpos",
        "_wroom",
        "_wseg",
        "_wsize",
        "_xmap",
        "_xseg",
    )

    # Set by _reset_write, so declared here.
    _wseg: int
    _wfd: int
    _wmap: mmap.mmap | None
    _wpos: int
    _wsize: int
    _wroom: int
    """Records may end up to here as they are: the 4 bytes after that end are known to be
    zero (a length of 0, the end of data; see ``RecordWriter``), or are past the file."""
    _wdirty: bool
    _name: str | bytes

    def __init__(self, directory: str, segment_size: int, state: RecoveredState) -> None:
        # The path is kept as a shared (interned) parent plus the directory's own name:
        # 100,000 idle queues would otherwise keep 100,000 long paths.
        parent, name = os.path.split(directory)
        self._parent = sys.intern(parent)
        self._name = _compact_name(name)
        self._segment_size = segment_size
        self._live = state.live  # segment id -> live records, ids in increasing order
        self._ends = state.ends  # segment id -> end of data (the write segment's is _wpos)
        self._acked = state.acked  # recovered acked offsets of segments not read yet
        self._last_id = state.last_id
        # segment id -> acks not flushed yet; the shared empty dict until the first ack.
        self._pending: dict[int, array[int]] = NO_PENDING
        self._dirty_ids: list[int] | None = None  # retired segments not handed out yet
        # 1: segment files were created in the directory since the last sync; 2: the
        # directory itself was created too, so its entry in the parent must be synced.
        self._dir_dirty = 0
        self._reset_write()
        # The read pointer: segment, offset, end of that segment's data, its mapping and
        # (after a restart) its recovered acked offsets.
        self._rseg = 0
        self._roff = HEADER_SIZE
        self._rend = 0
        self._rmap: mmap.mmap | None = None
        self._racked: array[int] | None = None
        self._xseg = 0
        self._xmap: mmap.mmap | None = None
        self._ack_fd = -1
        self._ack_seg = 0

    def take_dirty_fds(self) -> list[int]:
        """Hand out descriptors of the segments written since the last call.

        The caller fdatasyncs and closes them, off the event loop thread (group commit).
        They are duplicates, so closing or rolling the store meanwhile is safe. Segments
        already closed are reopened by path, and the directory is included when segments
        were created, so that their directory entries are durable too. Ack files and
        ``read_pos`` are not included: losing them to a power cut only causes redeliveries.

        Returns:
            File descriptors the caller owns.
        """
        fds: list[int] = []
        try:
            ids, self._dirty_ids = self._dirty_ids, None
            for seg in ids or ():
                try:
                    fds.append(os.open(self._path(segment_name(seg)), os.O_RDONLY))
                except FileNotFoundError:
                    pass  # fully acked and deleted since: nothing to sync
            if self._wdirty:
                self._wdirty = False
                fds.append(os.dup(self._wfd))
            if self._dir_dirty:
                if self._dir_dirty == 2:
                    fds.append(os.open(self._parent or ".", os.O_RDONLY))
                fds.append(os.open(self._dir, os.O_RDONLY))
                self._dir_dirty = 0
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    @property
    def _dir(self) -> str:
        name = self._name
        return os.path.join(self._parent, name if isinstance(name, str) else name.hex())

    @property
    def directory(self) -> str:
        """The store's directory (it may not exist before the first record)."""
        return self._dir

    def _path(self, name: str) -> str:
        return os.path.join(self._dir, name)

    def _mapped_segments(self) -> list[int]:
        """Ids of the segments currently mapped (for tests and debugging)."""
        ids = {self._wseg} if self._wmap is not None else set()
        if self._rmap is not None:
            ids.add(self._rseg)
        if self._xmap is not None:
            ids.add(self._xseg)
        return sorted(ids)

    def _close_files(self) -> None:
        """Truncate and close the write segment, unmap everything, close the ack file."""
        self._retire_write_segment()
        self._release_read_map()
        self._release_extra_map()
        self._close_ack_fd()

    # -- the write segment -----------------------------------------------------------

    def _reset_write(self) -> None:
        self._wseg = 0
        self._wfd = -1
        self._wmap = None
        self._wpos = self._wsize = self._wroom = 0
        self._wdirty = False

    def _roll(self, n: int) -> mmap.mmap:
        """Start a new write segment big enough for a record of ``n`` bytes.

        Raises:
            ValueError: ``n`` is 0 or too big for a segment.
            StoreFullError: the disk is full; the current write segment is unchanged.
        """
        if not n:
            raise ValueError("empty payload")
        if n > _MAX_RECORD:
            raise ValueError(f"a {n} byte record does not fit in a segment")
        size = max(self._segment_size, HEADER_SIZE + LENGTH_SIZE + n)
        self._make_dir()
        seg = self._last_id + 1
        # Allocate before retiring the current segment: on ENOSPC nothing has changed.
        path = self._path(segment_name(seg))
        made = recycle_segment(self._path(SPARE_NAME), path, size)
        fd, mapping = made or create_segment(path, size)
        self._dir_dirty = self._dir_dirty or 1
        # Rolled over, a standard-size segment keeps its size: its tail is less than a
        # record, and it will likely become the spare, which needs that size again.
        self._retire_write_segment(truncate=self._wsize > self._segment_size)
        if not self._live:  # maybe the dicts a fresh store shares (see recovery.py)
            self._live = {}
            self._ends = {}
        self._last_id = seg
        self._live[seg] = 0
        self._wseg, self._wfd, self._wmap, self._wsize = seg, fd, mapping, size
        self._wpos = HEADER_SIZE
        # A new file is all zeros; a recycled one only has its first length zeroed.
        self._wroom = HEADER_SIZE if made else size - LENGTH_SIZE
        return mapping

    def _make_dir(self) -> None:
        try:
            os.mkdir(self._dir)
        except FileExistsError:
            return
        except FileNotFoundError:
            os.makedirs(self._dir, exist_ok=True)
        self._dir_dirty = 2

    def _retire_write_segment(self, truncate: bool = True) -> None:
        """Close the write segment, truncated to its used size when ``truncate``."""
        seg = self._wseg
        if not seg:
            return
        end = self._ends[seg] = self._wpos
        if self._rseg == seg:
            self._rend = end
        if self._wdirty:
            if self._dirty_ids is None:
                self._dirty_ids = []
            self._dirty_ids.append(seg)
        self._close_write_segment(truncate)
        if not self._live[seg]:
            self._drop_segment(seg)

    def _close_write_segment(self, truncate: bool = False) -> None:
        if self._wmap is not None:
            if self._rmap is self._wmap:
                self._rmap = None
            # Unmapped before truncating: touching a page past EOF would be SIGBUS.
            self._wmap.close()
            try:
                if truncate:
                    os.ftruncate(self._wfd, self._wpos)
            except OSError as exc:
                logger.warning(
                    "could not truncate segment %d in %s: %s", self._wseg, self._dir, exc
                )
            finally:
                os.close(self._wfd)
        self._reset_write()

    # -- mappings for reading ----------------------------------------------------------

    def _open_read_segment(self) -> mmap.mmap:
        """Map the read segment, moving on to the next one if it is gone."""
        if self._rseg not in self._live:
            self._enter_segment(self._next_segment(self._rseg))
        seg = self._rseg
        if seg == self._wseg and self._wmap is not None:
            m = self._wmap
        elif seg == self._xseg and self._xmap is not None:
            m, self._xmap, self._xseg = self._xmap, None, 0
        else:
            m = map_segment(self._path(segment_name(seg)))
        self._rmap = m
        return m

    def _enter_segment(self, seg: int) -> None:
        """Move the read pointer to the start of segment ``seg`` (mapped lazily)."""
        self._release_read_map()
        self._rseg = seg
        self._roff = HEADER_SIZE
        self._rend = self._ends.get(seg, 0)
        # Recovered ack sets are needed only while reading their segment.
        self._racked = self._acked.pop(seg, None) if self._acked else None

    def _next_segment(self, after: int) -> int:
        for seg in self._live:
            if seg > after:
                return seg
        raise RuntimeError(f"message store {self._dir}: ready records but no segment")

    def _segment_end(self, seg: int) -> int:
        return self._wpos if seg == self._wseg else self._ends[seg]

    def _mapping(self, seg: int) -> mmap.mmap:
        """Return a mapping of a live segment, mapping it as the extra one if need be.

        Raises:
            ValueError: ``seg`` is not a live segment.
        """
        if seg == self._wseg and self._wmap is not None:
            return self._wmap
        if seg == self._rseg and self._rmap is not None:
            return self._rmap
        if seg == self._xseg and self._xmap is not None:
            return self._xmap
        if seg not in self._live:
            raise ValueError(f"segment {seg} holds no live records")
        self._release_extra_map()
        self._xmap = map_segment(self._path(segment_name(seg)))
        self._xseg = seg
        return self._xmap

    def _release_read_map(self) -> None:
        if self._rmap is not None and self._rmap is not self._wmap:
            self._rmap.close()
        self._rmap = None

    def _release_extra_map(self) -> None:
        if self._xmap is not None:
            self._xmap.close()
        self._xmap = None
        self._xseg = 0

    # -- acks and deletion ---------------------------------------------------------------

    def _ack_offsets(self, seg: int, offsets: array[int]) -> None:
        """Buffer acks of one segment, dropping the segment if none is left."""
        left = self._live[seg] = self._live[seg] - len(offsets)
        buf = self._pending.get(seg)
        if buf is None:
            if self._pending is NO_PENDING:
                self._pending = {}
            self._pending[seg] = offsets
        else:
            buf.extend(offsets)
        if not left and seg != self._wseg:
            self._drop_segment(seg)

    def _flush_acks(self) -> None:
        """Append each segment's buffered acks to its ack file, one write per segment."""
        pending = self._pending
        while pending:
            seg = next(iter(pending))
            if self._ack_seg != seg:
                self._close_ack_fd()
                self._ack_fd = open_ack_file(self._path(ack_name(seg)))
                self._ack_seg = seg
            write_all(self._ack_fd, pack_offsets(pending[seg]))
            del pending[seg]

    def _drop_segment(self, seg: int) -> None:
        """Forget a segment and delete its files."""
        if seg == self._wseg:
            self._close_write_segment()
        del self._live[seg]
        self._ends.pop(seg, None)
        self._pending.pop(seg, None)
        self._acked.pop(seg, None)
        if seg == self._rseg:
            self._release_read_map()
            self._racked = None
        if seg == self._xseg:
            self._release_extra_map()
        if seg == self._ack_seg:
            self._close_ack_fd()
        # Segment first: a crash in between leaves an orphan ack file (removed by
        # recovery), never a segment whose acks are gone (its records would come back).
        retire_segment(self._path(segment_name(seg)), self._path(ack_name(seg)), self._segment_size)

    def _close_ack_fd(self) -> None:
        if self._ack_fd >= 0:
            os.close(self._ack_fd)
        self._ack_fd = -1
        self._ack_seg = 0
