"""Clear errors: unreachable broker, wrong credentials, refused declares, bad options."""

from __future__ import annotations

import socket

from tests.broker_thread import BrokerThread
from tests.perf.conftest import perf


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_broker() -> None:
    proc = perf("throughput", "--uri", f"amqp://guest:guest@127.0.0.1:{_free_port()}", "-z", "1")
    assert proc.returncode == 1
    assert "cannot connect to 127.0.0.1" in proc.stderr and "Connection refused" in proc.stderr


def test_wrong_credentials(broker: BrokerThread) -> None:
    uri = broker.amqp_url.replace("guest:guest", "guest:wrong")
    proc = perf("throughput", "--uri", uri, "-z", "1")
    assert proc.returncode == 1
    assert "access refused" in proc.stderr and "403" in proc.stderr


def test_missing_vhost(broker: BrokerThread) -> None:
    proc = perf("queue-churn", "--uri", broker.amqp_url.replace("%2f", "nope"), "-z", "0.1")
    assert proc.returncode == 1 and "530" in proc.stderr


def test_refused_declare(broker: BrokerThread) -> None:
    proc = perf("throughput", "--uri", broker.amqp_url, "-u", "amq.reserved", "-z", "1")
    assert proc.returncode == 1
    assert "cannot declare queue 'amq.reserved'" in proc.stderr and "403" in proc.stderr


def test_missing_exchange(broker: BrokerThread) -> None:
    proc = perf("throughput", "--uri", broker.amqp_url, "-e", "nosuch", "-z", "1")
    assert proc.returncode == 1 and "exchange 'nosuch'" in proc.stderr and "404" in proc.stderr


def test_invalid_options() -> None:
    assert "at least 8 bytes" in perf("throughput", "-l", "-s", "4").stderr
    assert "'%' placeholder" in perf("throughput", "--queue-pattern", "q").stderr
    assert "JSON object" in perf("throughput", "--queue-args", "[1]").stderr
    assert perf("throughput", "--bogus").returncode == 2


def test_amqp_prefix_and_version() -> None:
    proc = perf("amqp", "--version")
    assert proc.returncode == 0 and proc.stdout.strip()
    assert "throughput" in perf("--help").stdout
