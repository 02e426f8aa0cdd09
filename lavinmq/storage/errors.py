"""Exceptions raised by the storage layer."""

from __future__ import annotations


class StoreFullError(OSError):
    """The disk (or quota) is full: a new segment file could not be allocated.

    The store stays usable: records written before the error are intact and a later
    ``push`` may succeed once space is available again.
    """

    stored = 0
    """How many records of the failed ``push_many`` were stored before the error (the
    first ones, in order)."""


class CorruptSegmentError(Exception):
    """A segment file is unreadable or does not start with ``SEGMENT_MAGIC``.

    Recovery catches it, logs it, renames the file to ``<name>.corrupt`` and carries on.
    """
