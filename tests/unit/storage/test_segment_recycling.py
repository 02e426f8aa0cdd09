"""A fully acked segment is kept as the store's spare and becomes its next write segment:
its old records must never come back, whatever the crash point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lavinmq.storage import MessageStore, segment

SMALL = 4096


def fill_and_ack_first_segment(store: MessageStore, count: int = 300) -> int:
    """Push ``count`` 40-byte records, consume all, ack those of the first segment."""
    for i in range(count):
        store.push(b"old-%04d" % i + b"." * 32)
    positions = []
    while (item := store.shift()) is not None:
        positions.append(item[0])
    first = positions[0] >> 32
    for pos in positions:
        if pos >> 32 == first:
            store.ack(pos)
    store.flush()
    return sum(1 for pos in positions if pos >> 32 == first)


def payloads_of(store: MessageStore) -> list[bytes]:
    out = []
    while (item := store.shift()) is not None:
        out.append(item[1])
    return out


def test_dropped_segment_becomes_the_spare(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "q", segment_size=SMALL)
    fill_and_ack_first_segment(store)
    names = os.listdir(tmp_path / "q")
    assert segment.SPARE_NAME in names
    assert "msgs.0000000001" not in names and "acks.0000000001" not in names


def test_next_roll_reuses_the_spare_without_its_records(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    acked = fill_and_ack_first_segment(store)
    spare_inode = os.stat(directory / segment.SPARE_NAME).st_ino
    last = max(int(n[5:]) for n in os.listdir(directory) if n.startswith("msgs."))
    new = [b"new-%04d" % i for i in range(3)]
    while not (directory / f"msgs.{last + 1:010d}").exists():
        store.push(new[0])  # fill the write segment until it rolls into the spare
    assert os.stat(directory / f"msgs.{last + 1:010d}").st_ino == spare_inode
    assert segment.SPARE_NAME not in os.listdir(directory)
    for payload in new[1:]:
        store.push(payload)
    store.close()  # as a restart sees it: only live records, none of the zeroed ones
    again = MessageStore(directory, segment_size=SMALL)
    got = payloads_of(again)
    assert not [p for p in got if p.startswith(b"old-") and int(p[4:8]) < acked]
    assert got[-2:] == new[1:]


def test_recycled_segment_after_kill_has_no_old_records(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    fill_and_ack_first_segment(store)
    before = store.count
    last = max(int(n[5:]) for n in os.listdir(directory) if n.startswith("msgs."))
    pushed = 0
    # Records of the old ones' size: unzeroed, the old records would line up after them.
    while not (directory / f"msgs.{last + 1:010d}").exists():
        store.push(b"new-%04d" % pushed + b"." * 32)
        pushed += 1
    store.push(b"new-last" + b"." * 32)
    again = MessageStore(directory, segment_size=SMALL)  # kill -9: no close, no truncate
    assert again.count == before + pushed + 1
    assert payloads_of(again)[-1] == b"new-last" + b"." * 32


def test_crash_with_a_spare_leaves_no_trace(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    acked = fill_and_ack_first_segment(store)
    expected = store.count
    again = MessageStore(directory, segment_size=SMALL)  # kill -9: nothing closed
    assert again.count == expected == 300 - acked
    assert segment.SPARE_NAME not in os.listdir(directory)


def test_oversized_spare_is_discarded(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    directory.mkdir()
    spare = directory / segment.SPARE_NAME
    spare.write_bytes(segment.SEGMENT_MAGIC + b"\x00" * (2 * SMALL))
    store = MessageStore(directory, segment_size=SMALL)
    store.push(b"hello")
    assert not spare.exists()
    assert os.path.getsize(directory / "msgs.0000000001") == SMALL


@pytest.mark.parametrize("used", [segment.HEADER_SIZE + 8, SMALL - 3])
def test_recycle_zeroes_and_resizes(tmp_path: Path, used: int) -> None:
    spare = tmp_path / segment.SPARE_NAME
    spare.write_bytes(segment.SEGMENT_MAGIC + b"\x07" * (used - segment.HEADER_SIZE))
    made = segment.recycle_segment(str(spare), str(tmp_path / "msgs.0000000009"), SMALL)
    assert made is not None
    fd, mapping = made
    try:
        assert len(mapping) == SMALL == os.fstat(fd).st_size
        assert mapping[: segment.HEADER_SIZE] == segment.SEGMENT_MAGIC
        assert mapping[segment.HEADER_SIZE :] == bytes(SMALL - segment.HEADER_SIZE)
    finally:
        mapping.close()
        os.close(fd)
    assert not spare.exists()


def test_no_spare_means_a_new_file(tmp_path: Path) -> None:
    assert segment.recycle_segment(str(tmp_path / "none"), str(tmp_path / "x"), SMALL) is None
    assert not (tmp_path / "x").exists()
