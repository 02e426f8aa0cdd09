"""MessageStore behaviour in one process: order, acks, segments, purge, counts, files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lavinmq.storage import (
    SEGMENT_MAGIC,
    MessageStore,
    make_position,
    offset_of,
    segment_of,
)

SMALL = 4096


def payloads(n: int, size: int = 40) -> list[bytes]:
    return [f"{i:08d}".encode().ljust(size, b".") for i in range(n)]


def files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory)) if directory.exists() else []


def segment_files(directory: Path) -> list[str]:
    return [name for name in files(directory) if name.startswith("msgs.")]


def drain(store: MessageStore) -> list[tuple[int, bytes, bool]]:
    out = []
    while (item := store.shift()) is not None:
        out.append(item)
    return out


def test_position_helpers() -> None:
    pos = make_position(7, 1234)
    assert pos == (7 << 32) | 1234
    assert segment_of(pos) == 7
    assert offset_of(pos) == 1234
    assert make_position(1, 4) < make_position(1, 5) < make_position(2, 4)


def test_push_shift_order_and_positions(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q")
    data = payloads(100)
    positions = [store.push(p) for p in data]
    assert positions == sorted(positions)
    assert segment_of(positions[0]) == 1
    assert offset_of(positions[0]) == len(SEGMENT_MAGIC)
    shifted = drain(store)
    assert [s[0] for s in shifted] == positions
    assert [s[1] for s in shifted] == data
    assert not any(s[2] for s in shifted)
    assert all(type(s[1]) is bytes for s in shifted)
    store.close()


def test_empty_payload_is_rejected(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q")
    with pytest.raises(ValueError, match="empty"):
        store.push(b"")
    assert files(tmp_path / "q") == []
    store.push(b"a")
    with pytest.raises(ValueError, match="empty"):
        store.push(b"")
    assert store.count == 1
    store.close()


def test_segment_size_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="segment_size"):
        MessageStore(tmp_path / "q", segment_size=10)


def test_peek_does_not_consume(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q")
    assert store.peek() is None
    first = store.push(b"one")
    store.push(b"two")
    assert store.peek() == (first, b"one", False)
    assert store.peek() == (first, b"one", False)
    assert store.shift() == (first, b"one", False)
    second = store.shift()
    assert second is not None and second[1] == b"two"
    assert store.peek() is None
    store.requeue(first)
    assert store.peek() == (first, b"one", True)
    assert store.ready == 1
    store.close()


def test_requeue_comes_first_lowest_position_first(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    data = payloads(300)
    positions = [store.push(p) for p in data]
    shifted = [store.shift() for _ in range(200)]
    assert all(s is not None and not s[2] for s in shifted)
    for i in (150, 3, 120):  # 120 and 150 in a later segment than 3
        store.requeue(positions[i])
    assert store.ready == 103
    assert store.shift() == (positions[3], data[3], True)
    assert store.shift() == (positions[120], data[120], True)
    store.requeue(positions[10])
    assert store.shift() == (positions[10], data[10], True)
    assert store.shift() == (positions[150], data[150], True)
    assert store.shift() == (positions[200], data[200], False)
    store.close()


def test_requeue_and_ack_reject_unshifted_positions(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q")
    pos = store.push(b"a")
    with pytest.raises(ValueError, match="not shifted"):
        store.ack(pos)
    with pytest.raises(ValueError, match="not shifted"):
        store.requeue(pos)
    store.shift()
    store.ack(pos)
    with pytest.raises(ValueError, match="not shifted"):
        store.ack(pos)  # nothing in flight any more
    store.close()


def test_ack_deletes_fully_acked_segments(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    data = payloads(1000)
    positions = [store.push(p) for p in data]
    segments = sorted({segment_of(p) for p in positions})
    assert len(segments) > 5
    assert segment_files(directory) == [f"msgs.{s:010d}" for s in segments]
    for pos, _, _ in drain(store):
        store.ack(pos)
        if segment_of(pos) != segments[-1]:
            assert f"msgs.{segment_of(pos) - 1:010d}" not in segment_files(directory)
    store.flush()
    # only the write segment (empty, still open for appends) remains
    assert segment_files(directory) == [f"msgs.{segments[-1]:010d}"]
    assert store.count == store.ready == store.bytesize == 0
    store.close()
    assert segment_files(directory) == []  # the empty write segment went at close


def test_segments_are_truncated_on_close_not_on_roll(tmp_path: Path) -> None:
    # Rolled-over segments keep their size (their tail is less than a record, and one of
    # them becomes the spare, which needs the size again); close truncates the last.
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    positions = [store.push(p) for p in payloads(200, size=50)]
    first = directory / f"msgs.{segment_of(positions[0]):010d}"
    records = sum(1 for p in positions if segment_of(p) == segment_of(positions[0]))
    assert SMALL - 54 < len(SEGMENT_MAGIC) + records * 54 <= SMALL == first.stat().st_size
    last = directory / f"msgs.{segment_of(positions[-1]):010d}"
    assert last.stat().st_size == SMALL  # preallocated while it is the write segment
    store.close()
    assert last.stat().st_size < SMALL


def test_record_larger_than_a_segment(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    small = store.push(b"small")
    big_payload = os.urandom(3 * SMALL)
    big = store.push(big_payload)
    after = store.push(b"after")
    assert segment_of(small) < segment_of(big) < segment_of(after)
    assert store.read(big) == big_payload
    assert [s[1] for s in drain(store)] == [b"small", big_payload, b"after"]
    assert store.bytesize == 10 + 3 * SMALL
    store.close()
    reopened = MessageStore(tmp_path / "q", segment_size=SMALL)
    assert [s[1] for s in drain(reopened)] == [b"small", big_payload, b"after"]
    reopened.close()


def test_exactly_full_segment(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    exact = b"x" * (SMALL - 8)  # magic + length + payload == segment_size
    pos = store.push(exact)
    nxt = store.push(b"y")
    assert segment_of(nxt) == segment_of(pos) + 1
    assert [s[1] for s in drain(store)] == [exact, b"y"]
    store.close()


def test_counts_and_bytesize(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    for size in (10, 20, 30, 40):
        store.push(b"z" * size)
    assert (store.count, store.ready, store.bytesize, store.ready_bytesize) == (4, 4, 100, 100)
    a = store.shift()
    b = store.shift()
    assert a is not None and b is not None
    assert (store.count, store.ready, store.bytesize, store.ready_bytesize) == (4, 2, 100, 70)
    store.requeue(a[0])
    assert (store.count, store.ready, store.bytesize, store.ready_bytesize) == (4, 3, 100, 80)
    store.ack(b[0])
    assert (store.count, store.ready, store.bytesize, store.ready_bytesize) == (3, 3, 80, 80)
    store.close()


def test_read_random_access(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    data = payloads(500)
    positions = [store.push(p) for p in data]
    for i in (0, 499, 250, 3, 498, 100):
        assert store.read(positions[i]) == data[i]
        assert len(store._mapped_segments()) <= 3
    with pytest.raises(ValueError):
        store.read(make_position(999, 4))
    with pytest.raises(ValueError):
        store.read(make_position(segment_of(positions[0]), 1))
    with pytest.raises(ValueError):
        store.read(positions[0] + 10_000_000)
    store.close()


def test_purge_without_in_flight_deletes_whole_segments(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    for p in payloads(2000):
        store.push(p)
    assert store.purge() == 2000
    assert (store.count, store.ready, store.bytesize, store.ready_bytesize) == (0, 0, 0, 0)
    assert segment_files(directory) == []
    assert not [n for n in files(directory) if n.startswith("acks.")]
    assert store.shift() is None
    assert store.purge() == 0
    pos = store.push(b"again")
    assert store.shift() == (pos, b"again", False)
    store.close()


def test_purge_keeps_in_flight_records(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    data = payloads(1000)
    positions = [store.push(p) for p in data]
    inflight = [store.shift() for _ in range(150)]
    store.requeue(positions[5])
    store.requeue(positions[7])
    assert store.ready == 852
    assert store.purge() == 852
    assert (store.count, store.ready) == (148, 0)
    assert store.bytesize == 148 * 40 and store.ready_bytesize == 0
    assert store.shift() is None
    kept = {segment_of(p) for p in positions[:150]}
    assert {int(n[5:]) for n in segment_files(directory)} == kept
    for item in inflight:
        assert item is not None
        if item[0] not in (positions[5], positions[7]):
            assert store.read(item[0]) == item[1]
            store.ack(item[0])
    assert store.count == 0
    new = store.push(b"new")
    assert store.shift() == (new, b"new", False)
    store.ack(new)
    store.close()
    reopened = MessageStore(directory, segment_size=SMALL)
    assert reopened.count == 0 and reopened.shift() is None
    reopened.close()


def test_purge_in_write_segment_then_reopen(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory)
    positions = [store.push(p) for p in payloads(10)]
    store.shift()
    assert store.purge() == 9
    later = store.push(b"later")
    store.close()
    reopened = MessageStore(directory)
    assert reopened.count == 2
    assert reopened.shift() == (positions[0], payloads(1)[0], True)
    item = reopened.shift()
    assert item is not None and item[1] == b"later"
    assert item[0] == later
    reopened.close()


def test_reopen_after_close_keeps_unacked_records(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    data = payloads(500)
    positions = [store.push(p) for p in data]
    for _ in range(100):
        item = store.shift()
        assert item is not None
        if item[1][7] % 2 == 0:
            store.ack(item[0])
    store.close()
    reopened = MessageStore(directory, segment_size=SMALL)
    assert reopened.count == 450
    assert reopened.bytesize == 450 * 40
    shifted = drain(reopened)
    expected = [i for i in range(500) if i >= 100 or i % 2]
    assert [s[0] for s in shifted] == [positions[i] for i in expected]
    assert [s[1] for s in shifted] == [data[i] for i in expected]
    assert [s[2] for s in shifted] == [i < 100 for i in expected]
    later = reopened.push(b"later")
    assert segment_of(later) == max(segment_of(p) for p in positions) + 1
    reopened.close()


def test_store_is_usable_after_close(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    first = store.push(b"first")
    store.close()
    second = store.push(b"second")
    assert segment_of(second) == segment_of(first) + 1
    assert [s[1] for s in drain(store)] == [b"first", b"second"]
    store.close()


def test_delete_removes_everything(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    for p in payloads(300):
        store.push(p)
    item = store.shift()
    assert item is not None
    store.ack(item[0])
    store.delete()
    assert not directory.exists()
    assert store.count == store.ready == store.bytesize == 0
    assert store.shift() is None
