"""The broker process tunes glibc malloc for large-message churn (lavinmq/malloc_tuning.py)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

import lavinmq.__main__ as broker_main
from lavinmq.malloc_tuning import tune_malloc

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc
def test_tune_malloc_applies_on_glibc() -> None:
    assert tune_malloc() is True


def test_broker_main_tunes_malloc_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(broker_main, "tune_malloc", lambda: calls.append("tuned") or True)

    class StopLauncher:
        def __init__(self, config: object) -> None:
            calls.append("launcher")

        async def run(self, announce: object) -> None:
            raise RuntimeError("stop here")

    monkeypatch.setattr(broker_main, "Launcher", StopLauncher)
    assert broker_main.main(["-D", str(tmp_path), "-p", "0", "--http-port", "-1"]) == 1
    assert calls[:1] == ["tuned"] and "launcher" in calls


@glibc
def test_large_buffer_churn_does_not_trim_the_heap() -> None:
    """Freed 1 MiB buffers stay in the heap: RSS does not drop to the pre-burst level."""
    code = (
        "from lavinmq.malloc_tuning import tune_malloc; import sys; tune_malloc()\n"
        "def rss():\n"
        "    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])\n"
        "before = rss()\n"
        'chunks = [b"x" * (1 << 20) for _ in range(8)]\n'
        "del chunks\n"
        "print(rss() - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    kept_kb = int(out.stdout)
    assert kept_kb > 4 * 1024  # with glibc's defaults the 8 MiB would be unmapped at once
