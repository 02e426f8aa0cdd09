"""Pausing a queue (LavinMQ's feature): it keeps taking messages and gives none out
until resumed; consumers stay subscribed; the pause survives a restart."""

from __future__ import annotations

import time

import requests

from tests.broker_thread import BrokerThread
from tests.features.helpers import count, publish, queue_info
from tests.integration.helpers import pika_connect

GUEST = ("guest", "guest")


def test_a_paused_queue_gives_nothing_out_until_resumed(broker: BrokerThread) -> None:
    api = f"http://127.0.0.1:{broker.http_port}/api/queues/%2F/pz"
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("pz", durable=True)
    got: list[bytes] = []
    ch.basic_consume("pz", lambda _c, _m, _p, body: got.append(body), auto_ack=True)
    assert requests.put(f"{api}/pause", auth=GUEST, timeout=5).status_code == 204
    for i in range(3):
        publish(ch, "pz", b"m%d" % i)
    conn.process_data_events(time_limit=0.3)
    assert got == [] and count(ch, "pz") == 3
    assert queue_info(broker, "pz")["state"] == "paused"
    getter = conn.channel()
    assert getter.basic_get("pz")[0] is None  # Basic.Get finds it empty too
    # the management API's "get messages" still shows them (requeued)
    r = requests.post(f"{api}/get", auth=GUEST, timeout=5,
                      json={"count": 1, "ackmode": "ack_requeue_true", "encoding": "auto"})  # fmt: skip
    assert [m["payload"] for m in r.json()] == ["m0"]
    assert requests.put(f"{api}/resume", auth=GUEST, timeout=5).status_code == 204
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        conn.process_data_events(time_limit=0.05)
    assert sorted(got) == [b"m0", b"m1", b"m2"]
    assert queue_info(broker, "pz")["state"] == "running"
    conn.close()
    r = requests.put(f"{api[:-3]}/nope/pause", auth=GUEST, timeout=5)
    assert r.status_code == 404 and "nope" in r.json()["reason"]


def test_the_pause_survives_a_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("pz-restart", durable=True)
    publish(ch, "pz-restart", b"kept", delivery_mode=2)
    conn.close()
    broker.call(lambda: broker.broker.vhosts["/"].queues["pz-restart"].pause())
    broker.restart()
    assert queue_info(broker, "pz-restart")["state"] == "paused"
    conn = pika_connect(broker)
    ch = conn.channel()
    assert ch.basic_get("pz-restart")[0] is None
    broker.call(lambda: broker.broker.vhosts["/"].queues["pz-restart"].resume())
    assert ch.basic_get("pz-restart", auto_ack=True)[2] == b"kept"
    conn.close()
    broker.restart()  # resumed for good: the marker file is gone
    assert queue_info(broker, "pz-restart")["state"] == "running"
