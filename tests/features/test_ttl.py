"""Message TTL (queue argument, policy, per-message expiration) and queue expiry."""

from __future__ import annotations

import time

import pika
import pytest

from tests.broker_thread import BrokerThread
from tests.features.helpers import count, eventually, get_all, publish


def test_queue_message_ttl_expires_without_consumers(ch) -> None:
    ch.queue_declare("ttl", arguments={"x-message-ttl": 200})
    for i in range(5):
        publish(ch, "ttl", b"m%d" % i)
    assert count(ch, "ttl") == 5
    eventually(ch, lambda: count(ch, "ttl") == 0, timeout=3)


def test_per_message_expiration(ch) -> None:
    ch.queue_declare("exp")
    publish(ch, "exp", b"short", expiration="100")
    publish(ch, "exp", b"long", expiration="60000")
    time.sleep(0.3)
    assert [b for _, _, b in get_all(ch, "exp")] == [b"long"]


def test_expired_message_not_delivered_to_late_consumer(ch) -> None:
    ch.queue_declare("late", arguments={"x-message-ttl": 100})
    publish(ch, "late", b"old")
    time.sleep(0.25)
    publish(ch, "late", b"new")
    assert [b for _, _, b in get_all(ch, "late")] == [b"new"]


def test_invalid_expiration_is_precondition_failed(conn) -> None:
    ch = conn.channel()
    ch.queue_declare("bad-exp")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="406"):
        publish(ch, "bad-exp", b"x", expiration="soon")
        ch.queue_declare("bad-exp", passive=True)


def test_ttl_dead_letters_with_x_death(ch) -> None:
    ch.exchange_declare("dlx", "fanout")
    ch.queue_declare("dead")
    ch.queue_bind("dead", "dlx")
    ch.queue_declare("src", arguments={"x-message-ttl": 50, "x-dead-letter-exchange": "dlx"})
    publish(ch, "src", b"bye", headers={"keep": "me"})
    eventually(ch, lambda: count(ch, "dead") == 1)
    ((method, props, body),) = get_all(ch, "dead")
    assert body == b"bye"
    assert method.exchange == "dlx" and method.routing_key == "src"
    death = props.headers["x-death"][0]
    assert death["reason"] == "expired" and death["queue"] == "src" and death["count"] == 1
    assert death["exchange"] == "" and death["routing-keys"] == ["src"]
    assert props.headers["x-first-death-reason"] == "expired"
    assert props.headers["keep"] == "me"


def test_policy_message_ttl_applies_to_existing_queue(broker: BrokerThread, ch) -> None:
    ch.queue_declare("pol-ttl")
    publish(ch, "pol-ttl", b"a")

    def set_policy() -> None:
        vhost = broker.broker.vhosts["/"]
        from lavinmq.broker.parameters import Policy

        vhost.parameters.policies["ttl"] = Policy(
            "ttl", "/", "^pol-", {"message-ttl": 100}, "queues", 1
        )
        vhost.apply_policies()

    broker.call(set_policy)
    eventually(ch, lambda: count(ch, "pol-ttl") == 0, timeout=3)


def test_queue_expires_when_unused(broker: BrokerThread, ch) -> None:
    ch.queue_declare("gone", arguments={"x-expires": 200})
    ch.queue_declare("kept", arguments={"x-expires": 200})
    tag = ch.basic_consume("kept", lambda *a: None)
    time.sleep(0.5)
    names = broker.call(lambda: set(broker.broker.vhosts["/"].queues))
    assert "gone" not in names and "kept" in names
    ch.basic_cancel(tag)
    eventually(ch, lambda: "kept" not in broker.call(lambda: set(broker.broker.vhosts["/"].queues)))
