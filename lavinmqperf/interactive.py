"""Helpers of the interactive scenarios (connection-count, queue-count)."""

from __future__ import annotations

import asyncio
import resource
import sys
from typing import TextIO


def rss_bytes() -> int:
    """This process's resident memory, as LavinMQ's ``Perf#rss``."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def humanize_bytes(n: float) -> str:
    """``1536`` -> ``1.5KiB`` (Crystal's ``Int#humanize_bytes``)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    raise AssertionError("unreachable")


def maximize_fd_limit() -> int:
    """Raise the open-files soft limit to the hard limit; return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def wait_for_enter(stdin: TextIO | None = None) -> bool:
    """Wait for a line on stdin; False at end of input (then the scenario ends)."""
    stream = stdin or sys.stdin
    line = await asyncio.get_running_loop().run_in_executor(None, stream.readline)
    return bool(line)


__all__ = ["humanize_bytes", "maximize_fd_limit", "rss_bytes", "wait_for_enter"]
