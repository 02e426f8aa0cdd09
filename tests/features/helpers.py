"""Small helpers shared by the feature tests."""

from __future__ import annotations

import time
from typing import Any

import pika

from tests.broker_thread import BrokerThread

Channel = Any


def count(ch: Channel, queue: str) -> int:
    return int(ch.queue_declare(queue, passive=True).method.message_count)


def get_all(ch: Channel, queue: str) -> list[tuple[Any, Any, bytes]]:
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((method, props, body))


def eventually(ch: Channel, predicate: Any, timeout: float = 5.0) -> None:
    """Poll ``predicate`` while letting pika process I/O (10 ms steps)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        ch.connection.process_data_events(time_limit=0.01)


def publish(ch: Channel, rk: str, body: bytes, exchange: str = "", **props: Any) -> None:
    ch.basic_publish(exchange, rk, body, pika.BasicProperties(**props))


def queue_info(broker: BrokerThread, name: str, vhost: str = "/") -> dict[str, Any]:
    return broker.call(lambda: broker.broker.vhosts[vhost].queues[name].details())
