"""MessageStore.push_many: runs of large records in one pwritev, committed by the first
record's length (lavinmq/storage/message_store.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lavinmq.storage import MessageStore, segment
from lavinmq.storage.record_writer import PWRITE_MIN

SMALL_SEGMENT = 64 * 1024


def mixed(count: int) -> list[bytes]:
    sizes = [PWRITE_MIN, 10, PWRITE_MIN * 3, PWRITE_MIN + 1, 5000, 1, 9000]
    return [(b"%06d" % i) * (sizes[i % len(sizes)] // 6 + 1) for i in range(count)]


def contents(store: MessageStore) -> list[bytes]:
    out = []
    while (item := store.shift()) is not None:
        out.append(item[1])
    return out


def segment_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("msgs.*"))}


def test_same_files_and_records_as_push_one_by_one(tmp_path: Path) -> None:
    records = mixed(200)
    one = MessageStore(tmp_path / "one", segment_size=SMALL_SEGMENT)
    for record in records:
        one.push(record)
    many = MessageStore(tmp_path / "many", segment_size=SMALL_SEGMENT)
    for start in range(0, len(records), 37):
        many.push_many(records[start : start + 37])
    expected = (200, sum(map(len, records)))
    assert (many.count, many.bytesize) == (one.count, one.bytesize) == expected
    one.close()
    many.close()
    assert segment_bytes(tmp_path / "many") == segment_bytes(tmp_path / "one")
    assert contents(MessageStore(tmp_path / "many", segment_size=SMALL_SEGMENT)) == records


def test_runs_stop_at_the_segment_end(tmp_path: Path) -> None:
    records = [bytes([i]) * 20_000 for i in range(10)]  # three per 64 KiB segment
    store = MessageStore(tmp_path / "q", segment_size=SMALL_SEGMENT)
    store.push_many(records)
    assert len(list((tmp_path / "q").glob("msgs.*"))) == 4
    assert contents(store) == records


def test_a_crash_mid_run_leaves_no_record_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL_SEGMENT)
    store.push(b"before")
    real_pwritev = os.pwritev

    def killed_halfway(fd: int, buffers: list[bytes], offset: int) -> int:
        real_pwritev(fd, buffers[: len(buffers) // 2 + 1], offset)
        raise SystemExit("killed")

    monkeypatch.setattr(os, "pwritev", killed_halfway)
    with pytest.raises(SystemExit):
        store.push_many([b"a" * 5000, b"b" * 5000, b"c" * 5000])
    monkeypatch.undo()
    again = MessageStore(tmp_path / "q", segment_size=SMALL_SEGMENT)
    assert contents(again) == [b"before"]


def test_a_short_pwritev_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_pwritev = os.pwritev

    def short(fd: int, buffers: list[bytes], offset: int) -> int:
        return real_pwritev(fd, [bytes(buffers[0])[:100]], offset)

    monkeypatch.setattr(os, "pwritev", short)
    records = [b"x" * 3000, b"y" * 3000, b"z" * 3000]
    store = MessageStore(tmp_path / "q", segment_size=SMALL_SEGMENT)
    store.push_many(records)
    monkeypatch.undo()
    store.close()
    assert contents(MessageStore(tmp_path / "q", segment_size=SMALL_SEGMENT)) == records


def test_write_fully_writes_everything(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        segment.write_fully(fd, [b"ab", b"", b"cde"], 3)
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == b"\0\0\0abcde"
