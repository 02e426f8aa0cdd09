"""DefinitionsLog: append, replay, torn tail, compaction."""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from lavinmq.storage import DefinitionsLog


def test_append_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    assert log.replay() == []
    assert not path.exists()
    frames = [b"\x01\x00\x00declare", b"", b"x" * 70_000]
    for frame in frames:
        log.append(frame)
    assert log.replay() == frames
    log.close()
    assert DefinitionsLog(path).replay() == frames
    assert path.stat().st_size == sum(4 + len(f) for f in frames)


def test_torn_last_record_is_ignored_and_cut_before_appending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    log.append(b"one")
    log.append(b"two")
    log.close()
    with open(path, "ab") as f:
        f.write(struct.pack(">I", 100) + b"partial")
    log = DefinitionsLog(path)
    with caplog.at_level(logging.WARNING, logger="lavinmq.storage"):
        assert log.replay() == [b"one", b"two"]
    assert "torn" in caplog.text and str(path) in caplog.text
    log.append(b"three")
    assert log.replay() == [b"one", b"two", b"three"]
    log.close()


def test_partial_length_prefix_is_torn(tmp_path: Path) -> None:
    path = tmp_path / "definitions.amqp"
    path.write_bytes(struct.pack(">I", 3) + b"abc" + b"\x00\x00")
    log = DefinitionsLog(path)
    assert log.replay() == [b"abc"]
    log.append(b"d")
    assert log.replay() == [b"abc", b"d"]
    log.close()


def test_compact_replaces_the_log(tmp_path: Path) -> None:
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    for i in range(100):
        log.append(f"declare {i}".encode())
        log.append(f"delete {i}".encode())
    log.compact(f"declare {i}".encode() for i in range(3))
    assert log.replay() == [b"declare 0", b"declare 1", b"declare 2"]
    assert sorted(os.listdir(tmp_path)) == ["definitions.amqp"]
    log.append(b"after")  # appends go to the new file
    log.close()
    assert DefinitionsLog(path).replay() == [b"declare 0", b"declare 1", b"declare 2", b"after"]


def test_compact_to_nothing(tmp_path: Path) -> None:
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    log.append(b"x")
    log.compact([])
    assert path.exists() and log.replay() == []
    log.close()


def test_failed_append_leaves_the_log_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    log.append(b"one")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output"):
        log.append(b"two")
    monkeypatch.undo()
    assert log.replay() == [b"one"]
    log.append(b"three")
    assert log.replay() == [b"one", b"three"]
    log.close()


def test_failed_compact_keeps_the_old_log(tmp_path: Path) -> None:
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    log.append(b"kept")

    def frames() -> Iterator[bytes]:
        yield b"new"
        raise RuntimeError("state changed while compacting")

    with pytest.raises(RuntimeError):
        log.compact(frames())
    assert log.replay() == [b"kept"]
    assert sorted(os.listdir(tmp_path)) == ["definitions.amqp"]
    log.close()


def test_unsynced_appends_are_handed_to_the_group_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    path = tmp_path / "definitions.amqp"
    log = DefinitionsLog(path)
    assert log.take_dirty_fds() == []
    log.append(b"one", sync=False)
    log.append(b"two", sync=False)
    assert synced == []
    assert DefinitionsLog(path).replay() == [b"one", b"two"]  # written at once
    fds = log.take_dirty_fds()
    assert len(fds) == 1 and os.readlink(f"/proc/self/fd/{fds[0]}") == str(path)
    os.close(fds[0])
    assert log.take_dirty_fds() == []  # once per batch of appends
    log.append(b"three")  # sync=True: at once
    assert len(synced) == 1


def test_close_syncs_pending_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    log = DefinitionsLog(tmp_path / "definitions.amqp")
    log.append(b"one", sync=False)
    log.close()
    assert len(synced) == 1
    log.close()
    assert len(synced) == 1
