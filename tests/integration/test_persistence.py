"""Message store as clients see it: large and many messages, properties round-tripping
byte for byte, and what survives ``broker.restart()``."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import struct
from collections.abc import Callable

import aio_pika
import pika
import pytest
from pamqp import commands, frame, header
from pika.adapters.blocking_connection import BlockingChannel

from tests.broker_thread import BrokerThread
from tests.integration.helpers import (
    RawClient,
    drain,
    exchange_exists,
    pika_connect,
    pump,
    queue_exists,
    queue_state,
    raw_frame,
    wait_for,
)

MiB = 1024 * 1024


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-looking bytes (a chain of sha256 blocks)."""
    out = bytearray()
    block = seed.to_bytes(8, "big")
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:size])


# -- large messages -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [MiB, 10 * MiB], ids=["1MiB", "10MiB"])
def test_large_message_pika(conn: pika.BlockingConnection, size: int) -> None:
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    body = pattern(size)
    ch.basic_publish("", q, body)
    method, _, got = ch.basic_get(q, auto_ack=True)
    assert method.message_count == 0
    assert len(got) == size and got == body
    ch.basic_publish("", q, body[::-1])
    received: list[bytes] = []
    ch.basic_consume(q, lambda c, m, p, b: received.append(b), auto_ack=True)
    pump(conn, lambda: received, timeout=20)
    assert received[0] == body[::-1]


async def test_large_messages_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("", exclusive=True)
        bodies = [pattern(3 * MiB + i, seed=i) for i in range(3)]
        for body in bodies:
            await ch.default_exchange.publish(aio_pika.Message(body), q.name)
        for body in bodies:
            msg = await q.get(no_ack=True)
            assert msg.body == body


def test_large_message_body_frames_split_at_frame_max(broker: BrokerThread) -> None:
    size = 1 * MiB + 7
    body = pattern(size)
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="big", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        c.publish(1, "", "big", body)
        c.send(1, commands.Basic.Get(queue="big", no_ack=True))
        c.expect(commands.Basic.GetOk)
        assert c.expect(header.ContentHeader).body_size == size
        parts: list[bytes] = []
        while sum(len(p) for p in parts) < size:
            parts.append(c.recv_frame()[1].value)
        assert all(len(p) == c.frame_max - 8 for p in parts[:-1])
        assert b"".join(parts) == body


def test_max_message_size(make_broker: Callable[..., BrokerThread]) -> None:
    broker = make_broker(max_message_size=1000)
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", q, b"x" * 1000)
        with pytest.raises(
            pika.exceptions.ChannelClosedByBroker, match=r"406.*larger than configured max size"
        ):
            ch.basic_publish("", q, b"x" * 1001)
            ch.queue_declare(q, passive=True)
        ch = conn.channel()
        assert drain(ch, q) == [b"x" * 1000]
    finally:
        conn.close()


def test_empty_body(ch: BlockingChannel) -> None:
    ch.queue_declare("e")
    ch.basic_publish("", "e", b"")
    method, _props, body = ch.basic_get("e", auto_ack=True)
    assert method is not None and body == b""


# -- many messages ----------------------------------------------------------------------------------


def test_100k_messages_through_a_queue(broker: BrokerThread) -> None:
    count = 100_000
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="many"))
        c.expect(commands.Queue.DeclareOk)
        # Pipelined publishes, 1000 per write, as a fast client sends them.
        publish = frame.marshal(commands.Basic.Publish(routing_key="many"), 1)
        batch = []
        for i in range(count):
            body = struct.pack(">I", i)
            batch.append(
                publish
                + raw_frame(2, 1, struct.pack(">HHQH", 60, 0, len(body), 0))
                + raw_frame(3, 1, body)
            )
            if len(batch) == 1000:
                c.send_bytes(b"".join(batch))
                batch.clear()
        c.send(1, commands.Queue.Declare(queue="many", passive=True))
        assert c.expect(commands.Queue.DeclareOk).message_count == count
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=2000)
        expected = 0
        out_of_order: list[int] = []

        def on_message(c: BlockingChannel, m: pika.spec.Basic.Deliver, p: object, b: bytes) -> None:
            nonlocal expected
            (n,) = struct.unpack(">I", b)
            if n != expected:
                out_of_order.append(n)
            expected += 1
            if expected % 1000 == 0:
                c.basic_ack(m.delivery_tag, multiple=True)

        ch.basic_consume("many", on_message)
        pump(conn, lambda: expected == count, timeout=60)
        assert out_of_order == []
        wait_for(lambda: queue_state(broker, "many") == (0, 0, 1))
    finally:
        conn.close()


# -- properties round trip --------------------------------------------------------------------------

NESTED_HEADERS = {
    "str": "text ✓",
    "int": 42,
    "negative": -7,
    "big": 2**40,
    "bool": True,
    "false": False,
    "none": None,
    "decimal": decimal.Decimal("3.14"),
    "timestamp": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
    "list": [1, "two", [3, {"four": 4}]],
    "table": {"nested": {"deeper": {"deepest": "yes"}}, "n": 1},
    "empty-table": {},
    "empty-list": [],
}


def full_properties() -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type="application/json",
        content_encoding="gzip",
        headers=NESTED_HEADERS,
        delivery_mode=2,
        priority=5,
        correlation_id="corr-1",
        reply_to="replies",
        expiration="60000",
        message_id="msg-1",
        timestamp=1_700_000_000,
        type="order.created",
        user_id="guest",
        app_id="tests",
        cluster_id="c1",
    )


def assert_same_properties(got: pika.BasicProperties, sent: pika.BasicProperties) -> None:
    for name in (
        "content_type",
        "content_encoding",
        "delivery_mode",
        "priority",
        "correlation_id",
        "reply_to",
        "expiration",
        "message_id",
        "timestamp",
        "type",
        "user_id",
        "app_id",
        "cluster_id",
    ):
        assert getattr(got, name) == getattr(sent, name), name
    assert got.headers == sent.headers


def test_every_property_round_trips_pika(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    sent = full_properties()
    ch.basic_publish("", q, b"body", sent)
    _, props, _ = ch.basic_get(q, auto_ack=True)
    assert_same_properties(props, sent)
    ch.basic_publish("", q, b"body", sent)
    got: list[pika.BasicProperties] = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(p), auto_ack=True)
    pump(conn, lambda: got)
    assert_same_properties(got[0], sent)


def test_no_properties(ch: BlockingChannel) -> None:
    ch.queue_declare("np")
    ch.basic_publish("", "np", b"x")
    _, props, _ = ch.basic_get("np", auto_ack=True)
    assert props.headers is None and props.content_type is None and props.delivery_mode is None


async def test_properties_round_trip_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("", exclusive=True)
        headers = {"a": {"b": [1, 2, {"c": "d"}]}, "flag": True, "float": 0.25, "n": None}
        msg = aio_pika.Message(
            b"b",
            headers=headers,
            content_type="text/x",
            correlation_id="cid",
            reply_to="rt",
            priority=3,
            message_id="mid",
            type="t",
            app_id="app",
            expiration=30,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            timestamp=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        )
        await ch.default_exchange.publish(msg, q.name)
        got = await q.get(no_ack=True)
        assert got.headers == headers
        for name in (
            "content_type",
            "correlation_id",
            "reply_to",
            "priority",
            "message_id",
            "type",
            "app_id",
            "expiration",
            "delivery_mode",
            "timestamp",
        ):
            assert getattr(got, name) == getattr(msg, name), name


def test_properties_forwarded_byte_for_byte(broker: BrokerThread) -> None:
    props = commands.Basic.Properties(
        content_type="a/b",
        headers={"x": {"y": [1, "z"]}, "f": 2.5, "d": decimal.Decimal("1.1")},
        delivery_mode=1,
        message_id="m",
        timestamp=datetime.datetime(2001, 2, 3, 4, 5, 6),
    )
    sent_header = header.ContentHeader(0, 3, props).marshal()
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="bb", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        c.send(1, commands.Basic.Publish(routing_key="bb"), header.ContentHeader(0, 3, props))
        c.send_bytes(raw_frame(3, 1, b"abc"))
        c.send(1, commands.Basic.Get(queue="bb", no_ack=True))
        c.expect(commands.Basic.GetOk)
        size = struct.unpack_from(">I", c.recv_exact(7), 3)[0]
        payload = c.recv_exact(size + 1)[:-1]
    assert payload == sent_header


# -- restart ----------------------------------------------------------------------------------------


def test_durable_persistent_messages_survive_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare("dq", durable=True)
    big = pattern(2 * MiB)
    for i in range(100):
        ch.basic_publish("", "dq", str(i).encode(), pika.BasicProperties(delivery_mode=2))
    ch.basic_publish("", "dq", big, full_properties())
    conn.close()
    broker.restart()
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        assert ch.queue_declare("dq", passive=True).method.message_count == 101
        bodies = []
        for _ in range(100):
            method, _, body = ch.basic_get("dq", auto_ack=True)
            assert not method.redelivered
            bodies.append(body)
        assert bodies == [str(i).encode() for i in range(100)]
        _, props, body = ch.basic_get("dq", auto_ack=True)
        assert body == big
        assert_same_properties(props, full_properties())
    finally:
        conn.close()


def test_unacked_messages_come_back_redelivered_after_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("ua", durable=True)
    for i in range(10):
        ch.basic_publish("", "ua", str(i).encode(), pika.BasicProperties(delivery_mode=2))
    tags = [ch.basic_get("ua")[0].delivery_tag for _ in range(4)]
    ch.basic_ack(tags[0])
    ch.basic_ack(tags[1])
    wait_for(lambda: queue_state(broker, "ua") == (6, 2, 0))
    broker.restart()  # the client still holds two unacked deliveries
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        seen = []
        for _ in range(8):
            method, _, body = ch.basic_get("ua", auto_ack=True)
            seen.append((body, method.redelivered))
        assert ch.basic_get("ua") == (None, None, None)
        assert seen == [(b"2", True), (b"3", True)] + [
            (str(i).encode(), False) for i in range(4, 10)
        ]
    finally:
        conn.close()


def test_unacked_consumer_deliveries_come_back_after_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("uc", durable=True)
    for i in range(10):
        ch.basic_publish("", "uc", str(i).encode(), pika.BasicProperties(delivery_mode=2))
    got: list[bytes] = []
    ch.basic_qos(prefetch_count=3)
    ch.basic_consume("uc", lambda c, m, p, b: got.append(b))
    pump(conn, lambda: len(got) == 3)
    wait_for(lambda: queue_state(broker, "uc") == (7, 3, 1))
    broker.restart()
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        seen = []
        while (item := ch.basic_get("uc", auto_ack=True))[0] is not None:
            seen.append((item[2], item[0].redelivered))
        assert sorted(seen) == sorted(
            [(b, True) for b in got] + [(str(i).encode(), False) for i in range(3, 10)]
        )
    finally:
        conn.close()


def test_acked_messages_stay_gone_after_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("ack", durable=True)
    for i in range(5):
        ch.basic_publish("", "ack", str(i).encode(), pika.BasicProperties(delivery_mode=2))
    for _ in range(3):
        ch.basic_get("ack", auto_ack=True)
    ch.queue_declare("ack", passive=True)
    conn.close()
    broker.restart()
    broker.restart()
    conn = pika_connect(broker)
    try:
        assert drain(conn.channel(), "ack") == [b"3", b"4"]
    finally:
        conn.close()


def test_non_durable_queues_gone_after_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("transient")
    ch.queue_declare("durable", durable=True)
    ch.basic_publish("", "transient", b"x", pika.BasicProperties(delivery_mode=2))
    conn.close()
    broker.restart()
    assert not queue_exists(broker, "transient")
    assert queue_exists(broker, "durable")
    conn = pika_connect(broker)
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="404"):
            conn.channel().queue_declare("transient", passive=True)
    finally:
        conn.close()


def test_exchanges_and_bindings_survive_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.exchange_declare("d-topic", "topic", durable=True)
    ch.exchange_declare("d-fanout", "fanout", durable=True, arguments={"alternate-exchange": "x"})
    ch.exchange_declare("t-direct", "direct")
    ch.exchange_declare("d-internal", "fanout", durable=True, internal=True)
    ch.queue_declare("dq", durable=True)
    ch.queue_bind("dq", "d-topic", routing_key="a.#")
    ch.queue_bind("dq", "amq.direct", routing_key="k")
    ch.queue_bind("dq", "d-internal")
    ch.exchange_bind(destination="d-internal", source="d-fanout")
    ch.queue_bind("dq", "d-topic", routing_key="removed")
    ch.queue_unbind("dq", "d-topic", routing_key="removed")
    conn.close()
    broker.restart()
    assert exchange_exists(broker, "d-topic") and exchange_exists(broker, "d-fanout")
    assert not exchange_exists(broker, "t-direct")
    details = broker.call(
        lambda: {
            n: broker.broker.vhosts["/"].exchanges[n].details()
            for n in ("d-topic", "d-fanout", "d-internal")
        }
    )
    assert details["d-topic"]["type"] == "topic"
    assert details["d-fanout"]["arguments"] == {"alternate-exchange": "x"}
    assert details["d-internal"]["internal"] is True
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        ch.basic_publish("d-topic", "a.b.c", b"topic")
        ch.basic_publish("d-topic", "removed", b"unbound")
        ch.basic_publish("amq.direct", "k", b"direct")
        ch.basic_publish("d-fanout", "", b"e2e")
        assert drain(ch, "dq") == [b"topic", b"direct", b"e2e"]
    finally:
        conn.close()


def test_deleted_durable_entities_stay_deleted_after_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.exchange_declare("gone-x", "direct", durable=True)
    ch.queue_declare("gone-q", durable=True)
    ch.queue_bind("gone-q", "gone-x")
    ch.queue_delete("gone-q")
    ch.exchange_delete("gone-x")
    conn.close()
    broker.restart()
    assert not exchange_exists(broker, "gone-x")
    assert not queue_exists(broker, "gone-q")


def test_server_named_durable_queue_survives_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    name = conn.channel().queue_declare("", durable=True).method.queue
    conn.close()
    broker.restart()
    assert queue_exists(broker, name)


def test_queue_arguments_survive_restart(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    conn.channel().queue_declare("args", durable=True, arguments={"x-max-length": 10})
    conn.close()
    broker.restart()
    conn = pika_connect(broker)
    try:
        conn.channel().queue_declare("args", durable=True, arguments={"x-max-length": 10})
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="406"):
            conn.channel().queue_declare("args", durable=True)
    finally:
        conn.close()


async def test_restart_with_aio_pika_robust_reconnect(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("aio-durable", durable=True)
        await ch.default_exchange.publish(
            aio_pika.Message(b"kept", delivery_mode=aio_pika.DeliveryMode.PERSISTENT), q.name
        )
    broker.restart()
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("aio-durable", durable=True)
        msg = await q.get(no_ack=True)
        assert msg.body == b"kept"
