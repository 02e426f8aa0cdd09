"""DiskAlarm and MemoryAlarm on their own: thresholds, publishers, timer, errors."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from lavinmq.broker.alarms import (
    DISK_REASON,
    MEMORY_REASON,
    DiskAlarm,
    MemoryAlarm,
    memory_limit,
    resident_memory,
    total_memory,
)


class FakeConn:
    def __init__(self) -> None:
        self.events: list[str] = []

    def block(self, reason: str) -> None:
        self.events.append(f"block:{reason}")

    def unblock(self, reason: str) -> None:
        self.events.append(f"unblock:{reason}")


class FakeDisk:
    def __init__(self, free: int) -> None:
        self.free = free
        self.calls = 0
        self.error: OSError | None = None

    def __call__(self, path: str) -> Any:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return SimpleNamespace(f_bavail=self.free // 4096, f_frsize=4096)


def make(free: int, limit: list[int]) -> tuple[DiskAlarm, FakeDisk, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    alarm = DiskAlarm("/data", lambda: limit[0], loop, interval=0.01)
    disk = FakeDisk(free)
    alarm.statvfs = disk
    return alarm, disk, loop


def test_blocks_and_unblocks_registered_publishers() -> None:
    limit = [1 << 20]
    alarm, disk, loop = make(10 << 20, limit)
    a, b = FakeConn(), FakeConn()
    alarm.add_publisher(a)
    alarm.start()
    assert not alarm.active and alarm.free == 10 << 20
    disk.free = 512 << 10
    alarm.check()
    assert alarm.active
    assert a.events == [f"block:{DISK_REASON}"]
    alarm.add_publisher(b)  # a newcomer is blocked at once
    assert b.events == [f"block:{DISK_REASON}"]
    alarm.remove_publisher(a)
    disk.free = 2 << 20
    alarm.check()
    assert not alarm.active
    assert a.events == [f"block:{DISK_REASON}"]  # gone: not told
    assert b.events == [f"block:{DISK_REASON}", f"unblock:{DISK_REASON}"]
    alarm.stop()
    loop.close()


def test_limit_is_read_at_every_check() -> None:
    limit = [0]
    alarm, _, loop = make(5 << 20, limit)
    alarm.check()
    assert not alarm.active
    limit[0] = 6 << 20  # e.g. free_disk_min changed by SIGHUP
    alarm.check()
    assert alarm.active
    alarm.stop()
    loop.close()


def test_timer_rechecks_and_stop_cancels() -> None:
    alarm, disk, loop = make(5 << 20, [0])
    alarm.start()
    loop.run_until_complete(asyncio.sleep(0.1))
    assert disk.calls >= 3
    alarm.check()  # an extra check does not start a second timer
    alarm.stop()
    calls = disk.calls
    loop.run_until_complete(asyncio.sleep(0.05))
    assert disk.calls == calls
    loop.close()


def test_statvfs_failure_keeps_the_state(caplog: pytest.LogCaptureFixture) -> None:
    alarm, disk, loop = make(0, [1])
    alarm.check()
    assert alarm.active
    disk.error = OSError(5, "Input/output error")
    with caplog.at_level(logging.WARNING):
        alarm.check()
    assert alarm.active
    assert "cannot read free disk space" in caplog.text
    alarm.stop()
    loop.close()


def test_memory_alarm_blocks_above_the_watermark_and_shares_publishers() -> None:
    loop = asyncio.new_event_loop()
    publishers: set[Any] = set()
    rss, limit = [100 << 20], [200 << 20]
    memory = MemoryAlarm(lambda: limit[0], loop, interval=0.01, publishers=publishers)
    memory.rss = lambda: rss[0]
    disk, fake = DiskAlarm("/data", lambda: 1 << 20, loop, publishers=publishers), FakeDisk(0)
    disk.statvfs = fake
    conn = FakeConn()
    memory.add_publisher(conn)
    assert disk.publishers is memory.publishers and conn in disk.publishers
    memory.check()
    assert not memory.active and memory.used == 100 << 20
    rss[0] = 300 << 20
    memory.check()
    disk.check()
    assert memory.active and disk.active
    assert conn.events == [f"block:{MEMORY_REASON}", f"block:{DISK_REASON}"]
    limit[0] = 0  # 0 turns the alarm off
    memory.check()
    assert not memory.active
    assert conn.events[-1] == f"unblock:{MEMORY_REASON}"
    memory.stop()
    disk.stop()
    loop.close()


def test_memory_limit_fraction_bytes_and_off() -> None:
    total = total_memory()
    assert total > 0
    assert memory_limit(0.4) == int(0.4 * total)
    assert memory_limit(1.0) == total
    assert memory_limit(2_000_000_000) == 2_000_000_000
    assert memory_limit(0) == 0 and memory_limit(-1) == 0


def test_resident_memory_is_this_process() -> None:
    before = resident_memory()
    block = bytearray(64 << 20)  # touched: zero-filled
    assert resident_memory() >= before + (48 << 20)
    del block
