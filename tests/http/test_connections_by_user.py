"""Operators acting on clients: close one user's connections
(/api/connections/username/{username}), cancel one consumer (/api/consumers/...)."""

from __future__ import annotations

import time
from urllib.parse import quote

import pika
import requests

from tests.broker_thread import BrokerThread
from tests.integration.helpers import pika_connect, wait_for

GUEST = ("guest", "guest")


def test_list_and_close_a_users_connections(broker: BrokerThread) -> None:
    base = f"http://127.0.0.1:{broker.http_port}/api"
    requests.put(f"{base}/users/alice", auth=GUEST, json={"password": "pw", "tags": ""}, timeout=5)
    requests.put(f"{base}/permissions/%2F/alice", auth=GUEST, timeout=5,
                 json={"configure": ".*", "write": ".*", "read": ".*"})  # fmt: skip
    guests = [pika_connect(broker) for _ in range(2)]
    params = pika.ConnectionParameters("127.0.0.1", broker.amqp_port,
                                       credentials=pika.PlainCredentials("alice", "pw"))  # fmt: skip
    alice = pika.BlockingConnection(params)
    wait_for(lambda: len(requests.get(f"{base}/connections", auth=GUEST, timeout=5).json()) == 3)
    rows = requests.get(f"{base}/connections/username/guest", auth=GUEST, timeout=5).json()
    assert len(rows) == 2 and {r["user"] for r in rows} == {"guest"}
    # alice may not close guest's connections; an administrator may
    r = requests.delete(f"{base}/connections/username/guest", auth=("alice", "pw"), timeout=5)
    assert r.status_code in (401, 403)
    r = requests.delete(f"{base}/connections/username/guest", auth=GUEST, timeout=5,
                        headers={"X-Reason": "maintenance"})  # fmt: skip
    assert r.status_code == 204
    for conn in guests:
        wait_for(lambda conn=conn: _closed_by_broker(conn))
    assert requests.get(f"{base}/connections/username/guest", auth=GUEST, timeout=5).json() == []
    assert alice.is_open
    alice.close()


def _closed_by_broker(conn: pika.BlockingConnection) -> bool:
    try:
        conn.process_data_events(time_limit=0.05)
    except pika.exceptions.ConnectionClosedByBroker as exc:
        assert exc.reply_code == 320 and "maintenance" in exc.reply_text
        return True
    return False


def test_cancel_a_consumer_through_the_api(broker: BrokerThread) -> None:
    base = f"http://127.0.0.1:{broker.http_port}/api"
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("cq")
    cancelled: list[object] = []
    ch.add_on_cancel_callback(cancelled.append)
    tag = ch.basic_consume("cq", lambda *_: None)
    wait_for(lambda: requests.get(f"{base}/consumers", auth=GUEST, timeout=5).json())
    [row] = requests.get(f"{base}/consumers/%2F", auth=GUEST, timeout=5).json()
    name = quote(row["channel_details"]["connection_name"], safe="")
    number = row["channel_details"]["number"]
    r = requests.delete(f"{base}/consumers/%2F/{name}/{number}/nope", auth=GUEST, timeout=5)
    assert r.status_code == 404
    r = requests.delete(f"{base}/consumers/%2F/{name}/{number}/{tag}", auth=GUEST, timeout=5)
    assert r.status_code == 204
    deadline = time.monotonic() + 5
    while not cancelled and time.monotonic() < deadline:
        conn.process_data_events(time_limit=0.05)
    assert cancelled, "the client was told (Basic.Cancel)"
    assert requests.get(f"{base}/consumers", auth=GUEST, timeout=5).json() == []
    assert broker.call(lambda: broker.broker.vhosts["/"].queues["cq"].consumer_count) == 0
    conn.close()
