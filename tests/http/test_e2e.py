"""Through the real launcher: AMQP traffic shows up in the API's counts and rates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
import requests

from tests.broker_thread import BrokerThread

AUTH = ("guest", "guest")


def wait_for(fn, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def fast_stats(tmp_path: Path) -> Iterator[BrokerThread]:
    """The launcher's broker with rates sampled every 100 ms."""
    bt = BrokerThread(tmp_path / "data", stats_interval=100).start()
    yield bt
    bt.stop()
    assert not bt.errors


def test_amqp_traffic_visible_in_api(fast_stats: BrokerThread) -> None:
    broker = fast_stats
    api = broker.http_url
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare("e2e", durable=True)
    for i in range(20):
        ch.basic_publish("", "e2e", f"m{i}".encode())
    q = wait_for(
        lambda: (
            requests.get(f"{api}/api/queues/%2F/e2e", auth=AUTH).json()["messages"] == 20
            and requests.get(f"{api}/api/queues/%2F/e2e", auth=AUTH).json()
        )
    )
    assert q["messages_ready"] == 20 and q["message_stats"]["publish"] == 20
    method, _, body = ch.basic_get("e2e")
    assert body == b"m0"
    ch.basic_ack(method.delivery_tag)
    conns = requests.get(f"{api}/api/connections", auth=AUTH).json()
    assert len(conns) == 1 and conns[0]["user"] == "guest"
    channels = requests.get(f"{api}/api/channels", auth=AUTH).json()
    assert channels[0]["confirm"] is True
    ch.basic_consume("e2e", lambda *a: None, consumer_tag="ctag-1")
    consumers = requests.get(f"{api}/api/consumers/%2F", auth=AUTH).json()
    assert consumers[0]["consumer_tag"] == "ctag-1" and consumers[0]["queue"]["name"] == "e2e"
    overview = wait_for(
        lambda: (
            (
                o := requests.get(
                    f"{api}/api/overview?msg_rates_age=60&msg_rates_incr=1", auth=AUTH
                ).json()
            )["message_stats"]["publish"]
            >= 20
            and o
        )
    )
    stats = overview["message_stats"]
    assert stats["confirm"] >= 20 and stats["get"] >= 1 and stats["ack"] >= 1
    assert stats["publish_details"]["samples"] and "avg_rate" in stats["publish_details"]
    conn_stats = requests.get(f"{api}/api/connections/{conns[0]['name']}", auth=AUTH).json()
    assert conn_stats["message_stats"]["publish"] == 20 and conn_stats["recv_oct"] > 0
    vh = requests.get(f"{api}/api/vhosts/%2F", auth=AUTH).json()
    assert vh["message_stats"]["publish"] >= 20
    metrics = requests.get(f"{api}/metrics").text
    assert "lavinmq_connections 1" in metrics
    r = requests.delete(
        f"{api}/api/connections/{conns[0]['name']}", auth=AUTH, headers={"X-Reason": "test"}
    )
    assert r.status_code == 204
    assert wait_for(lambda: requests.get(f"{api}/api/connections", auth=AUTH).json() == [])
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker, match="CONNECTION_FORCED - test"):
        for _ in range(50):
            conn.process_data_events(0.1)


def test_limits_and_topic_permissions_over_amqp(broker: BrokerThread) -> None:
    api = broker.http_url
    requests.put(
        f"{api}/api/vhost-limits/%2F/max-connections", json={"value": 1}, auth=AUTH
    ).raise_for_status()
    first = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    try:
        second = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    except pika.exceptions.AMQPConnectionError as exc:
        assert "530" in str(exc) and "connection limit (1)" in str(exc)
    else:
        second.close()
        raise AssertionError("the vhost connection limit was not enforced")
    first.close()
    requests.delete(f"{api}/api/vhost-limits/%2F/max-connections", auth=AUTH).raise_for_status()
    requests.put(
        f"{api}/api/topic-permissions/%2F/guest",
        json={"exchange": "amq.topic", "write": "^allowed\\.", "read": ".*"},
        auth=AUTH,
    ).raise_for_status()
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("amq.topic", "allowed.x", b"ok")
    try:
        ch.basic_publish("amq.topic", "denied.x", b"no")
    except pika.exceptions.ChannelClosedByBroker as exc:
        assert exc.reply_code == 403 and "denied.x" in exc.reply_text
    else:
        raise AssertionError("topic permission was not enforced")
    conn.close()
