"""Acked segments are unlinked on a background thread (the broker turns it on): a crash
before the unlink must not bring back acked or purged messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lavinmq.storage import MessageStore, segment


@pytest.fixture
def stalled_remover(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Background removal on, but the thread never runs: as if killed before it did."""
    submitted: list[object] = []
    monkeypatch.setattr(segment, "background_removal", True)
    monkeypatch.setattr(segment._REMOVER, "submit", submitted.append)
    yield submitted


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_acked_segment_does_not_come_back(tmp_path: Path, stalled_remover: list[object]) -> None:
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


def test_purged_segments_do_not_come_back(tmp_path: Path, stalled_remover: list[object]) -> None:
    store = MessageStore(tmp_path / "q", segment_size=4096)
    for i in range(300):
        store.push(b"%04d" % i + b"." * 36)
    assert store.purge() == 300
    store.flush()
    again = MessageStore(tmp_path / "q", segment_size=4096)
    assert again.count == 0 and again.shift() is None


def test_deleted_store_directory_goes_at_once_and_a_new_one_starts_empty(
    tmp_path: Path, stalled_remover: list[object]
) -> None:
    store = MessageStore(tmp_path / "q", segment_size=4096)
    for i in range(300):
        store.push(b"%04d" % i)
    store.delete()
    assert not (tmp_path / "q").exists()
    assert (tmp_path / "q.deleted").is_dir()  # its removal is queued for the thread
    assert len(stalled_remover) == 1
    again = MessageStore(tmp_path / "q", segment_size=4096)
    assert again.count == 0 and again.shift() is None
    again.push(b"new")
    # A crash before the background removal: the next boot removes the leftover.
    segment.remove_leftover_directories(str(tmp_path))
    assert names(tmp_path) == ["q"]
    assert MessageStore(tmp_path / "q", segment_size=4096).count == 1


def test_queue_deletion_removes_the_directory_after_a_pending_zeroing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segment, "background_removal", True)
    store = MessageStore(tmp_path / "q", segment_size=4096)
    for i in range(300):
        store.push(b"%04d" % i + b"." * 36)
    while (item := store.shift()) is not None:
        store.ack(item[0])
    store.flush()  # segments dropped: one is being zeroed to become the spare
    store.delete()
    segment.drain_removals()
    assert names(tmp_path) == []


def test_broker_start_removes_leftover_queue_directories(tmp_path: Path) -> None:
    from lavinmq.storage import dir_name
    from tests.broker_thread import BrokerThread

    vhost_dir = tmp_path / "data" / dir_name("/")
    leftover = vhost_dir / (dir_name("old-queue") + ".deleted")
    leftover.mkdir(parents=True)
    (leftover / "msgs.0000000001").write_bytes(b"LMQ\x01")
    broker = BrokerThread(tmp_path / "data").start()
    try:
        assert not leftover.exists()
        assert vhost_dir.is_dir()
    finally:
        broker.stop()
