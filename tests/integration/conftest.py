"""Integration-tier fixtures: brokers with config overrides, pika connections and channels."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pika
import pika.adapters.blocking_connection
import pytest

from tests.broker_thread import BrokerThread
from tests.integration.helpers import pika_connect


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., BrokerThread]]:
    """Start brokers with ``Config`` overrides; each is stopped and checked for loop errors."""
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
    c = pika_connect(broker)
    yield c
    if c.is_open:
        c.close()


@pytest.fixture
def ch(conn: pika.BlockingConnection) -> pika.adapters.blocking_connection.BlockingChannel:
    return conn.channel()
