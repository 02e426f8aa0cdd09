"""A fully acked segment is kept as the store's spare and becomes its next write segment:
its old records must never come back, whatever the crash point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lavinmq.storage import MessageStore, segment, spare

SMALL = 4096


def fill_and_ack_first_segment(store: MessageStore, count: int = 300, size: int = 40) -> int:
    """Push ``count`` records of ``size`` bytes, consume all, ack those of the first
    segment."""
    for i in range(count):
        store.push(b"old-%04d" % i + b"." * (size - 8))
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
    assert spare.SPARE_NAME in names
    assert "msgs.0000000001" not in names and "acks.0000000001" not in names


def test_next_roll_reuses_the_spare_without_its_records(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    acked = fill_and_ack_first_segment(store)
    spare_inode = os.stat(directory / spare.SPARE_NAME).st_ino
    last = max(int(n[5:]) for n in os.listdir(directory) if n.startswith("msgs."))
    new = [b"new-%04d" % i for i in range(3)]
    while not (directory / f"msgs.{last + 1:010d}").exists():
        store.push(new[0])  # fill the write segment until it rolls into the spare
    assert os.stat(directory / f"msgs.{last + 1:010d}").st_ino == spare_inode
    assert spare.SPARE_NAME not in os.listdir(directory)
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
    assert spare.SPARE_NAME not in os.listdir(directory)


def test_spare_of_another_size_is_kept_for_a_normal_roll(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    fill_and_ack_first_segment(store)
    store.push(b"big" * SMALL)  # an oversized record gets its own, bigger segment
    assert spare.SPARE_NAME in os.listdir(directory)


@pytest.mark.parametrize("used", [segment.HEADER_SIZE + 8, SMALL - 3])
def test_prepare_zeroes_the_first_length_extends_and_renames(tmp_path: Path, used: int) -> None:
    zeroing = tmp_path / spare.ZEROING_NAME
    zeroing.write_bytes(segment.SEGMENT_MAGIC + b"\x07" * (used - segment.HEADER_SIZE))
    spare._prepare(str(zeroing), str(tmp_path / spare.SPARE_NAME), SMALL)
    assert not zeroing.exists()
    data = (tmp_path / spare.SPARE_NAME).read_bytes()
    old = used - segment.HEADER_SIZE - segment.LENGTH_SIZE  # left for the writer
    assert data == segment.SEGMENT_MAGIC + bytes(4) + b"\x07" * old + bytes(SMALL - used)


def test_prepare_drops_an_oversized_segment(tmp_path: Path) -> None:
    zeroing = tmp_path / spare.ZEROING_NAME
    zeroing.write_bytes(segment.SEGMENT_MAGIC + b"\x07" * (2 * SMALL))
    spare._prepare(str(zeroing), str(tmp_path / spare.SPARE_NAME), SMALL)
    assert os.listdir(tmp_path) == []


def test_recycle_takes_the_spare(tmp_path: Path) -> None:
    (tmp_path / spare.SPARE_NAME).write_bytes(segment.SEGMENT_MAGIC + bytes(SMALL - 4))
    made = spare.recycle_segment(
        str(tmp_path / spare.SPARE_NAME), str(tmp_path / "msgs.0000000009"), SMALL
    )
    assert made is not None
    fd, mapping = made
    try:
        assert len(mapping) == SMALL and mapping[:4] == segment.SEGMENT_MAGIC
    finally:
        mapping.close()
        os.close(fd)
    assert os.listdir(tmp_path) == ["msgs.0000000009"]


def test_background_zeroing_on_the_removal_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segment, "background_removal", True)
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    fill_and_ack_first_segment(store)
    segment.drain_removals()
    names = os.listdir(directory)
    assert spare.SPARE_NAME in names and spare.ZEROING_NAME not in names
    data = (directory / spare.SPARE_NAME).read_bytes()
    assert len(data) == SMALL and data[:8] == segment.SEGMENT_MAGIC + bytes(4)


def test_a_zeroing_leftover_is_deleted_by_recovery(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    fill_and_ack_first_segment(store)
    expected = store.count
    os.rename(directory / spare.SPARE_NAME, directory / spare.ZEROING_NAME)
    again = MessageStore(directory, segment_size=SMALL)
    assert again.count == expected
    assert not set(os.listdir(directory)) & spare.LEFTOVER_NAMES


def test_no_spare_means_a_new_file(tmp_path: Path) -> None:
    assert spare.recycle_segment(str(tmp_path / "none"), str(tmp_path / "x"), SMALL) is None
    assert not (tmp_path / "x").exists()


def roll_into_the_spare(store: MessageStore, directory: Path, records: list[bytes]) -> None:
    """Push ``records`` round-robin until the store's write segment is the recycled spare,
    then push all of them once more."""
    last = max(int(n[5:]) for n in os.listdir(directory) if n.startswith("msgs."))
    spare_inode = os.stat(directory / spare.SPARE_NAME).st_ino
    i = 0
    while not (directory / f"msgs.{last + 1:010d}").exists():
        store.push(records[i % len(records)])
        i += 1
    assert os.stat(directory / f"msgs.{last + 1:010d}").st_ino == spare_inode
    for record in records:
        store.push(record)


@pytest.mark.parametrize(
    ("old_size", "new_sizes"),
    [
        (40, [40]),  # through the mapping, lined up with the old records
        (3000, [3000]),  # pwrite'd, lined up with the old records
        (40, [3000, 40, 2100, 12]),  # both ways mixed
        (3000, [40, 12]),
    ],
)
def test_recycled_segment_after_kill_shows_only_new_records(
    tmp_path: Path, old_size: int, new_sizes: list[int]
) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=4 * SMALL)
    acked = fill_and_ack_first_segment(store, 8 * SMALL // (old_size + 4), old_size)
    records = [b"new-%04d" % n + b"+" * (n - 8) for n in new_sizes]
    roll_into_the_spare(store, directory, records)
    expected = store.count
    again = MessageStore(directory, segment_size=4 * SMALL)  # kill -9: no close
    got = payloads_of(again)
    assert again.count == expected == len(got)
    assert got[-len(records) :] == records
    assert not [p for p in got if p.startswith(b"old-") and int(p[4:8]) < acked]


def test_push_many_runs_into_a_recycled_segment(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=4 * SMALL)
    fill_and_ack_first_segment(store, 60, 2500)
    roll_into_the_spare(store, directory, [b"first" * 500])
    run = [b"run-%d" % i + b"-" * 2500 for i in range(3)]
    store.push_many(run)
    expected = store.count
    got = payloads_of(MessageStore(directory, segment_size=4 * SMALL))
    assert len(got) == expected and got[-3:] == run


def test_crash_between_payload_and_length_in_a_recycled_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=4 * SMALL)
    acked = fill_and_ack_first_segment(store, 60, 3000)
    roll_into_the_spare(store, directory, [b"n" * 3000])
    expected = store.count
    real_pwrite = os.pwrite

    def payload_then_crash(fd: int, data: bytes, offset: int) -> int:
        if len(data) == segment.LENGTH_SIZE:
            raise KeyboardInterrupt("killed before the length")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", payload_then_crash)
    with pytest.raises(KeyboardInterrupt):
        store.push(b"torn" * 750)
    monkeypatch.undo()
    got = payloads_of(MessageStore(directory, segment_size=4 * SMALL))
    assert len(got) == expected and b"torn" * 750 not in got
    assert not [p for p in got if p.startswith(b"old-") and int(p[4:8]) < acked]


def test_a_failing_background_job_does_not_stop_the_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(segment, "background_removal", True)
    ran: list[str] = []

    def bad() -> None:
        raise RuntimeError("boom")

    segment.run_in_background(bad)
    segment.run_in_background(lambda: ran.append("after"))
    victim = tmp_path / "gone"
    victim.write_bytes(b"x")
    segment.remove_files(str(victim))
    segment.drain_removals()
    assert ran == ["after"] and not victim.exists()
