"""Fixtures for message-feature tests: a pika channel on the in-process broker."""

from __future__ import annotations

from collections.abc import Iterator

import pika
import pika.adapters.blocking_connection
import pytest

from tests.broker_thread import BrokerThread
from tests.integration.helpers import pika_connect

Channel = pika.adapters.blocking_connection.BlockingChannel


@pytest.fixture
def conn(broker: BrokerThread) -> Iterator[pika.BlockingConnection]:
    c = pika_connect(broker)
    yield c
    if c.is_open:
        c.close()


@pytest.fixture
def ch(conn: pika.BlockingConnection) -> Channel:
    return conn.channel()
