"""Rebuild a message store's bookkeeping from its directory (after a clean stop or a crash).

Recovery never fails on bad data: a corrupt segment is logged, renamed ``.corrupt`` and
skipped; a torn tail is cut away; fully acked segments and orphan ack files are removed.
Nothing stays open afterwards.
"""

from __future__ import annotations

import logging
import os
import struct
from array import array
from dataclasses import dataclass, field

from lavinmq.storage.errors import CorruptSegmentError
from lavinmq.storage.segment import (
    ACK_PREFIX,
    CORRUPT_SUFFIX,
    DELETED_SUFFIX,
    HEADER_SIZE,
    LENGTH_SIZE,
    OFFSETS_TYPECODE,
    SEGMENT_PREFIX,
    ack_name,
    map_segment,
    parse_id,
    read_acks,
    scan_records,
    segment_name,
    unlink_quietly,
)
from lavinmq.storage.spare import LEFTOVER_NAMES

logger = logging.getLogger(__name__)

READ_POS_NAME = "read_pos"
READ_POS = struct.Struct(">Q")

# The state of a store whose directory does not exist (every new or never used queue)
# shares these empty dicts: such a store only looks them up or pops from them until its
# first segment, when ``SegmentSet._roll`` gives it dicts of its own. 100,000 idle
# queues so save 300,000 dicts.
_NO_LIVE: dict[int, int] = {}
_NO_ENDS: dict[int, int] = {}
_NO_ACKED: dict[int, array[int]] = {}


@dataclass(slots=True)
class RecoveredState:
    """What recovery found in a store directory.

    Attributes:
        live: segment id -> number of live (unacked) records, in increasing id order.
        ends: segment id -> offset where the segment's data ends.
        acked: segment id -> offsets of acked records, largest first (see ``read_acks``),
            for segments that have any.
        last_id: the highest segment id ever used (including corrupt ones).
        read_pos: the persisted read pointer, 0 when there is none.
        count: live records in all segments.
        nbytes: total payload bytes of the live records.
    """

    live: dict[int, int] = field(default_factory=dict)
    ends: dict[int, int] = field(default_factory=dict)
    acked: dict[int, array[int]] = field(default_factory=dict)
    last_id: int = 0
    read_pos: int = 0
    count: int = 0
    nbytes: int = 0


def recover(directory: str) -> RecoveredState:
    """Scan ``directory`` and return the live records' bookkeeping.

    Args:
        directory: the store directory; a missing one is an empty store.

    Returns:
        The recovered state. Fully acked segments have been deleted.
    """
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return RecoveredState(_NO_LIVE, _NO_ENDS, _NO_ACKED)
    state = RecoveredState()
    segment_ids, ack_ids, leftovers = _classify(names, state)
    for name in leftovers:  # segments dropped before a crash, not unlinked yet
        unlink_quietly(os.path.join(directory, name))
    state.read_pos = _read_pos(os.path.join(directory, READ_POS_NAME))
    # New records must land above the persisted read pointer, or they would be flagged
    # redelivered: never reuse its segment id, even when that segment is gone.
    state.last_id = max(state.last_id, state.read_pos >> 32)
    for segment_id in segment_ids:
        _recover_segment(directory, segment_id, state)
    for segment_id in ack_ids - state.live.keys():
        unlink_quietly(os.path.join(directory, ack_name(segment_id)))
    return state


def _classify(names: list[str], state: RecoveredState) -> tuple[list[int], set[int], list[str]]:
    segment_ids: list[int] = []
    ack_ids: set[int] = set()
    leftovers: list[str] = []
    for name in names:
        if name.endswith((CORRUPT_SUFFIX, DELETED_SUFFIX)):
            old = parse_id(name.rsplit(".", 1)[0], SEGMENT_PREFIX)
            if old is not None:
                state.last_id = max(state.last_id, old)
                if name.endswith(DELETED_SUFFIX):
                    leftovers.append(name)
        elif name in LEFTOVER_NAMES:  # a spare segment: recreated when needed
            leftovers.append(name)
        elif (segment_id := parse_id(name, SEGMENT_PREFIX)) is not None:
            segment_ids.append(segment_id)
            state.last_id = max(state.last_id, segment_id)
        elif (segment_id := parse_id(name, ACK_PREFIX)) is not None:
            ack_ids.add(segment_id)
    segment_ids.sort()
    return segment_ids, ack_ids, leftovers


def _read_pos(path: str) -> int:
    try:
        with open(path, "rb") as f:
            data = f.read(READ_POS.size)
    except FileNotFoundError:
        return 0
    return READ_POS.unpack(data)[0] if len(data) == READ_POS.size else 0


def _recover_segment(directory: str, segment_id: int, state: RecoveredState) -> None:
    path = os.path.join(directory, segment_name(segment_id))
    ack_path = os.path.join(directory, ack_name(segment_id))
    acked = _acks_of(ack_path)
    try:
        if os.stat(path).st_size == 0:
            # Created but crashed before the magic was written: it never held a record.
            os.unlink(path)
            return
        end, count, nbytes = _scan(path, acked)
    except (OSError, CorruptSegmentError) as exc:
        logger.error("corrupt segment %s skipped and renamed to %s: %s", path, CORRUPT_SUFFIX, exc)
        _rename_corrupt(path)
        _rename_corrupt(ack_path)
        return
    if count == 0:
        os.unlink(path)
        unlink_quietly(ack_path)
        return
    state.live[segment_id] = count
    state.ends[segment_id] = end
    if acked:
        state.acked[segment_id] = acked
    state.count += count
    state.nbytes += nbytes


def _acks_of(path: str) -> array[int]:
    try:
        return read_acks(path)
    except OSError as exc:
        # Redelivering acked records beats losing the segment: carry on without them.
        logger.error("unreadable ack file %s ignored: %s", path, exc)
        return array(OFFSETS_TYPECODE)


def _scan(path: str, acked: array[int]) -> tuple[int, int, int]:
    """Scan one segment, truncating it to the end of its last whole record."""
    mapping = map_segment(path)
    try:
        size = len(mapping)
        end, count, nbytes = scan_records(mapping, HEADER_SIZE, size, acked or None)
        torn = mapping[end : end + LENGTH_SIZE].strip(b"\0")
    finally:
        mapping.close()
    if end < size:
        if torn:
            logger.warning("segment %s: torn record at offset %d cut away", path, end)
        # Nothing is ever appended to a recovered segment (pushes go to a new one), so the
        # zero fill or torn tail can go; if it cannot, scanning stops there next time too.
        try:
            os.truncate(path, end)
        except OSError as exc:
            logger.warning("could not truncate %s: %s", path, exc)
    return end, count, nbytes


def _rename_corrupt(path: str) -> None:
    try:
        os.rename(path, path + CORRUPT_SUFFIX)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.error("could not rename %s: %s", path, exc)
