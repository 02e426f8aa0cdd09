"""Appending records to a store's write segment: ``push`` and ``push_many``.

``RecordWriter`` is the writing layer between ``SegmentSet`` (files and mappings) and
``MessageStore`` (the record API and its counters, declared there).

The data of a segment ends at the first zero length, and a recycled segment (see
``spare.py``) still holds the records of its previous life past its first length. So
whatever is past the end of data must be zero where the next length goes: pwrite'd
records are written with 4 zero bytes after them (the terminator), and records written
through the mapping into a recycled segment are preceded by zeroing ``ZERO_AHEAD`` bytes
ahead at a time. The terminator is in place before the record's length makes the record
part of the data, so a crash at any point shows no old record.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Sequence
from typing import Final

from lavinmq.storage.errors import StoreFullError
from lavinmq.storage.segment import HEADER_SIZE, LENGTH, LENGTH_SIZE, write_fully
from lavinmq.storage.segment_set import SegmentSet

# Bound methods of precompiled structs: no format parsing or attribute lookup per record.
_pack_length_into = LENGTH.pack_into
_pack_length = LENGTH.pack

_TERMINATOR: Final = bytes(LENGTH_SIZE)
ZERO_AHEAD: Final = 64 * 1024
"""Bytes of a recycled segment zeroed at a time ahead of records written through the
mapping (for 16-byte messages, one 64 KiB memset per ~2,000 records)."""
_ZEROS: Final = memoryview(bytes(ZERO_AHEAD))
PWRITE_MIN: Final = 2048
"""Records this large are written with pwrite instead of through the mapping."""
_MAX_RUN: Final = 256
"""Records per pwritev in push_many (2 iovecs each; IOV_MAX is 1024)."""


class RecordWriter(SegmentSet):
    """The append half of ``MessageStore``."""

    # The record counters are MessageStore's; they live here because push updates them.
    __slots__ = ("_bytes", "_count")
    _bytes: int
    _count: int

    def push(self, payload: bytes | memoryview) -> int:
        """Append a record.

        Args:
            payload: the record, not empty.

        Returns:
            The record's position.

        Raises:
            ValueError: ``payload`` is empty or too large for a segment.
            StoreFullError: a new segment was needed and the disk is full.
        """
        n = len(payload)
        off = self._wpos
        end = off + LENGTH_SIZE + n
        m = self._wmap
        # Payload first, length last: a crash in between leaves a zero length, which
        # recovery reads as the end of data rather than as a torn record.
        if n < PWRITE_MIN:
            if m is None or end > self._wroom or not n:
                m, off = self._make_room(n)
                end = off + LENGTH_SIZE + n
            m[off + LENGTH_SIZE : end] = payload
            _pack_length_into(m, off, n)
        else:
            if m is None or end > self._wsize:
                self._roll(n)
                off = HEADER_SIZE
                end = off + LENGTH_SIZE + n
            # Large records: pwrite fills the page cache ~4x faster than faulting the
            # fresh pages in through the mapping (8 MiB in 16 KiB records: 1.6 vs 7 ms);
            # both share the page cache, so the mapping sees the data. The length too:
            # through the mapping it faulted a page in per record (7% of the loop).
            self._write_after(off, [payload])
            os.pwrite(self._wfd, _pack_length(n), off)
        self._wpos = end
        self._wdirty = True
        seg = self._wseg
        self._live[seg] += 1
        self._count += 1
        self._bytes += n
        return (seg << 32) | off

    def _make_room(self, n: int) -> tuple[mmap.mmap, int]:
        """Where a record of ``n`` bytes (written through the mapping) goes when it does
        not end within ``_wroom``: a new segment, or this one once zeroed ahead of it."""
        m, off = self._wmap, self._wpos
        end = off + LENGTH_SIZE + n
        if m is None or end > self._wsize or not n:
            m, off = self._roll(n), HEADER_SIZE
            end = off + LENGTH_SIZE + n
        if self._wroom < end and end + LENGTH_SIZE <= self._wsize:
            zeroed = self._wroom + LENGTH_SIZE
            stop = min(self._wsize, end + LENGTH_SIZE + ZERO_AHEAD)
            while zeroed < stop:
                chunk = min(stop - zeroed, ZERO_AHEAD)
                m[zeroed : zeroed + chunk] = _ZEROS[:chunk]
                zeroed += chunk
            self._wroom = stop - LENGTH_SIZE
        return m, off

    def _write_after(self, off: int, buffers: list[bytes | memoryview]) -> None:
        """pwrite ``buffers`` after the length at ``off``, with the terminator after them
        when it fits in the file."""
        end = off + LENGTH_SIZE + sum(map(len, buffers))
        terminated = end + LENGTH_SIZE <= self._wsize
        if terminated:
            buffers.append(_TERMINATOR)
        write_fully(self._wfd, buffers, off + LENGTH_SIZE)
        if terminated and end > self._wroom:
            self._wroom = end

    def push_many(self, payloads: Sequence[bytes | memoryview]) -> None:
        """Append records, as ``push`` does one by one (their positions are not returned).

        Raises:
            StoreFullError: with ``stored``, the number of records appended before it.

        Runs of large records that fit in the write segment take two syscalls per run
        instead of two per record: a ``pwritev`` of the first payload and every later
        length and payload, then the first length. That length is the commit point: until
        it lands, recovery sees the end of data there, so a crash mid-run leaves no torn
        record behind.
        """
        i, count = 0, len(payloads)
        try:
            while i < count:
                if len(payloads[i]) < PWRITE_MIN or i + 1 == count:
                    self.push(payloads[i])
                    i += 1
                else:
                    i = self._push_run(payloads, i)
        except StoreFullError as exc:
            exc.stored = i  # only a roll fails, before record i is written
            raise

    def _push_run(self, payloads: Sequence[bytes | memoryview], i: int) -> int:
        first = payloads[i]
        off = self._wpos
        end = off + LENGTH_SIZE + len(first)
        if self._wmap is None or end > self._wsize:
            self.push(first)  # a new segment: its own path
            return i + 1
        buffers: list[bytes | memoryview] = [first]
        nbytes = len(first)
        j = i + 1
        last = min(len(payloads), i + _MAX_RUN)
        while j < last:
            n = len(payloads[j])
            if n < PWRITE_MIN or end + LENGTH_SIZE + n > self._wsize:
                break
            buffers += (_pack_length(n), payloads[j])
            end += LENGTH_SIZE + n
            nbytes += n
            j += 1
        self._write_after(off, buffers)
        os.pwrite(self._wfd, _pack_length(len(first)), off)
        self._wpos = end
        self._wdirty = True
        self._live[self._wseg] += j - i
        self._count += j - i
        self._bytes += nbytes
        return j


__all__ = ["PWRITE_MIN", "RecordWriter"]
