"""Acked segments are unlinked on a background thread (the broker turns it on): a crash
before the unlink must not bring back acked or purged messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lavinmq.storage import MessageStore, segment


@pytest.fixture
def stalled_remover(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, ...]]]:
    """Background removal on, but the thread never runs: as if killed before it did."""
    submitted: list[tuple[str, ...]] = []
    monkeypatch.setattr(segment, "background_removal", True)
    monkeypatch.setattr(segment._REMOVER, "submit", submitted.append)
    yield submitted


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_acked_segment_does_not_come_back(
    tmp_path: Path, stalled_remover: list[tuple[str, ...]]
) -> None:
    store = MessageStore(tmp_path / "q", segment_size=4096)
    for i in range(300):
        store.push(b"%04d" % i + b"." * 36)
    positions = []
    while (item := store.shift()) is not None:
        positions.append(item[0])
    first_segment = positions[0] >> 32
    for pos in positions:
        if pos >> 32 == first_segment:
            store.ack(pos)  # the last acks are still buffered when the segment drops
    store.flush()
    assert stalled_remover, "the segment was not dropped"
    assert "msgs.0000000001" not in names(tmp_path / "q")
    # The first dropped segment is kept (renamed) to become the spare once zeroed.
    assert "segment.zeroing" in names(tmp_path / "q")
    # kill -9 here: the files were never unlinked.
    again = MessageStore(tmp_path / "q", segment_size=4096)
    assert again.count == 300 - sum(1 for p in positions if p >> 32 == first_segment)
    item = again.shift()
    assert item is not None and item[0] >> 32 != first_segment
    assert not [n for n in names(tmp_path / "q") if n.endswith((".deleted", ".spare", ".zeroing"))]
    # Segment ids are never reused, not even a deleted one's.
    assert again.push(b"new") >> 32 > max(p >> 32 for p in positions)


def test_purged_segments_do_not_come_back(
    tmp_path: Path, stalled_remover: list[tuple[str, ...]]
) -> None:
    store = MessageStore(tmp_path / "q", segment_size=4096)
    for i in range(300):
        store.push(b"%04d" % i + b"." * 36)
    assert store.purge() == 300
    store.flush()
    again = MessageStore(tmp_path / "q", segment_size=4096)
    assert again.count == 0 and again.shift() is None
