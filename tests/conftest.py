"""Shared fixtures: an in-process broker per test (port 0, its own data dir)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pika
import pika.adapters.blocking_connection
import pytest

from tests.broker_thread import BrokerThread


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerThread]:
    """A running broker; the test fails if the broker's loop reported an error."""
    bt = BrokerThread(tmp_path / "data").start()
    yield bt
    bt.stop()
    errors = [e.get("message") or repr(e.get("exception")) for e in bt.errors]
    assert not errors, f"broker event loop errors: {errors}"


@pytest.fixture
def amqp_url(broker: BrokerThread) -> str:
    return broker.amqp_url


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., BrokerThread]]:
    """Start in-process brokers with ``Config`` overrides; stopped and checked at the end."""
    started: list[BrokerThread] = []

    def make(**overrides: Any) -> BrokerThread:
        bt = BrokerThread(tmp_path / f"data{len(started)}", **overrides).start()
        started.append(bt)
        return bt

    yield make
    for bt in started:
        bt.stop()
    errors = [e.get("message") or repr(e.get("exception")) for bt in started for e in bt.errors]
    assert not errors, f"broker event loop errors: {errors}"


@pytest.fixture
def conn(broker: BrokerThread) -> Iterator[pika.BlockingConnection]:
    """A pika blocking connection to the ``broker`` fixture."""
    from tests.integration.helpers import pika_connect

    c = pika_connect(broker)
    yield c
    if c.is_open:
        c.close()


@pytest.fixture
def ch(conn: pika.BlockingConnection) -> pika.adapters.blocking_connection.BlockingChannel:
    return conn.channel()
