"""Dead-lettering on reject and overflow, length limits, cycle detection, delivery limit."""

from __future__ import annotations

import pika
import pytest

from tests.features.helpers import count, eventually, get_all, publish


def _dlx(ch, name: str = "dlx") -> None:
    ch.exchange_declare(name, "fanout")
    ch.queue_declare(f"{name}-q")
    ch.queue_bind(f"{name}-q", name)


def test_reject_without_requeue_dead_letters(ch) -> None:
    _dlx(ch)
    ch.queue_declare(
        "work", arguments={"x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "other"}
    )
    publish(ch, "work", b"job")
    method, _, _ = ch.basic_get("work")
    ch.basic_reject(method.delivery_tag, requeue=False)
    eventually(ch, lambda: count(ch, "dlx-q") == 1)
    ((m, props, body),) = get_all(ch, "dlx-q")
    assert m.routing_key == "other" and body == b"job"
    assert props.headers["x-death"][0]["reason"] == "rejected"


def test_nack_requeue_keeps_message_and_sets_redelivered(ch) -> None:
    ch.queue_declare("nq", arguments={"x-dead-letter-exchange": "dlx"})
    publish(ch, "nq", b"again")
    method, _, _ = ch.basic_get("nq")
    ch.basic_nack(method.delivery_tag, requeue=True)
    method, _, body = ch.basic_get("nq", auto_ack=True)
    assert body == b"again" and method.redelivered


def test_max_length_drop_head_dead_letters_oldest(ch) -> None:
    _dlx(ch)
    ch.queue_declare("ml", arguments={"x-max-length": 2, "x-dead-letter-exchange": "dlx"})
    for i in range(4):
        publish(ch, "ml", b"%d" % i)
    assert [b for _, _, b in get_all(ch, "ml")] == [b"2", b"3"]
    dead = get_all(ch, "dlx-q")
    assert [b for _, _, b in dead] == [b"0", b"1"]
    assert dead[0][1].headers["x-death"][0]["reason"] == "maxlen"


def test_max_length_reject_publish_nacks(ch) -> None:
    ch.queue_declare("rp", arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    publish(ch, "rp", b"first")
    with pytest.raises(pika.exceptions.NackError):
        publish(ch, "rp", b"second")
    assert [b for _, _, b in get_all(ch, "rp")] == [b"first"]


def test_reject_publish_dlx_dead_letters_refused(ch) -> None:
    _dlx(ch)
    ch.queue_declare(
        "rpd",
        arguments={
            "x-max-length": 1,
            "x-overflow": "reject-publish-dlx",
            "x-dead-letter-exchange": "dlx",
        },
    )
    publish(ch, "rpd", b"kept")
    publish(ch, "rpd", b"refused")
    eventually(ch, lambda: count(ch, "dlx-q") == 1)
    assert [b for _, _, b in get_all(ch, "dlx-q")] == [b"refused"]


def test_max_length_bytes(ch) -> None:
    ch.queue_declare("mlb", arguments={"x-max-length-bytes": 200})
    for i in range(10):
        publish(ch, "mlb", bytes([65 + i]) * 50)
    assert 1 <= count(ch, "mlb") <= 3


def test_dead_letter_cycle_is_dropped(ch) -> None:
    ch.queue_declare(
        "loop",
        arguments={
            "x-message-ttl": 30,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "loop",
        },
    )
    publish(ch, "loop", b"spin")
    eventually(ch, lambda: count(ch, "loop") == 0, timeout=3)


def test_retry_loop_counts_each_death_and_keeps_the_latest_first(ch) -> None:
    # The usual retry pattern: the worker rejects, a TTL queue holds the message a while
    # and dead-letters it back. A rejection in the loop makes it no cycle (RabbitMQ's
    # rule), and each (queue, reason) pair keeps one x-death entry with a count.
    ch.queue_declare(
        "jobs", arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "wait"}
    )
    ch.queue_declare("wait", arguments={"x-message-ttl": 20, "x-dead-letter-exchange": "",
                                        "x-dead-letter-routing-key": "jobs"})  # fmt: skip
    publish(ch, "jobs", b"flaky")
    for attempt in (1, 2, 3):
        eventually(ch, lambda: count(ch, "jobs") == 1, timeout=3)
        method, props, body = ch.basic_get("jobs")
        assert body == b"flaky"
        deaths = (props.headers or {}).get("x-death", [])
        seen = {(d["queue"], d["reason"]): d["count"] for d in deaths}
        previous = attempt - 1
        assert seen == ({("wait", "expired"): previous, ("jobs", "rejected"): previous}
                        if previous else {})  # fmt: skip
        if previous:
            assert (deaths[0]["queue"], deaths[0]["reason"]) == ("wait", "expired")
            assert props.headers["x-first-death-queue"] == "jobs"
            assert props.headers["x-first-death-reason"] == "rejected"
        ch.basic_reject(method.delivery_tag, requeue=False)


def test_delivery_limit_dead_letters(ch) -> None:
    _dlx(ch)
    ch.queue_declare("dl", arguments={"x-delivery-limit": 2, "x-dead-letter-exchange": "dlx"})
    publish(ch, "dl", b"poison")
    counts = []
    for _ in range(3):
        method, props, _ = ch.basic_get("dl")
        counts.append((props.headers or {}).get("x-delivery-count", 0))
        ch.basic_nack(method.delivery_tag, requeue=True)
    assert counts == [0, 1, 2]
    assert ch.basic_get("dl")[0] is None
    eventually(ch, lambda: count(ch, "dlx-q") == 1)


def test_invalid_arguments_are_406_naming_the_argument(conn) -> None:
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="x-max-length"):
        ch.queue_declare("bad", arguments={"x-max-length": "ten"})
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="x-overflow"):
        ch.queue_declare("bad", arguments={"x-overflow": "explode"})
