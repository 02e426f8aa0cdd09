"""MessageStore resource use: lazy files, memory, descriptors, full disks, dirty fds."""

from __future__ import annotations

import errno
import os
import tracemalloc
from pathlib import Path

import pytest

from lavinmq.storage import MessageStore, StoreFullError, segment_of

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


def test_empty_store_creates_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory)
    assert store.shift() is None
    assert store.peek() is None
    assert store.purge() == 0
    store.flush()
    assert store.take_dirty_fds() == []
    store.close()
    assert not directory.exists()
    directory.mkdir()
    store = MessageStore(directory)
    store.flush()
    store.close()
    assert files(directory) == []


def test_idle_store_memory_and_fds(tmp_path: Path) -> None:
    paths = [str(tmp_path / f"q{i}") for i in range(1000)]
    fds_before = len(os.listdir("/proc/self/fd"))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        stores = [MessageStore(p) for p in paths]
        per_store = (tracemalloc.get_traced_memory()[0] - before) / len(stores)
    finally:
        tracemalloc.stop()
    assert per_store < 1024, per_store
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert files(tmp_path) == []


def test_store_full_on_fallocate_and_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    real = os.posix_fallocate
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(StoreFullError) as info:
        store.push(b"first")
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert segment_files(directory) == []

    monkeypatch.setattr(os, "posix_fallocate", real)
    kept = [store.push(p) for p in payloads(90)]  # one segment holds 93 of these
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(StoreFullError):
        store.push(b"y" * 1000)  # needs a new segment
    assert len(segment_files(directory)) == 1
    fits = store.push(b"fits")  # preallocated space is still usable
    with pytest.raises(StoreFullError):
        store.push(b"y" * 1000)
    assert store.count == 91

    monkeypatch.setattr(os, "posix_fallocate", real)
    big = store.push(b"y" * 1000)
    assert segment_of(big) == segment_of(fits) + 1
    shifted = drain(store)
    assert [s[0] for s in shifted] == [*kept, fits, big]
    store.close()


def test_take_dirty_fds(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=SMALL)
    store.push(b"a")
    fds = store.take_dirty_fds()
    # The write segment, the directory (a segment was created in it) and its parent (the
    # directory itself was created).
    assert len(fds) == 3
    assert os.path.samestat(os.fstat(fds[-1]), os.stat(directory))
    assert os.path.samestat(os.fstat(fds[1]), os.stat(tmp_path))
    for fd in fds:
        os.fstat(fd)
        os.fsync(fd)
        os.close(fd)
    assert store.take_dirty_fds() == []
    store.push(b"b")
    fds = store.take_dirty_fds()
    assert len(fds) == 1
    assert os.path.samestat(os.fstat(fds[0]), os.stat(directory / "msgs.0000000001"))
    os.close(fds[0])
    for p in payloads(200):  # rolls over a few segments
        store.push(p)
    fds = store.take_dirty_fds()
    segments = len(segment_files(directory))
    assert len(fds) == segments + 1
    store.close()  # closing the store leaves handed-out fds valid
    for fd in fds:
        os.fdatasync(fd)
        os.close(fd)


def test_memory_stays_bounded_across_many_segments(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory, segment_size=64 * 1024)
    payload = b"m" * 40
    positions = [store.push(payload) for _ in range(200_000)]
    assert len(segment_files(directory)) > 100
    assert len(store._mapped_segments()) <= 3
    assert len(store._live) == len(segment_files(directory))
    assert not store._pending and not store._requeued and not store._acked
    kept = positions[::5000]  # stay in flight, so that their segments stay
    for i, pos in enumerate(positions):
        item = store.shift()
        assert item is not None and item[0] == pos
        if i % 5000:
            store.ack(pos)
        if i % 1000 == 0:
            store.flush()
            assert store.read(kept[i // 10000]) == payload  # an old segment
            assert len(store._mapped_segments()) <= 3
            assert _mappings_of(directory) <= 3
            # write segment + 3 mappings (each holds a dup) + ack file + read_pos
            assert _fds_into(directory) <= 6
    store.flush()
    assert len(segment_files(directory)) == len({segment_of(p) for p in kept + positions[-1:]})
    for pos in kept:
        store.ack(pos)
    store.flush()
    assert len(segment_files(directory)) == 1
    store.close()
    assert _mappings_of(directory) == 0 and _fds_into(directory) == 0


def _mappings_of(directory: Path) -> int:
    with open("/proc/self/maps") as f:
        return sum(1 for line in f if str(directory) + "/" in line)


def _fds_into(directory: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(directory))
    return count


def test_flush_on_a_full_disk_keeps_the_acks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "q"
    store = MessageStore(directory)
    positions = [store.push(p) for p in payloads(3)]
    drain(store)
    store.ack(positions[0])
    store.flush()
    acks = directory / "acks.0000000001"
    assert acks.stat().st_size == 4
    for pos in positions[1:]:
        store.ack(pos)
    real_write = os.write
    calls = []

    def short_then_full(fd: int, data: bytes) -> int:
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:3])  # a short write, cut mid-offset
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", short_then_full)
    with pytest.raises(StoreFullError):
        store.flush()
    monkeypatch.setattr(os, "write", real_write)
    assert acks.stat().st_size == 4  # the partial write was cut back
    store.flush()
    assert acks.stat().st_size == 12
    store.close()
    assert MessageStore(directory).count == 0
