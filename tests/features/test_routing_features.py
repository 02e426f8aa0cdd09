"""Priorities, delayed exchange, alternate exchange, CC/BCC, direct reply-to, single
active consumer."""

from __future__ import annotations

import os
import time

from tests.broker_thread import BrokerThread
from tests.features.helpers import count, eventually, get_all, publish, queue_info


def test_priority_queue_orders_by_priority(ch) -> None:
    ch.queue_declare("prio", arguments={"x-max-priority": 10})
    for i, p in enumerate([1, 5, 0, 10, 5]):
        publish(ch, "prio", b"%d" % i, priority=p)
    assert [b for _, _, b in get_all(ch, "prio")] == [b"3", b"1", b"4", b"0", b"2"]


def test_priority_queue_without_and_above_max_priority(ch) -> None:
    ch.queue_declare("prio-edges", arguments={"x-max-priority": 3})
    publish(ch, "prio-edges", b"none")  # no priority property: the lowest level
    publish(ch, "prio-edges", b"huge", priority=200)  # above the maximum: the highest
    publish(ch, "prio-edges", b"two", priority=2)
    publish(ch, "prio-edges", b"three", priority=3)
    bodies = [b for _, _, b in get_all(ch, "prio-edges")]
    assert bodies == [b"huge", b"three", b"two", b"none"]


def test_deleting_a_delayed_exchange_drops_what_it_held(broker: BrokerThread, ch) -> None:
    ch.exchange_declare("dly-del", "x-delayed-message", arguments={"x-delayed-type": "fanout"})
    ch.queue_declare("dly-del-q")
    ch.queue_bind("dly-del-q", "dly-del")
    publish(ch, "", b"held", exchange="dly-del", headers={"x-delay": 150})
    ex = broker.call(lambda: broker.broker.vhosts["/"].exchanges["dly-del"])
    directory = str(ex._store._dir)
    assert broker.call(lambda: ex.details()["messages_delayed"]) == 1
    ch.exchange_delete("dly-del")
    time.sleep(0.3)  # past the delay: nothing arrives, and its store is gone
    assert count(ch, "dly-del-q") == 0
    assert not os.path.exists(directory)


def test_priority_queue_requeue_confirms_purge_restart_and_delete(broker: BrokerThread) -> None:
    from tests.integration.helpers import pika_connect

    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("pq", durable=True, arguments={"x-max-priority": 5})
    ch.confirm_delivery()  # persistent messages: confirmed after every level's fsync
    for body, priority in ((b"low", 0), (b"mid", 3), (b"high", 5)):
        publish(ch, "pq", body, priority=priority, delivery_mode=2)
    stored = queue_info(broker, "pq")["message_bytes"]  # the records, as LavinMQ counts
    assert stored > len(b"lowmidhigh") and queue_info(broker, "pq")["message_bytes_ready"] == stored
    method, _, body = ch.basic_get("pq")
    assert body == b"high" and not method.redelivered
    assert queue_info(broker, "pq")["message_bytes_ready"] < stored
    ch.basic_nack(method.delivery_tag, requeue=True)  # back at its own level's head
    assert queue_info(broker, "pq")["message_bytes_ready"] == stored
    method, _, body = ch.basic_get("pq", auto_ack=True)
    assert body == b"high" and method.redelivered
    conn.close()
    broker.restart()
    conn = pika_connect(broker)
    ch = conn.channel()
    assert ch.basic_get("pq", auto_ack=True)[2] == b"mid"  # recovered in priority order
    assert ch.queue_purge("pq").method.message_count == 1
    publish(ch, "pq", b"again", priority=2)
    directory = broker.call(lambda: broker.broker.vhosts["/"].queues["pq"].store._dir)
    ch.queue_delete("pq")
    assert not os.path.exists(directory)
    parent = os.path.dirname(directory)  # and nothing is left behind once removed
    eventually(ch, lambda: not [n for n in os.listdir(parent) if n.endswith(".deleted")])
    conn.close()


def test_delayed_exchange_delivers_after_delay(ch) -> None:
    ch.exchange_declare("delay", "x-delayed-message", arguments={"x-delayed-type": "direct"})
    ch.queue_declare("later")
    ch.queue_bind("later", "delay", "k")
    publish(ch, "k", b"slow", exchange="delay", headers={"x-delay": 300})
    publish(ch, "k", b"fast", exchange="delay", headers={"x-delay": 50})
    publish(ch, "k", b"now", exchange="delay")
    assert [b for _, _, b in get_all(ch, "later")] == [b"now"]
    eventually(ch, lambda: count(ch, "later") == 2, timeout=3)
    assert [b for _, _, b in get_all(ch, "later")] == [b"fast", b"slow"]


def test_delayed_messages_survive_restart(broker: BrokerThread) -> None:
    import pika

    from tests.integration.helpers import pika_connect

    conn = pika_connect(broker)
    ch = conn.channel()
    ch.exchange_declare(
        "dly", "x-delayed-message", durable=True, arguments={"x-delayed-type": "fanout"}
    )
    ch.queue_declare("dq", durable=True)
    ch.queue_bind("dq", "dly")
    publish(ch, "", b"persist", exchange="dly", headers={"x-delay": 600}, delivery_mode=2)
    conn.close()
    broker.restart()
    conn = pika_connect(broker)
    ch = conn.channel()
    assert count(ch, "dq") == 0
    eventually(ch, lambda: count(ch, "dq") == 1, timeout=4)
    conn.close()
    del pika


def test_alternate_exchange_gets_unroutable(ch) -> None:
    ch.exchange_declare("ae", "fanout")
    ch.queue_declare("ae-q")
    ch.queue_bind("ae-q", "ae")
    ch.exchange_declare("main", "direct", arguments={"alternate-exchange": "ae"})
    ch.queue_declare("main-q")
    ch.queue_bind("main-q", "main", "known")
    publish(ch, "known", b"routed", exchange="main")
    publish(ch, "unknown", b"stray", exchange="main")
    assert [b for _, _, b in get_all(ch, "main-q")] == [b"routed"]
    ((m, _, body),) = get_all(ch, "ae-q")
    assert body == b"stray" and m.exchange == "main"


def test_cc_and_bcc_route_and_bcc_is_stripped(ch) -> None:
    for q in ("to", "cc", "bcc"):
        ch.queue_declare(q)
    publish(ch, "to", b"mail", headers={"CC": ["cc"], "BCC": ["bcc"]})
    for q in ("to", "cc", "bcc"):
        ((_, props, body),) = get_all(ch, q)
        assert body == b"mail"
        assert "BCC" not in props.headers and props.headers["CC"] == ["cc"]


def test_direct_reply_to(conn) -> None:
    client = conn.channel()
    server = conn.channel()
    server.queue_declare("rpc")
    replies: list[bytes] = []
    client.basic_consume(
        "amq.rabbitmq.reply-to", lambda c, m, p, b: replies.append(b), auto_ack=True
    )
    publish(client, "rpc", b"ping", reply_to="amq.rabbitmq.reply-to")
    _method, props, _body = server.basic_get("rpc", auto_ack=True)
    assert props.reply_to.startswith("amq.rabbitmq.reply-to.")
    publish(server, props.reply_to, b"pong")
    eventually(client, lambda: replies == [b"pong"])


def test_single_active_consumer(ch) -> None:
    ch.queue_declare("sac", arguments={"x-single-active-consumer": True})
    first: list[bytes] = []
    second: list[bytes] = []
    tag = ch.basic_consume("sac", lambda c, m, p, b: first.append(b), auto_ack=True)
    ch.basic_consume("sac", lambda c, m, p, b: second.append(b), auto_ack=True)
    for i in range(4):
        publish(ch, "sac", b"%d" % i)
    eventually(ch, lambda: len(first) == 4)
    assert second == []
    ch.basic_cancel(tag)
    publish(ch, "sac", b"next")
    eventually(ch, lambda: second == [b"next"])
    time.sleep(0.05)


async def test_immediate_without_ready_consumer_is_returned(broker: BrokerThread) -> None:
    import asyncio

    import aiormq

    conn = await aiormq.connect(broker.amqp_url)
    ch = await conn.channel(on_return_raises=False)
    returns: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    ch.on_return_callbacks.add(
        lambda m: returns.put_nowait((m.delivery.reply_code, m.body))  # type: ignore[attr-defined]
    )
    await ch.queue_declare("imm")
    await ch.basic_publish(b"nobody", routing_key="imm", immediate=True)
    assert await asyncio.wait_for(returns.get(), 5) == (313, b"nobody")
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
        await got.put(message.body)

    await ch.basic_consume("imm", on_message, no_ack=True)
    await ch.basic_publish(b"someone", routing_key="imm", immediate=True)
    assert await asyncio.wait_for(got.get(), 5) == b"someone"
    assert returns.empty()
    await conn.close()
