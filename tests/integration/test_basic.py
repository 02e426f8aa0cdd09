"""Basic class: publish (mandatory), consume (no-ack, exclusive, tags), cancel, get, ack,
nack, reject, recover, qos (per consumer and global), consumer priorities and the
consumer-cancel notification."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aio_pika
import aio_pika.abc
import aiormq
import aiormq.exceptions
import pika
import pika.exceptions
import pytest
from pamqp import commands, header
from pamqp.body import ContentBody
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from tests.broker_thread import BrokerThread
from tests.integration.helpers import (
    RawClient,
    assert_broker_alive,
    async_wait_for,
    drain,
    pika_connect,
    pump,
    queue_exists,
    queue_state,
    wait_for,
)

Delivery = tuple[Basic.Deliver, BasicProperties, bytes]


def collector(into: list[Delivery]) -> Callable[..., None]:
    def on_message(
        ch: BlockingChannel, method: Basic.Deliver, props: BasicProperties, body: bytes
    ) -> None:
        into.append((method, props, body))

    return on_message


def publish_n(ch: BlockingChannel, queue: str, n: int, prefix: str = "m") -> None:
    for i in range(n):
        ch.basic_publish("", queue, f"{prefix}{i}".encode())


# -- publish ------------------------------------------------------------------------------------


def test_mandatory_unroutable_is_returned(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    returned: list[tuple[Basic.Return, BasicProperties, bytes]] = []
    ch.add_on_return_callback(
        lambda _ch, method, props, body: returned.append((method, props, body))
    )
    ch.basic_publish(
        "amq.direct", "nobody", b"lost", BasicProperties(message_id="m1"), mandatory=True
    )
    ch.basic_publish("amq.direct", "nobody", b"dropped silently")  # not mandatory
    pump(conn, lambda: returned)
    method, props, body = returned[0]
    assert (method.reply_code, method.reply_text) == (312, "NO_ROUTE")
    assert (method.exchange, method.routing_key) == ("amq.direct", "nobody")
    assert props.message_id == "m1"
    assert body == b"lost"
    ch.queue_declare("", exclusive=True)  # a round trip: the second publish was not returned
    assert len(returned) == 1


def test_mandatory_routed_is_not_returned(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    returned: list[object] = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"ok", mandatory=True)
    assert drain(ch, q) == [b"ok"]
    assert returned == []


async def test_mandatory_return_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel(on_return_raises=True)
        with pytest.raises(aio_pika.exceptions.DeliveryError):
            await ch.default_exchange.publish(
                aio_pika.Message(b"x"), "no-such-queue", mandatory=True
            )


def test_publish_to_missing_exchange(conn: pika.BlockingConnection, broker: BrokerThread) -> None:
    ch = conn.channel()
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"404.*NOT_FOUND - no exchange 'ghost' in vhost '/'",
    ):
        ch.basic_publish("ghost", "k", b"x")
        ch.queue_declare("", exclusive=True)
    assert conn.is_open
    conn.channel().queue_declare("", exclusive=True)


def test_publish_with_foreign_user_id(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"mine", BasicProperties(user_id="guest"))
    assert drain(ch, q) == [b"mine"]
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*user_id"):
        ch.basic_publish("", q, b"theirs", BasicProperties(user_id="admin"))
        ch.queue_declare("", exclusive=True)


def test_fifo_order(ch: BlockingChannel) -> None:
    ch.queue_declare("fifo")
    publish_n(ch, "fifo", 200)
    assert drain(ch, "fifo") == [f"m{i}".encode() for i in range(200)]


# -- consume ------------------------------------------------------------------------------------


def test_consume_no_ack(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("na")
    publish_n(ch, "na", 20)
    got: list[Delivery] = []
    ch.basic_consume("na", collector(got), auto_ack=True)
    pump(conn, lambda: len(got) == 20)
    assert [b for _, _, b in got] == [f"m{i}".encode() for i in range(20)]
    assert [m.delivery_tag for m, _, _ in got] == list(range(1, 21))
    assert not any(m.redelivered for m, _, _ in got)
    wait_for(lambda: queue_state(broker, "na") == (0, 0, 1))


def test_consumer_tags(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("tags")
    given = ch.basic_consume("tags", lambda *a: None, consumer_tag="my-tag")
    generated = ch.basic_consume("tags", lambda *a: None)
    assert given == "my-tag"
    assert generated != given and generated
    got: list[Delivery] = []
    ch.basic_cancel(generated)
    ch.basic_cancel(given)
    ch.basic_consume("tags", collector(got), consumer_tag="second")
    ch.basic_publish("", "tags", b"x")
    pump(conn, lambda: got)
    assert got[0][0].consumer_tag == "second"


def test_server_generated_consumer_tag(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="q", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        tags = set()
        for _ in range(3):
            c.send(1, commands.Basic.Consume(queue="q", consumer_tag=""))
            tags.add(c.expect(commands.Basic.ConsumeOk).consumer_tag)
        assert len(tags) == 3
        assert all(t.startswith("amq.ctag-") for t in tags)


def test_reused_consumer_tag_closes_connection(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="q"))
        c.expect(commands.Queue.DeclareOk)
        c.send(1, commands.Basic.Consume(queue="q", consumer_tag="dup"))
        c.expect(commands.Basic.ConsumeOk)
        c.send(1, commands.Basic.Consume(queue="q", consumer_tag="dup"))
        close = c.expect_connection_close()
    assert close.reply_code == 530
    assert "reuse consumer tag 'dup'" in close.reply_text
    assert (close.class_id, close.method_id) == (60, 20)
    assert_broker_alive(broker)


def test_same_consumer_tag_on_other_channel_is_fine(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.open_channel(2)
        c.send(1, commands.Queue.Declare(queue="q"))
        c.expect(commands.Queue.DeclareOk)
        for n in (1, 2):
            c.send(n, commands.Basic.Consume(queue="q", consumer_tag="same"))
            assert c.expect(commands.Basic.ConsumeOk, channel=n).consumer_tag == "same"


def test_exclusive_consumer(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("xc")
    ch.basic_consume("xc", lambda *a: None, exclusive=True)
    other = pika_connect(broker)
    try:
        with pytest.raises(
            pika.exceptions.ChannelClosedByBroker,
            match=r"403.*ACCESS_REFUSED - queue 'xc' in vhost '/' in exclusive use",
        ):
            other.channel().basic_consume("xc", lambda *a: None)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="403"):
            conn.channel().basic_consume("xc", lambda *a: None)  # same connection too
    finally:
        other.close()


def test_exclusive_consume_when_queue_has_consumers(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("xc")
    ch.basic_consume("xc", lambda *a: None)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"403.*exclusive use"):
        conn.channel().basic_consume("xc", lambda *a: None, exclusive=True)


async def test_exclusive_consumer_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("aio-xc")
        await q.consume(_noop, exclusive=True)
        ch2 = await conn.channel()
        q2 = await ch2.get_queue("aio-xc")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match="exclusive use"):
            await q2.consume(_noop)


async def _noop(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    return None


def test_consume_from_missing_queue(conn: pika.BlockingConnection) -> None:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no queue 'nope'"):
        conn.channel().basic_consume("nope", lambda *a: None)


def test_round_robin_between_consumers(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("rr")
    a: list[Delivery] = []
    b: list[Delivery] = []
    ch.basic_consume("rr", collector(a), auto_ack=True)
    ch.basic_consume("rr", collector(b), auto_ack=True)
    publish_n(ch, "rr", 10)
    pump(conn, lambda: len(a) + len(b) == 10)
    assert len(a) == 5 and len(b) == 5
    assert {body for _, _, body in a} | {body for _, _, body in b} == {
        f"m{i}".encode() for i in range(10)
    }


# -- cancel -------------------------------------------------------------------------------------


def test_cancel_stops_deliveries(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("c")
    got: list[Delivery] = []
    tag = ch.basic_consume("c", collector(got), auto_ack=True)
    ch.basic_publish("", "c", b"before")
    pump(conn, lambda: got)
    ch.basic_cancel(tag)
    ch.basic_publish("", "c", b"after")
    wait_for(lambda: queue_state(broker, "c") == (1, 0, 0))
    assert [b for _, _, b in got] == [b"before"]
    assert drain(ch, "c") == [b"after"]


def test_cancel_unknown_tag_is_ok(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Basic.Cancel(consumer_tag="never-was"))
        assert c.expect(commands.Basic.CancelOk).consumer_tag == "never-was"


def test_cancel_returns_nothing_unacked(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    """Cancelling a consumer leaves its unacked messages with the channel (RabbitMQ)."""
    ch = conn.channel()
    ch.queue_declare("c")
    got: list[Delivery] = []
    tag = ch.basic_consume("c", collector(got))
    publish_n(ch, "c", 3)
    pump(conn, lambda: len(got) == 3)
    ch.basic_cancel(tag)
    assert queue_state(broker, "c") == (0, 3, 0)
    ch.basic_ack(got[-1][0].delivery_tag, multiple=True)
    wait_for(lambda: queue_state(broker, "c") == (0, 0, 0))


# -- get ----------------------------------------------------------------------------------------


def test_get_and_get_empty(ch: BlockingChannel) -> None:
    ch.queue_declare("g")
    assert ch.basic_get("g") == (None, None, None)
    ch.basic_publish("", "g", b"a", BasicProperties(content_type="text/plain"))
    ch.basic_publish("", "g", b"b")
    method, props, body = ch.basic_get("g")
    assert isinstance(method, Basic.GetOk)
    assert (body, method.message_count, method.redelivered) == (b"a", 1, False)
    assert (method.exchange, method.routing_key) == ("", "g")
    assert props.content_type == "text/plain"
    ch.basic_reject(method.delivery_tag, requeue=True)
    method, _, body = ch.basic_get("g", auto_ack=True)
    assert (body, method.redelivered, method.message_count) == (b"a", True, 1)
    method, _, body = ch.basic_get("g", auto_ack=True)
    assert (body, method.message_count) == (b"b", 0)
    assert ch.basic_get("g") == (None, None, None)


async def test_get_aiormq(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    try:
        ch = await conn.channel()
        await ch.queue_declare("g")
        await ch.basic_publish(b"one", routing_key="g")
        msg = await ch.basic_get("g")
        assert msg.body == b"one"
        await ch.basic_ack(msg.delivery_tag)
        empty = await ch.basic_get("g")
        assert isinstance(empty.delivery, aiormq.spec.Basic.GetEmpty)
    finally:
        await conn.close()


# -- ack / nack / reject ------------------------------------------------------------------------


def test_ack_multiple(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("a")
    publish_n(ch, "a", 10)
    got: list[Delivery] = []
    ch.basic_consume("a", collector(got))
    pump(conn, lambda: len(got) == 10)
    ch.basic_ack(got[4][0].delivery_tag, multiple=True)
    wait_for(lambda: queue_state(broker, "a") == (0, 5, 1))
    ch.basic_ack(got[7][0].delivery_tag)
    wait_for(lambda: queue_state(broker, "a") == (0, 4, 1))
    ch.basic_ack(0, multiple=True)  # tag 0 + multiple: everything outstanding
    wait_for(lambda: queue_state(broker, "a") == (0, 0, 1))


def test_nack_requeue_sets_redelivered(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("n")
    publish_n(ch, "n", 3)
    got: list[Delivery] = []
    tag = ch.basic_consume("n", collector(got))
    pump(conn, lambda: len(got) == 3)
    ch.basic_cancel(tag)
    ch.basic_nack(got[1][0].delivery_tag, multiple=True, requeue=True)
    ch.basic_nack(got[2][0].delivery_tag, requeue=False)
    method, _, body = ch.basic_get("n", auto_ack=True)
    assert (body, method.redelivered) == (b"m0", True)
    method, _, body = ch.basic_get("n", auto_ack=True)
    assert (body, method.redelivered) == (b"m1", True)
    assert ch.basic_get("n") == (None, None, None), "nack without requeue drops it"


def test_reject(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("r")
    publish_n(ch, "r", 2)
    m0, _, _ = ch.basic_get("r")
    m1, _, _ = ch.basic_get("r")
    ch.basic_reject(m0.delivery_tag, requeue=False)
    ch.basic_reject(m1.delivery_tag, requeue=True)
    method, _, body = ch.basic_get("r", auto_ack=True)
    assert (body, method.redelivered) == (b"m1", True)
    assert ch.basic_get("r") == (None, None, None)


def test_requeued_message_goes_to_the_front(ch: BlockingChannel) -> None:
    ch.queue_declare("front")
    publish_n(ch, "front", 3)
    first, _, _ = ch.basic_get("front")
    ch.basic_nack(first.delivery_tag, requeue=True)
    assert drain(ch, "front") == [b"m0", b"m1", b"m2"]


@pytest.mark.parametrize(
    "settle",
    [
        lambda ch: ch.basic_ack(99),
        lambda ch: ch.basic_ack(99, multiple=True),
        lambda ch: ch.basic_nack(99),
        lambda ch: ch.basic_reject(99),
    ],
    ids=["ack", "ack-multiple", "nack", "reject"],
)
def test_unknown_delivery_tag(
    conn: pika.BlockingConnection, settle: Callable[[BlockingChannel], None]
) -> None:
    ch = conn.channel()
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"406.*PRECONDITION_FAILED - unknown delivery tag 99",
    ):
        settle(ch)
        ch.queue_declare("", exclusive=True)
    conn.channel().queue_declare("", exclusive=True)


def test_double_ack_closes_channel(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    method, _, _ = ch.basic_get(q)
    ch.basic_ack(method.delivery_tag)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*unknown delivery tag"):
        ch.basic_ack(method.delivery_tag)
        ch.queue_declare("", exclusive=True)


def test_ack_of_no_ack_delivery_is_unknown(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x")
    method, _, _ = ch.basic_get(q, auto_ack=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="406"):
        ch.basic_ack(method.delivery_tag)
        ch.queue_declare("", exclusive=True)


async def test_ack_nack_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("aio-ack")
        for body in (b"a", b"b", b"c"):
            await ch.default_exchange.publish(aio_pika.Message(body), q.name)
        a = await q.get()
        b = await q.get()
        c = await q.get()
        await a.ack()
        await b.nack(requeue=True)
        await c.reject(requeue=False)
        again = await q.get()
        assert (again.body, again.redelivered) == (b"b", True)
        await again.ack()
        assert await q.get(fail=False) is None
        await async_wait_for(lambda: queue_state(broker, "aio-ack") == (0, 0, 0))


def test_settle_after_queue_deleted(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    """Deliveries of a deleted queue can still be acked or rejected: no channel error."""
    ch = conn.channel()
    ch.queue_declare("gone")
    publish_n(ch, "gone", 3)
    tags = [ch.basic_get("gone")[0].delivery_tag for _ in range(3)]
    other = pika_connect(broker)
    other.channel().queue_delete("gone")
    other.close()
    ch.basic_ack(tags[0])
    ch.basic_nack(tags[1], requeue=True)
    ch.basic_reject(tags[2], requeue=False)
    ch.queue_declare("gone")  # a round trip: the channel is still open
    assert drain(ch, "gone") == []


# -- unacked messages come back -----------------------------------------------------------------


def test_unacked_requeued_on_channel_close(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("u")
    publish_n(ch, "u", 5)
    got: list[Delivery] = []
    ch.basic_consume("u", collector(got))
    pump(conn, lambda: len(got) == 5)
    ch.basic_ack(got[0][0].delivery_tag)
    ch.close()
    wait_for(lambda: queue_state(broker, "u") == (4, 0, 0))
    ch2 = conn.channel()
    for i in range(1, 5):
        method, _, body = ch2.basic_get("u", auto_ack=True)
        assert (body, method.redelivered) == (f"m{i}".encode(), True)


def test_unacked_requeued_on_connection_close(broker: BrokerThread) -> None:
    c1 = pika_connect(broker)
    ch = c1.channel()
    ch.queue_declare("u")
    publish_n(ch, "u", 3)
    got: list[Delivery] = []
    ch.basic_consume("u", collector(got))
    pump(c1, lambda: len(got) == 3)
    c1.close()
    wait_for(lambda: queue_state(broker, "u") == (3, 0, 0))


# -- recover ------------------------------------------------------------------------------------


def test_recover_redelivers_unacked(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("rec")
    publish_n(ch, "rec", 3)
    got: list[Delivery] = []
    ch.basic_consume("rec", collector(got))
    pump(conn, lambda: len(got) == 3)
    assert not any(m.redelivered for m, _, _ in got)
    ch.basic_recover(requeue=True)
    pump(conn, lambda: len(got) == 6)
    again = got[3:]
    assert [b for _, _, b in again] == [b"m0", b"m1", b"m2"]
    assert all(m.redelivered for m, _, _ in again)
    assert [m.delivery_tag for m, _, _ in again] == [4, 5, 6]
    ch.basic_ack(6, multiple=True)


def test_recover_basic_get(ch: BlockingChannel) -> None:
    ch.queue_declare("rec")
    ch.basic_publish("", "rec", b"x")
    ch.basic_get("rec")
    ch.basic_recover(requeue=True)
    method, _, body = ch.basic_get("rec", auto_ack=True)
    assert (body, method.redelivered) == (b"x", True)


@pytest.mark.filterwarnings("ignore:This command is deprecated:DeprecationWarning")
def test_recover_async(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="q", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        c.publish(1, "", "q", b"x")
        c.send(1, commands.Basic.Get(queue="q"))
        c.expect(commands.Basic.GetOk)
        c.send(1, commands.Basic.RecoverAsync(requeue=True), commands.Basic.Get(queue="q"))
        c.expect(header.ContentHeader)
        c.expect(ContentBody)
        ok = c.expect(commands.Basic.GetOk)
        assert ok.redelivered


# -- qos ----------------------------------------------------------------------------------------


def test_prefetch_per_consumer(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("pf")
    publish_n(ch, "pf", 20)
    ch.basic_qos(prefetch_count=3)
    a: list[Delivery] = []
    b: list[Delivery] = []
    ch.basic_consume("pf", collector(a))
    ch.basic_consume("pf", collector(b))
    wait_for(lambda: queue_state(broker, "pf") == (14, 6, 2))  # 3 each, the rest waits
    pump(conn, lambda: len(a) == 3 and len(b) == 3)
    ch.basic_ack(a[0][0].delivery_tag)
    wait_for(lambda: queue_state(broker, "pf") == (13, 6, 2))
    pump(conn, lambda: len(a) == 4)
    assert len(b) == 3


def test_prefetch_global(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("pg")
    publish_n(ch, "pg", 20)
    ch.basic_qos(prefetch_count=4, global_qos=True)
    a: list[Delivery] = []
    b: list[Delivery] = []
    ch.basic_consume("pg", collector(a))
    ch.basic_consume("pg", collector(b))
    wait_for(lambda: queue_state(broker, "pg") == (16, 4, 2))  # 4 shared by both consumers
    pump(conn, lambda: len(a) + len(b) == 4)
    ch.basic_ack(0, multiple=True)
    wait_for(lambda: queue_state(broker, "pg") == (12, 4, 2))


def test_prefetch_per_consumer_and_global_together(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("pb")
    publish_n(ch, "pb", 20)
    ch.basic_qos(prefetch_count=5, global_qos=True)
    ch.basic_qos(prefetch_count=2)
    for _ in range(4):
        ch.basic_consume("pb", lambda *a: None)
    # Each consumer may hold 2, the channel 5 in total.
    wait_for(lambda: queue_state(broker, "pb") == (15, 5, 4))


def test_prefetch_zero_is_unlimited(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("p0")
    publish_n(ch, "p0", 50)
    ch.basic_qos(prefetch_count=0)
    got: list[Delivery] = []
    ch.basic_consume("p0", collector(got))
    pump(conn, lambda: len(got) == 50)
    assert queue_state(broker, "p0") == (0, 50, 1)


def test_prefetch_size_not_implemented(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker, match=r"540.*NOT_IMPLEMENTED"):
        conn.channel().basic_qos(prefetch_size=1024)
    assert_broker_alive(broker)


def test_prefetch_applies_to_new_consumers_only(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("pn")
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume("pn", lambda *a: None)
    ch.basic_qos(prefetch_count=3)
    ch.basic_consume("pn", lambda *a: None)
    publish_n(ch, "pn", 10)
    wait_for(lambda: queue_state(broker, "pn") == (6, 4, 2))


async def test_prefetch_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        await ch.set_qos(prefetch_count=2)
        q = await ch.declare_queue("aio-pf")
        for i in range(6):
            await ch.default_exchange.publish(aio_pika.Message(str(i).encode()), q.name)
        got: list[aio_pika.abc.AbstractIncomingMessage] = []

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            got.append(message)

        await q.consume(on_message)
        await async_wait_for(lambda: queue_state(broker, "aio-pf") == (4, 2, 1))
        await async_wait_for(lambda: len(got) == 2)
        await got[0].ack()
        await async_wait_for(lambda: len(got) == 3)
        assert queue_state(broker, "aio-pf") == (3, 2, 1)


# -- consumer priorities ------------------------------------------------------------------------


def test_consumer_priority(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("prio")
    ch.basic_qos(prefetch_count=2)
    low: list[Delivery] = []
    high: list[Delivery] = []
    ch.basic_consume("prio", collector(low))
    ch.basic_consume("prio", collector(high), arguments={"x-priority": 10})
    publish_n(ch, "prio", 6)
    wait_for(lambda: queue_state(broker, "prio") == (2, 4, 2))
    pump(conn, lambda: len(high) == 2 and len(low) == 2)
    assert [b for _, _, b in high] == [b"m0", b"m1"], "the high priority consumer goes first"
    assert [b for _, _, b in low] == [b"m2", b"m3"]
    ch.basic_ack(low[0][0].delivery_tag)  # the low one has room first: it gets the next
    pump(conn, lambda: len(low) == 3)
    ch.basic_ack(high[1][0].delivery_tag, multiple=False)
    pump(conn, lambda: len(high) == 3)
    assert [b for _, _, b in low] == [b"m2", b"m3", b"m4"]
    assert [b for _, _, b in high] == [b"m0", b"m1", b"m5"]


def test_consumer_priority_round_robin_within_level(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("prr")
    h1: list[Delivery] = []
    h2: list[Delivery] = []
    low: list[Delivery] = []
    ch.basic_consume("prr", collector(h1), auto_ack=True, arguments={"x-priority": 5})
    ch.basic_consume("prr", collector(h2), auto_ack=True, arguments={"x-priority": 5})
    ch.basic_consume("prr", collector(low), auto_ack=True, arguments={"x-priority": -1})
    publish_n(ch, "prr", 10)
    pump(conn, lambda: len(h1) + len(h2) == 10)
    assert (len(h1), len(h2), len(low)) == (5, 5, 0)


@pytest.mark.parametrize("value", ["high", True, {"a": 1}])
def test_consumer_priority_must_be_an_integer(conn: pika.BlockingConnection, value: object) -> None:
    ch = conn.channel()
    ch.queue_declare("pi")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*x-priority"):
        ch.basic_consume("pi", lambda *a: None, arguments={"x-priority": value})


# -- consumer cancel notification ---------------------------------------------------------------


def test_consumer_cancelled_when_queue_deleted_pika(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    try:
        ch = conn.channel()
        ch.queue_declare("doomed")
        cancelled: list[object] = []
        ch.add_on_cancel_callback(lambda frame: cancelled.append(frame))
        tag = ch.basic_consume("doomed", lambda *a: None)
        other = pika_connect(broker)
        other.channel().queue_delete("doomed")
        other.close()
        pump(conn, lambda: cancelled)
        assert cancelled[0].method.consumer_tag == tag  # type: ignore[attr-defined]
        assert not ch.consumer_tags
        ch.queue_declare("", exclusive=True)  # the channel is still usable
    finally:
        conn.close()


async def test_consumer_cancelled_when_queue_deleted_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("aio-doomed")
        tag = await q.consume(_noop)
        cancelled: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        raw_channel = await ch.get_underlay_channel()
        raw_channel.on_consumer_cancel_callbacks.add(
            lambda frame: cancelled.set_result(frame.consumer_tag)
        )
        ch2 = await conn.channel()
        await ch2.queue_delete("aio-doomed")
        assert await asyncio.wait_for(cancelled, 5) == tag


def test_no_cancel_notification_without_capability(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(capabilities={})
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="q"))
        c.expect(commands.Queue.DeclareOk)
        c.send(1, commands.Basic.Consume(queue="q", consumer_tag="t"))
        c.expect(commands.Basic.ConsumeOk)
        c.send(1, commands.Queue.Delete(queue="q"))
        c.expect(commands.Queue.DeleteOk)  # no Basic.Cancel before it


def test_cancel_notification_and_cancel_ok_reply(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(capabilities={"consumer_cancel_notify": True})
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="q"))
        c.expect(commands.Queue.DeclareOk)
        c.send(1, commands.Basic.Consume(queue="q", consumer_tag="t"))
        c.expect(commands.Basic.ConsumeOk)
        c.send(1, commands.Queue.Delete(queue="q"))
        cancel = c.expect(commands.Basic.Cancel)
        assert cancel.consumer_tag == "t"
        assert cancel.nowait
        c.expect(commands.Queue.DeleteOk)
        # RabbitMQ 4.3 clients answer with Cancel-Ok; that must not break the channel.
        c.send(1, commands.Basic.CancelOk(consumer_tag="t"))
        c.send(1, commands.Queue.Declare(queue="", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
    assert not queue_exists(broker, "q")


# -- channel.flow -------------------------------------------------------------------------------


def test_channel_flow_pauses_deliveries(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("fl")
    got: list[Delivery] = []
    ch.basic_consume("fl", collector(got), auto_ack=True)
    assert ch.flow(False) is False
    publish_n(ch, "fl", 3)
    wait_for(lambda: queue_state(broker, "fl")[0] == 3)
    assert ch.flow(True) is True
    pump(conn, lambda: len(got) == 3)


def test_log_line_for_channel_error(
    conn: pika.BlockingConnection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lavinmq")
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        ch.basic_ack(1234)
        ch.queue_declare("", exclusive=True)
    wait_for(lambda: any("unknown delivery tag 1234" in r.getMessage() for r in caplog.records))
