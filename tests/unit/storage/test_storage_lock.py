"""DataDirLock and dir_name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lavinmq.storage import DataDirLock, DataDirLocked, dir_name


def test_second_lock_in_the_same_process_conflicts(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path / "data")
    first.acquire()
    assert first.locked
    assert (tmp_path / "data" / ".lock").read_text().strip() == str(os.getpid())
    second = DataDirLock(tmp_path / "data")
    with pytest.raises(
        DataDirLocked, match=rf"is locked by another lavinmq process \(pid {os.getpid()}\)"
    ):
        second.acquire()
    assert not second.locked
    first.release()
    assert not first.locked
    with second:
        assert second.locked
    assert not second.locked


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from lavinmq.storage import DataDirLock\n"
            "lock = DataDirLock(pathlib.Path(sys.argv[1]))\n"
            "lock.acquire()\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(DataDirLocked, match=f"{tmp_path} is locked .*pid {holder.pid}"):
            DataDirLock(tmp_path).acquire()
    finally:
        holder.communicate("")
    with DataDirLock(tmp_path) as lock:  # released when the holder exited
        assert lock.locked


def test_double_acquire_is_a_bug(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as lock, pytest.raises(RuntimeError, match="already"):
        lock.acquire()


def test_dir_name_is_sha1_hex() -> None:
    assert dir_name("/") == "42099b4af021e53fd8fd4e056c2568d7c2e3ffa8"
    assert dir_name("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert len(dir_name("ünïcødé queue")) == 40
    assert dir_name("a") != dir_name("b")
