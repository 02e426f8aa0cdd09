"""Per-queue message store: append-only records in a series of mmap'd segment files.

Files in a store directory (see ``segment.py`` for the record format):

- ``msgs.NNNNNNNNNN``: segments, appended to through a read/write mapping;
- ``acks.NNNNNNNNNN``: u32 offsets of the deleted records of the segment with the same id;
- ``read_pos``: u64 read pointer, only used to set the redelivered flag after a restart.

Memory does not grow with queue length: besides one dict entry per segment the store keeps
only the write segment and the read segment mapped, plus one extra mapping for random
access. Per-record memory is spent only on requeued positions, on acks not yet flushed and,
after a restart, on the acked offsets of segments the read pointer has not left yet.

Records before the read pointer are in flight (shifted, not acked), requeued or acked; the
ones at or after it are ready. So ``ready == count - in flight`` and, when nothing is
requeued, a ready record exists at or after the read pointer whenever ``ready > 0``.
"""

from __future__ import annotations

import heapq
import mmap
import os
from array import array
from collections.abc import Sequence
from typing import Final

from lavinmq.storage.position import OFFSET_MASK
from lavinmq.storage.record_writer import RecordWriter
from lavinmq.storage.recovery import READ_POS, READ_POS_NAME, recover
from lavinmq.storage.segment import (
    HEADER_SIZE,
    LENGTH,
    LENGTH_SIZE,
    OFFSETS_TYPECODE,
    remove_directory,
    scan_records,
)
from lavinmq.storage.segment_set import MAX_SEGMENT_SIZE, NO_PENDING

SEGMENT_SIZE: Final = 8 * 1024 * 1024
HOLD_MIN: Final = 8 * 1024
"""Records ``hold_pushed`` keeps: a smaller one costs less to read back than to track
(16 KiB messages: +7.8% from holding them; 8 KiB: +2.5%)."""
HOLD_MAX: Final = 16 * 1024 * 1024
"""Bytes ``hold_pushed`` keeps at most (what one delivery loop frames is 4 MiB)."""
_MIN_SEGMENT_SIZE: Final = 64

# Bound methods of precompiled structs: no format parsing or attribute lookup per record.
_unpack_length = LENGTH.unpack_from


class MessageStore(RecordWriter):
    """An append-only, segmented store of opaque byte records for one queue.

    Records are addressed by positions, ints packing ``(segment_id << 32) | offset``
    (see ``position.py``). A store that never received a record creates no file and holds
    no file descriptor; everything is opened on the first ``push`` (or ``shift`` after a
    restart). An active store holds at most six descriptors: the write segment, three
    mappings (write, read, extra; each keeps a dup), the ack file being appended to and
    ``read_pos``. Not thread-safe: one event loop thread owns a store.

    Args:
        directory: the store directory. It is created on the first push; an existing one
            is recovered (see ``recovery.py``), also after a crash.
        segment_size: the size of a segment file. Bigger records get a segment of their own.

    Raises:
        ValueError: ``segment_size`` is out of range.
    """

    __slots__ = (
        "_held",
        "_inflight",
        "_inflight_bytes",
        "_redeliver_below",
        "_requeued",
        "_rp_fd",
        "_rp_saved",
    )

    def __init__(self, directory: os.PathLike[str] | str, segment_size: int = SEGMENT_SIZE) -> None:
        if not _MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError(f"segment_size {segment_size} out of range")
        # A str, not a Path: 100,000 idle queues each keep one.
        path = os.fspath(directory)
        state = recover(path)
        super().__init__(path, segment_size, state)
        self._count = state.count
        self._bytes = state.nbytes
        self._inflight = self._inflight_bytes = 0
        # A heap, lowest position (redelivered first) at the top; None until a requeue.
        self._requeued: list[int] | None = None
        self._rp_fd = -1
        self._redeliver_below = state.read_pos
        self._rp_saved = max(state.read_pos, HEADER_SIZE)
        self._held: dict[int, bytes | memoryview] | None = None

    def __repr__(self) -> str:
        return f"<MessageStore {self._dir!r} count={self._count} ready={self.ready}>"

    @property
    def ready(self) -> int:
        """Records that ``shift`` would return: never shifted, or requeued."""
        return self._count - self._inflight

    @property
    def count(self) -> int:
        """Live records: ready plus shifted but not acked."""
        return self._count

    @property
    def bytesize(self) -> int:
        """Total payload bytes of the live records."""
        return self._bytes

    @property
    def ready_bytesize(self) -> int:
        """Total payload bytes of the ready records."""
        return self._bytes - self._inflight_bytes

    def shift(self) -> tuple[int, bytes | memoryview, bool] | None:
        """Consume the next ready record.

        Requeued records come first, lowest position first, flagged redelivered. Then the
        read pointer advances through the segments, skipping acked records; such a record
        is flagged redelivered when it may have been delivered before a restart.

        Returns:
            ``(position, payload, redelivered)``, or None when nothing is ready. The
            payload is a copy, or the record ``hold_pushed`` kept.
        """
        if self._requeued:
            return self._shift_requeued()
        if self._count == self._inflight:
            return None
        m = self._rmap
        off = self._roff
        if (
            m is None
            or self._racked is not None
            or off >= (self._wpos if self._rseg == self._wseg else self._rend)
        ):
            m, off = self._seek()
        (n,) = _unpack_length(m, off)
        start = off + LENGTH_SIZE
        self._roff = end = start + n
        self._inflight += 1
        self._inflight_bytes += n
        pos = (self._rseg << 32) | off
        if n >= HOLD_MIN and self._held is not None and pos in self._held:
            return pos, self._held.pop(pos), pos < self._redeliver_below
        return pos, m[start:end], pos < self._redeliver_below

    def hold_pushed(self, payloads: Sequence[bytes | memoryview]) -> None:
        """Keep ``payloads``, the records pushed last, for the ``shift`` that reaches each.

        That shift returns the record as it is instead of a copy read back from the
        segment (with 1 MiB records the copy was 7% of the broker's time). Only records of
        ``HOLD_MIN`` bytes or more are held, up to ``HOLD_MAX`` bytes in all, also those
        that went to the end of the segment before a roll. The caller releases them with
        ``release_held`` as soon as they had their chance to be delivered: held records
        are memory the store otherwise never spends.
        """
        held = self._held or {}
        total = sum(map(len, held.values()))
        seg, off = self._wseg, self._wpos
        for payload in reversed(payloads):
            n = len(payload)
            off -= LENGTH_SIZE + n
            if off < HEADER_SIZE:  # pushed to the end of the segment before
                seg -= 1
                off = self._ends.get(seg, 0) - LENGTH_SIZE - n
                if off < HEADER_SIZE:
                    break
            if n >= HOLD_MIN and total + n <= HOLD_MAX:
                held[(seg << 32) | off] = payload
                total += n
        if held:
            self._held = held

    def release_held(self) -> None:
        """Forget the records ``hold_pushed`` kept (shift reads them from the segment)."""
        self._held = None

    def peek(self) -> tuple[int, bytes, bool] | None:
        """Return what ``shift`` would return, without consuming it."""
        if self._requeued:
            pos = self._requeued[0]
            return pos, self.read(pos), True
        if self._count == self._inflight:
            return None
        m, off = self._seek()
        (n,) = _unpack_length(m, off)
        pos = (self._rseg << 32) | off
        return pos, m[off + LENGTH_SIZE : off + LENGTH_SIZE + n], pos < self._redeliver_below

    def read(self, pos: int) -> bytes:
        """Return a copy of the payload of a live record.

        Raises:
            ValueError: ``pos`` is not in a live segment or not at a record.
        """
        seg = pos >> 32
        off = pos & OFFSET_MASK
        m = self._mapping(seg)
        end = self._segment_end(seg)
        if off < HEADER_SIZE or off + LENGTH_SIZE > end:
            raise ValueError(f"position {pos:#x} is outside segment {seg}")
        (n,) = _unpack_length(m, off)
        stop = off + LENGTH_SIZE + n
        if not n or stop > end:
            raise ValueError(f"position {pos:#x} is not at a record")
        return m[off + LENGTH_SIZE : stop]

    def requeue(self, pos: int) -> None:
        """Make a shifted, unacked record ready again; its next shift is redelivered.

        Raises:
            ValueError: ``pos`` was not shifted (requeueing twice is not detected).
        """
        if pos >= (self._rseg << 32) | self._roff or not self._inflight:
            raise ValueError(f"position {pos:#x} was not shifted")
        (n,) = _unpack_length(self._mapping(pos >> 32), pos & OFFSET_MASK)
        if self._requeued is None:
            self._requeued = []
        heapq.heappush(self._requeued, pos)
        self._inflight -= 1
        self._inflight_bytes -= n

    def ack(self, pos: int) -> None:
        """Delete a shifted record.

        The offset goes to the segment's ack buffer, written by ``flush``. A segment left
        without live records is deleted at once unless it is the write segment.

        Raises:
            ValueError: ``pos`` was not shifted (acking twice, or acking a requeued record
                before shifting it again, is not detected).
        """
        if pos >= (self._rseg << 32) | self._roff or not self._inflight:
            raise ValueError(f"position {pos:#x} was not shifted")
        seg = pos >> 32
        off = pos & OFFSET_MASK
        m = self._rmap if seg == self._rseg else None
        if m is None:
            m = self._mapping(seg)
        (n,) = _unpack_length(m, off)
        pending = self._pending
        buf = pending.get(seg)
        if buf is None:
            if pending is NO_PENDING:  # the first ack of this store
                pending = self._pending = {}
            buf = pending[seg] = array(OFFSETS_TYPECODE)
        buf.append(off)
        self._count -= 1
        self._bytes -= n
        self._inflight -= 1
        self._inflight_bytes -= n
        live = self._live
        left = live[seg] = live[seg] - 1
        if not left and seg != self._wseg:
            self._drop_segment(seg)

    def purge(self) -> int:
        """Delete every ready record; shifted, unacked records stay.

        Segments without in-flight records are deleted whole, so purging millions of
        records costs a few unlinks, not an ack each.

        Returns:
            The number of records deleted.
        """
        ready = self._count - self._inflight
        if not ready:
            return 0
        self._held = None
        for pos in self._requeued or ():
            self._ack_offsets(pos >> 32, array(OFFSETS_TYPECODE, (pos & OFFSET_MASK,)))
        self._requeued = None
        self._purge_read_segment()
        for seg in [seg for seg in self._live if seg > self._rseg]:
            self._drop_segment(seg)
        self._count = self._inflight
        self._bytes = self._inflight_bytes
        return ready

    def flush(self) -> None:
        """Write buffered acks (one write per segment) and the read pointer if it moved.

        Raises:
            StoreFullError: the disk is full; unwritten acks stay buffered for a retry.
        """
        try:
            self._flush_acks()
        finally:
            # Even when acks could not be written: deliveries are about to leave, and
            # the pointer must say they may have been delivered (overwriting 8 bytes
            # needs no new disk block).
            self._save_read_pos()

    def _save_read_pos(self) -> None:
        # Never persist a lower pointer than the one recovered: records below it may have
        # been delivered before the restart even if they are not shifted yet.
        rp = max((self._rseg << 32) | self._roff, self._redeliver_below)
        if rp != self._rp_saved:
            if self._rp_fd < 0:
                path = os.path.join(self._dir, READ_POS_NAME)
                self._rp_fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.pwrite(self._rp_fd, READ_POS.pack(rp), 0)
            self._rp_saved = rp

    def close(self) -> None:
        """Flush, truncate the write segment to its used size and close every file.

        The store may still be used afterwards: files are reopened on demand.
        """
        self._held = None
        try:
            self.flush()
        finally:
            self._close_files()
            if self._rp_fd >= 0:
                os.close(self._rp_fd)
                self._rp_fd = -1

    def delete(self) -> None:
        """Close the store and remove its directory with every file in it."""
        self._pending.clear()
        self.close()
        remove_directory(self._dir)
        self._live.clear()
        self._ends.clear()
        self._acked.clear()
        self._requeued = None
        self._dirty_ids = None
        self._dir_dirty = 0
        self._count = self._bytes = self._inflight = self._inflight_bytes = 0
        self._rseg = self._redeliver_below = 0
        self._roff = self._rp_saved = HEADER_SIZE
        self._racked = None

    # -- reading ---------------------------------------------------------------------

    def _shift_requeued(self) -> tuple[int, bytes, bool]:
        assert self._requeued is not None
        pos = heapq.heappop(self._requeued)
        off = pos & OFFSET_MASK
        m = self._mapping(pos >> 32)
        (n,) = _unpack_length(m, off)
        self._inflight += 1
        self._inflight_bytes += n
        return pos, m[off + LENGTH_SIZE : off + LENGTH_SIZE + n], True

    def _seek(self) -> tuple[mmap.mmap, int]:
        """Move the read pointer to the next unacked record; one must exist."""
        while True:
            m = self._rmap
            if m is None:
                m = self._open_read_segment()
            off = self._roff
            if off < (self._wpos if self._rseg == self._wseg else self._rend):
                racked = self._racked  # recovered acks, largest offset first
                if racked is not None:
                    while racked and racked[-1] < off:
                        racked.pop()
                    if not racked:
                        self._racked = racked = None
                if racked is None or racked[-1] != off:
                    return m, off
                racked.pop()  # an acked record: step over it
                self._roff = off + LENGTH_SIZE + _unpack_length(m, off)[0]
            else:
                self._enter_segment(self._next_segment(self._rseg))

    # -- deleting --------------------------------------------------------------------

    def _purge_read_segment(self) -> None:
        seg = self._rseg
        if seg not in self._live:
            return
        end = self._segment_end(seg)
        offsets = array(OFFSETS_TYPECODE)
        _, n, _ = scan_records(self._mapping(seg), self._roff, end, self._racked, offsets)
        self._roff = end
        self._racked = None
        if n == self._live[seg]:
            self._drop_segment(seg)  # nothing in flight here: no need to ack one by one
        elif n:
            self._ack_offsets(seg, offsets)
