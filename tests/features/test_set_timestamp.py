"""``set_timestamp``: messages without a timestamp get the time the broker received them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lavinmq.config import load
from tests.broker_thread import BrokerThread
from tests.features.helpers import get_all, publish
from tests.integration.helpers import pika_connect


@pytest.fixture
def stamping(tmp_path: Path) -> Iterator[BrokerThread]:
    broker = BrokerThread(tmp_path / "data", set_timestamp=True)
    broker.start()
    yield broker
    broker.stop()


def test_messages_without_one_get_a_timestamp(stamping: BrokerThread) -> None:
    conn = pika_connect(stamping)
    ch = conn.channel()
    ch.queue_declare("ts")
    before = int(time.time())
    publish(ch, "ts", b"plain")
    publish(ch, "ts", b"own", timestamp=1234567890, headers={"k": "v"})
    # a burst the broker reads at once takes the batched path: stamped all the same
    for _ in range(50):
        ch.basic_publish("", "ts", b"burst")
    got = get_all(ch, "ts")
    after = int(time.time())
    assert len(got) == 52
    assert before <= got[0][1].timestamp <= after
    assert got[1][1].timestamp == 1234567890 and got[1][1].headers == {"k": "v"}
    assert all(before <= props.timestamp <= after for _, props, _ in got[2:])
    conn.close()


def test_off_by_default_and_read_from_the_ini(broker: BrokerThread, tmp_path: Path) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("ts")
    publish(ch, "ts", b"plain")
    [(_, props, _)] = get_all(ch, "ts")
    assert props.timestamp is None
    conn.close()
    ini = tmp_path / "lavinmq.ini"
    ini.write_text("[main]\nset_timestamp = true\n")
    assert load(["-c", str(ini)], environ={}).set_timestamp
    ini.write_text("[amqp]\nset_timestamp = true\n")  # LavinMQ's older section
    assert load(["-c", str(ini)], environ={}).set_timestamp
