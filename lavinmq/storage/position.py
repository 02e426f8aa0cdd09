"""Record positions: a plain ``int`` packing ``(segment_id << 32) | offset``.

Positions are ints rather than objects so that a queue holding millions of positions
(unacked deliveries, requeued records) pays for an int each and nothing more, and so
that positions order naturally: lower segment first, then lower offset.
"""

from __future__ import annotations

from typing import Final

SEGMENT_SHIFT: Final = 32
OFFSET_MASK: Final = 0xFFFFFFFF


def make_position(segment_id: int, offset: int) -> int:
    """Pack a segment id and a byte offset into one position.

    Args:
        segment_id: id of the segment file (1-based).
        offset: byte offset of the record's length header inside the segment.

    Returns:
        The position as an int.
    """
    return (segment_id << SEGMENT_SHIFT) | offset


def segment_of(pos: int) -> int:
    """Return the segment id of a position."""
    return pos >> SEGMENT_SHIFT


def offset_of(pos: int) -> int:
    """Return the byte offset (inside its segment) of a position."""
    return pos & OFFSET_MASK
