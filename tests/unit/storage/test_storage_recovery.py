"""MessageStore recovery: reopening a directory left by a crash (kill -9) or a clean stop."""

from __future__ import annotations

import logging
import os
import shutil
import struct
from pathlib import Path

import pytest

from lavinmq.storage import SEGMENT_MAGIC, MessageStore, offset_of, segment_of

SMALL = 4096


def payloads(n: int, size: int = 40) -> list[bytes]:
    return [f"{i:08d}".encode().ljust(size, b".") for i in range(n)]


def drain(store: MessageStore) -> list[tuple[int, bytes, bool]]:
    out = []
    while (item := store.shift()) is not None:
        out.append(item)
    return out


def crash_copy(store: MessageStore, src: Path, dst: Path) -> Path:
    """What a kill -9 leaves behind: the files as they are, nothing closed or truncated."""
    shutil.copytree(src, dst)
    store.close()
    return dst


def seg_path(directory: Path, segment_id: int) -> Path:
    return directory / f"msgs.{segment_id:010d}"


def test_crash_without_close_keeps_records(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    data = payloads(300)
    positions = [store.push(p) for p in data]
    copy = crash_copy(store, tmp_path / "q", tmp_path / "crashed")
    assert seg_path(copy, segment_of(positions[-1])).stat().st_size == SMALL  # not truncated
    recovered = MessageStore(copy, segment_size=SMALL)
    assert (recovered.count, recovered.ready, recovered.bytesize) == (300, 300, 300 * 40)
    assert drain(recovered) == [(p, d, False) for p, d in zip(positions, data, strict=True)]
    # the zero-filled tail was cut away and new records go to a new segment
    assert seg_path(copy, segment_of(positions[-1])).stat().st_size < SMALL
    new = recovered.push(b"new")
    assert segment_of(new) == segment_of(positions[-1]) + 1
    recovered.close()


def test_zeroed_torn_tail_is_ignored(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q")
    positions = [store.push(p) for p in payloads(5)]
    copy = crash_copy(store, tmp_path / "q", tmp_path / "crashed")
    # crash between writing the payload and the length: the length is still 0
    path = seg_path(copy, 1)
    with open(path, "r+b") as f:
        f.seek(offset_of(positions[-1]))
        f.write(b"\0\0\0\0")
    recovered = MessageStore(copy)
    assert [s[1] for s in drain(recovered)] == payloads(4)
    assert path.stat().st_size == offset_of(positions[-1])
    recovered.close()


def test_record_overrunning_the_file_is_a_torn_tail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = MessageStore(tmp_path / "q")
    positions = [store.push(p) for p in payloads(5)]
    store.close()
    path = seg_path(tmp_path / "q", 1)
    os.truncate(path, offset_of(positions[-1]) + 10)
    with caplog.at_level(logging.WARNING, logger="lavinmq.storage"):
        recovered = MessageStore(tmp_path / "q")
    assert recovered.count == 4
    assert "torn record" in caplog.text and str(path) in caplog.text
    assert [s[1] for s in drain(recovered)] == payloads(4)
    recovered.close()


def test_corrupt_segment_is_renamed_and_the_rest_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    data = payloads(300)
    positions = [store.push(p) for p in data]
    store.close()
    bad = seg_path(directory, 2)
    with open(bad, "r+b") as f:
        f.write(b"JUNK")
    with caplog.at_level(logging.ERROR, logger="lavinmq.storage"):
        recovered = MessageStore(directory, segment_size=SMALL)
    assert str(bad) in caplog.text
    assert not bad.exists()
    assert bad.with_name(bad.name + ".corrupt").exists()
    expected = [(p, d) for p, d in zip(positions, data, strict=True) if segment_of(p) != 2]
    assert [(s[0], s[1]) for s in drain(recovered)] == expected
    assert recovered.count == len(expected)
    later = recovered.push(b"later")
    assert segment_of(later) == segment_of(positions[-1]) + 1
    recovered.close()


def test_unreadable_and_empty_segment_files(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    directory.mkdir()
    (directory / "msgs.0000000001").write_bytes(b"")  # crashed right after creating it
    (directory / "msgs.0000000002").write_bytes(b"LM")  # too short for the magic
    (directory / "msgs.0000000003").mkdir()  # cannot be read as a file
    (directory / "msgs.0000000004").write_bytes(SEGMENT_MAGIC + struct.pack(">I", 2) + b"ok")
    (directory / "msgs.12").write_bytes(b"not ours")
    store = MessageStore(directory)
    assert [s[1] for s in drain(store)] == [b"ok"]
    names = sorted(os.listdir(directory))
    assert "msgs.0000000001" not in names
    assert "msgs.0000000002.corrupt" in names and "msgs.0000000003.corrupt" in names
    assert "msgs.12" in names
    assert segment_of(store.push(b"x")) == 5
    store.close()


def test_read_pos_makes_shifted_records_redelivered(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    data = payloads(200)
    positions = [store.push(p) for p in data]
    for _ in range(120):
        store.shift()
    store.flush()
    copy = crash_copy(store, tmp_path / "q", tmp_path / "crashed")
    recovered = MessageStore(copy, segment_size=SMALL)
    assert recovered.ready == 200
    shifted = drain(recovered)
    assert [s[0] for s in shifted] == positions
    assert [s[2] for s in shifted] == [i < 120 for i in range(200)]
    recovered.close()


def test_read_pos_is_not_lowered_by_a_restart(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory)
    for p in payloads(10):
        store.push(p)
    for _ in range(8):
        store.shift()
    store.close()
    # after a restart only two are consumed before the next restart
    store = MessageStore(directory)
    assert [s[2] for s in (store.shift(), store.shift()) if s] == [True, True]
    store.close()
    store = MessageStore(directory)
    assert [s[2] for s in drain(store)] == [True] * 8 + [False] * 2
    store.close()


def test_acked_records_never_come_back(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    data = payloads(300)
    positions = [store.push(p) for p in data]
    for i, (pos, _, _) in enumerate(drain(store)):
        if i % 3 == 0 or 100 <= i < 200:
            store.ack(pos)
    store.flush()
    copy = crash_copy(store, tmp_path / "q", tmp_path / "crashed")
    recovered = MessageStore(copy, segment_size=SMALL)
    expected = [i for i in range(300) if not (i % 3 == 0 or 100 <= i < 200)]
    assert recovered.count == len(expected)
    assert recovered.bytesize == 40 * len(expected)
    shifted = drain(recovered)
    assert [s[0] for s in shifted] == [positions[i] for i in expected]
    assert all(s[2] for s in shifted)
    for pos, _, _ in shifted[:10]:
        recovered.ack(pos)
    recovered.close()
    again = MessageStore(copy, segment_size=SMALL)
    assert [s[0] for s in drain(again)] == [positions[i] for i in expected[10:]]
    again.close()


def test_unflushed_acks_are_lost_in_a_crash(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q")
    positions = [store.push(p) for p in payloads(3)]
    for pos, _, _ in drain(store):
        store.ack(pos)  # buffered until flush()
    copy = crash_copy(store, tmp_path / "q", tmp_path / "crashed")
    recovered = MessageStore(copy)
    assert [s[0] for s in drain(recovered)] == positions
    recovered.close()


def test_fully_acked_segments_and_orphan_acks_are_removed(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    positions = [store.push(p) for p in payloads(200)]
    last = segment_of(positions[-1])
    for pos, _, _ in drain(store):
        if segment_of(pos) == last:
            store.ack(pos)  # the write segment is not deleted while it is written
    store.flush()
    copy = crash_copy(store, directory, tmp_path / "crashed")
    (copy / "acks.0000000099").write_bytes(b"\0\0\0\4")
    recovered = MessageStore(copy, segment_size=SMALL)
    names = sorted(os.listdir(copy))
    assert f"msgs.{last:010d}" not in names and f"acks.{last:010d}" not in names
    assert "acks.0000000099" not in names
    assert recovered.count == sum(1 for p in positions if segment_of(p) != last)
    assert segment_of(recovered.push(b"x")) == last + 1
    recovered.close()


def test_partial_ack_entry_is_ignored_and_cut(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory)
    positions = [store.push(p) for p in payloads(4)]
    drain(store)
    store.ack(positions[0])
    store.close()
    acks = directory / "acks.0000000001"
    with open(acks, "ab") as f:
        f.write(b"\0\0")  # torn append
    store = MessageStore(directory)
    shifted = drain(store)
    assert [s[0] for s in shifted] == positions[1:]
    store.ack(positions[1])
    store.close()
    assert acks.stat().st_size == 8
    store = MessageStore(directory)
    assert [s[0] for s in drain(store)] == positions[2:]
    store.close()


def test_requeued_and_in_flight_records_are_ready_after_restart(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    positions = [store.push(p) for p in payloads(150)]
    drain(store)
    store.requeue(positions[5])
    store.close()
    store = MessageStore(directory, segment_size=SMALL)
    assert (store.count, store.ready) == (150, 150)
    assert [s[0] for s in drain(store)] == positions
    store.close()


def test_segment_with_only_a_header_is_removed(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    directory.mkdir()
    (directory / "msgs.0000000003").write_bytes(SEGMENT_MAGIC)  # crashed before fallocate
    store = MessageStore(directory)
    assert store.count == 0
    assert os.listdir(directory) == []
    assert segment_of(store.push(b"x")) == 4
    store.close()


def test_unreadable_ack_file_keeps_the_segment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory)
    positions = [store.push(p) for p in payloads(3)]
    store.close()
    (directory / "acks.0000000001").mkdir()
    with caplog.at_level(logging.ERROR, logger="lavinmq.storage"):
        recovered = MessageStore(directory)
    assert "acks.0000000001" in caplog.text
    assert [s[0] for s in drain(recovered)] == positions
    recovered.close()
