"""Helpers for the lavinmqperf tests: run the tool as a subprocess against the broker."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.broker_thread import BrokerThread

PERF = [sys.executable, "-m", "lavinmqperf"]


def perf(
    *args: str, stdin: str | None = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``lavinmqperf ARGS``; return the finished process (stdout, stderr, returncode)."""
    return subprocess.run(
        [*PERF, *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def run_json(broker: BrokerThread, *args: str) -> dict[str, Any]:
    """A throughput run with ``-j -q``; return its JSON summary (fails on errors)."""
    proc = perf("throughput", "--uri", broker.amqp_url, "-j", "-q", *args)
    assert proc.returncode == 0, proc.stderr
    assert "Error" not in proc.stderr and "error" not in proc.stderr, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def queue_stats(broker: BrokerThread, name: str) -> dict[str, int]:
    """The broker's counters of queue ``name`` (publish, deliver, get, ack, ready)."""

    def read() -> dict[str, int]:
        q = broker.broker.vhosts["/"].queues[name]
        return {
            "publish": q.stat_publish, "deliver": q.stat_deliver, "get": q.stat_get,
            "ack": q.stat_ack, "ready": q.store.ready, "unacked": q.unacked,
        }  # fmt: skip

    return broker.call(read)


@pytest.fixture
def url(broker: BrokerThread) -> str:
    return broker.amqp_url
