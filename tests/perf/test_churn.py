"""Churn and count scenarios: iterations reported equal the operations the broker saw."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

import lavinmq.server.protocol as server_protocol
from lavinmq.broker.broker import Broker
from lavinmq.broker.queue.queue import Queue
from lavinmq.broker.vhost import VHost
from tests.broker_thread import BrokerThread
from tests.perf.conftest import PERF, perf


def _count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Wrap ``owner.name`` to count its calls (the broker runs in this process)."""
    calls = [0]
    original = getattr(owner, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls


def _churn(broker: BrokerThread, scenario: str) -> list[dict[str, Any]]:
    proc = perf(scenario, "--uri", broker.amqp_url, "--warmup", "0.1", "-z", "0.4", "-j")
    assert proc.returncode == 0, proc.stderr
    reports: list[dict[str, Any]] = json.loads(proc.stdout)
    assert all(r["ips"] > 0 and r["iterations"] > 0 for r in reports)
    return reports


def _queue_names(broker: BrokerThread) -> list[str]:
    return broker.call(lambda: list(broker.broker.vhosts["/"].queues))


def test_queue_churn(broker: BrokerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    declares = _count_calls(monkeypatch, VHost, "declare_queue")
    deletes = _count_calls(monkeypatch, VHost, "delete_queue")
    reports = _churn(broker, "queue-churn")
    total = sum(r["total_iterations"] for r in reports)
    assert declares[0] == deletes[0] == total
    assert [r["label"] for r in reports] == [
        "create/delete transient queue", "create/delete durable queue"]  # fmt: skip
    assert _queue_names(broker) == []


def test_bind_churn(broker: BrokerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    binds = _count_calls(monkeypatch, VHost, "bind_queue")
    reports = _churn(broker, "bind-churn")
    assert binds[0] == sum(r["total_iterations"] for r in reports)


def test_connection_churn(broker: BrokerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = _count_calls(monkeypatch, Broker, "register")
    (report,) = _churn(broker, "connection-churn")
    assert registered[0] == report["total_iterations"]
    assert broker.call(lambda: broker.broker.connection_count()) == 0


def test_channel_churn(broker: BrokerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = [0]
    channel_class = server_protocol.Channel

    class CountingChannel(channel_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any) -> None:
            opened[0] += 1
            super().__init__(*args)

    monkeypatch.setattr(server_protocol, "Channel", CountingChannel)
    (report,) = _churn(broker, "channel-churn")
    assert opened[0] == report["total_iterations"]


def test_consumer_churn(broker: BrokerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    added = _count_calls(monkeypatch, Queue, "add_consumer")
    removed = _count_calls(monkeypatch, Queue, "remove_consumer")
    (report,) = _churn(broker, "consumer-churn")
    assert added[0] == removed[0] == report["total_iterations"]


def test_queue_count(broker: BrokerThread) -> None:
    proc = perf("queue-count", "--uri", broker.amqp_url, "-q", "40", "-D", stdin="\n")
    assert proc.returncode == 0, proc.stderr
    assert "80 queues Using " in proc.stdout and proc.stdout.count("Press enter") == 2
    names = [n for n in _queue_names(broker) if n.startswith("lavinmqperf-queue-")]
    assert len(names) == 80


def test_queue_count_no_wait(broker: BrokerThread) -> None:
    proc = perf("queue-count", "--uri", broker.amqp_url, "-q", "25", "-D", "-n")
    assert proc.returncode == 0, proc.stderr
    assert len([n for n in _queue_names(broker) if n.startswith("lavinmqperf-queue-")]) == 25


def test_connection_count(broker: BrokerThread) -> None:
    args = ["connection-count", "--uri", broker.amqp_url, "-x", "120", "-c", "2", "-C", "1"]
    proc = subprocess.Popen(
        [*PERF, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Press enter"):
            break
    assert "120 connections 240 channels 240 consumers." in "".join(lines)
    assert broker.call(lambda: broker.broker.connection_count()) == 120
    consumers = broker.call(
        lambda: len(broker.broker.vhosts["/"].queues["connection-count"].consumers)
    )
    assert consumers == 240
    proc.stdin.close()  # end of input: the tool closes everything and exits
    assert proc.wait(30) == 0
    deadline = time.monotonic() + 5
    while broker.call(lambda: broker.broker.connection_count()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.call(lambda: broker.broker.connection_count()) == 0
