"""Queues: declare (passive, durable, exclusive, auto-delete, server-named), equivalence,
bind/unbind, purge, delete (if-unused, if-empty), and the counts in Declare-Ok."""

from __future__ import annotations

import aio_pika
import aio_pika.abc
import aiormq
import aiormq.abc
import aiormq.exceptions
import pika
import pika.exceptions
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from tests.broker_thread import BrokerThread
from tests.integration.helpers import (
    RawClient,
    assert_broker_alive,
    async_wait_for,
    drain,
    pika_connect,
    queue_exists,
    wait_for,
)

# -- declare ----------------------------------------------------------------------------------


def test_declare_and_passive_declare(ch: BlockingChannel) -> None:
    ok = ch.queue_declare("q1").method
    assert (ok.queue, ok.message_count, ok.consumer_count) == ("q1", 0, 0)
    ok = ch.queue_declare("q1", passive=True).method
    assert ok.queue == "q1"


def test_passive_declare_of_missing_queue(conn: pika.BlockingConnection) -> None:
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"404.*NOT_FOUND - no queue 'missing' in vhost '/'",
    ):
        conn.channel().queue_declare("missing", passive=True)
    conn.channel().queue_declare("", exclusive=True)


async def test_passive_declare_of_missing_queue_aiormq(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    try:
        ch = await conn.channel()
        with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity, match="no queue 'missing'"):
            await ch.queue_declare("missing", passive=True)
        ch2 = await conn.channel()
        ok = await ch2.queue_declare("present")
        assert ok.queue == "present"
    finally:
        await conn.close()


def test_declare_ok_counts(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.queue_declare("counts")
    for i in range(5):
        ch.basic_publish("", "counts", str(i).encode())
    ok = ch.queue_declare("counts", passive=True).method
    assert (ok.message_count, ok.consumer_count) == (5, 0)
    ch.basic_qos(prefetch_count=2)
    ch.basic_consume("counts", lambda *a: None)
    ch.basic_consume("counts", lambda *a: None)
    ch.connection.process_data_events(time_limit=0.05)
    ok = ch.queue_declare("counts").method  # a non-passive redeclare reports them too
    assert ok.consumer_count == 2
    # Unacked deliveries are not "ready" and are not counted.
    assert ok.message_count == 1


def test_durable_flag(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.queue_declare("durable-q", durable=True)
    ch.queue_declare("transient-q")
    flags = broker.call(lambda: {n: q.durable for n, q in broker.broker.vhosts["/"].queues.items()})
    assert flags == {"durable-q": True, "transient-q": False}


def test_server_named_queues(ch: BlockingChannel) -> None:
    names = {ch.queue_declare("", exclusive=True).method.queue for _ in range(20)}
    assert len(names) == 20
    assert all(n.startswith("amq.gen-") and len(n) > len("amq.gen-") for n in names)
    some = next(iter(names))
    ch.queue_declare(some, passive=True)
    ch.queue_declare(some, exclusive=True)  # redeclaring the generated name is allowed
    ch.basic_publish("", some, b"x")
    assert drain(ch, some) == [b"x"]


def test_amq_prefix_queue_name_refused(conn: pika.BlockingConnection) -> None:
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"403.*ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix",
    ):
        conn.channel().queue_declare("amq.mine")


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({"durable": True}, {"durable": False}, "durable"),
        ({"auto_delete": True}, {"auto_delete": False}, "auto_delete"),
        ({"arguments": {"x-max-length": 10}}, {"arguments": {"x-max-length": 20}}, "x-max-length"),
        ({"arguments": {"x-message-ttl": 1000}}, {}, "x-message-ttl"),
        ({}, {"arguments": {"x-expires": 5000}}, "x-expires"),
    ],
)
def test_redeclare_with_other_arguments(
    conn: pika.BlockingConnection, first: dict[str, object], second: dict[str, object], field: str
) -> None:
    conn.channel().queue_declare("q", **first)
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=rf"406.*PRECONDITION_FAILED - inequivalent arg '{field}'",
    ):
        conn.channel().queue_declare("q", **second)
    conn.channel().queue_declare("q", **first)


def test_invalid_queue_argument(conn: pika.BlockingConnection) -> None:
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker, match=r"406.*invalid arg 'x-max-length'"
    ):
        conn.channel().queue_declare("q", arguments={"x-max-length": "lots"})
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*x-overflow"):
        conn.channel().queue_declare("q", arguments={"x-overflow": "explode"})


# -- exclusive ----------------------------------------------------------------------------------


def test_exclusive_queue_locked_to_its_connection(broker: BrokerThread) -> None:
    owner = pika_connect(broker)
    other = pika_connect(broker)
    try:
        och = owner.channel()
        och.queue_declare("excl", exclusive=True)
        owner.channel().queue_declare("excl", exclusive=True)  # another channel, same connection
        operations = [
            lambda c: c.queue_declare("excl", exclusive=True),
            lambda c: c.queue_declare("excl", passive=True),
            lambda c: c.basic_consume("excl", lambda *a: None),
            lambda c: c.basic_get("excl"),
            lambda c: c.queue_bind("excl", "amq.fanout"),
            lambda c: c.queue_purge("excl"),
            lambda c: c.queue_delete("excl"),
        ]
        for op in operations:
            with pytest.raises(
                pika.exceptions.ChannelClosedByBroker,
                match=r"405.*RESOURCE_LOCKED - cannot obtain exclusive access",
            ):
                op(other.channel())
        # Publishing to it from elsewhere is allowed.
        other.channel().basic_publish("", "excl", b"from-other")
        och.queue_declare("excl", passive=True)
        assert drain(och, "excl") == [b"from-other"]
    finally:
        owner.close()
        other.close()


async def test_exclusive_queue_locked_aio_pika(broker: BrokerThread) -> None:
    owner = await aio_pika.connect(broker.amqp_url)
    other = await aio_pika.connect(broker.amqp_url)
    async with owner, other:
        await (await owner.channel()).declare_queue("aio-excl", exclusive=True)
        ch = await other.channel()
        with pytest.raises(aiormq.exceptions.ChannelLockedResource, match="RESOURCE_LOCKED"):
            await ch.declare_queue("aio-excl", exclusive=True)


def test_exclusive_queue_deleted_when_owner_disconnects(broker: BrokerThread) -> None:
    owner = pika_connect(broker)
    owner.channel().queue_declare("excl", exclusive=True)
    owner.channel().queue_declare("excl-durable", exclusive=True, durable=True)
    assert queue_exists(broker, "excl")
    owner.close()
    wait_for(lambda: not queue_exists(broker, "excl") and not queue_exists(broker, "excl-durable"))
    conn = pika_connect(broker)
    conn.channel().queue_declare("excl", exclusive=True)  # the name is free again
    conn.close()


def test_exclusive_queue_survives_channel_close(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("excl", exclusive=True)
    ch.close()
    assert queue_exists(broker, "excl")
    conn.close()
    wait_for(lambda: not queue_exists(broker, "excl"))


# -- auto-delete ------------------------------------------------------------------------------------


def test_auto_delete_queue_goes_with_last_consumer(
    broker: BrokerThread, ch: BlockingChannel
) -> None:
    ch.queue_declare("ad", auto_delete=True)
    assert queue_exists(broker, "ad"), "no consumer yet: it stays"
    t1 = ch.basic_consume("ad", lambda *a: None)
    t2 = ch.basic_consume("ad", lambda *a: None)
    ch.basic_cancel(t1)
    assert queue_exists(broker, "ad")
    ch.basic_cancel(t2)
    wait_for(lambda: not queue_exists(broker, "ad"))


def test_auto_delete_queue_goes_when_consumer_channel_closes(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("ad", auto_delete=True)
    ch.basic_consume("ad", lambda *a: None)
    ch.close()
    wait_for(lambda: not queue_exists(broker, "ad"))


async def test_auto_delete_queue_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("aio-ad", auto_delete=True)
        tag = await q.consume(_noop)
        assert queue_exists(broker, "aio-ad")
        await q.cancel(tag)
        await async_wait_for(lambda: not queue_exists(broker, "aio-ad"))


# -- bind / unbind ------------------------------------------------------------------------------------


def test_bind_unbind(ch: BlockingChannel) -> None:
    ch.exchange_declare("x", "direct")
    ch.queue_declare("q")
    ch.queue_bind("q", "x", routing_key="k")
    ch.basic_publish("x", "k", b"1")
    ch.queue_unbind("q", "x", routing_key="k")
    ch.basic_publish("x", "k", b"2")
    ch.queue_unbind("q", "x", routing_key="never-bound")  # not an error
    assert drain(ch, "q") == [b"1"]


def test_bind_errors(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("q")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no exchange 'nox'"):
        ch.queue_bind("q", "nox")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no queue 'noq'"):
        conn.channel().queue_bind("noq", "amq.direct")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no queue 'noq'"):
        conn.channel().queue_unbind("noq", "amq.direct")


def test_empty_queue_name_means_last_declared(broker: BrokerThread) -> None:
    from pamqp import commands

    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="", exclusive=True))
        name = c.expect(commands.Queue.DeclareOk).queue
        c.send(1, commands.Queue.Bind(queue="", exchange="amq.fanout"))
        c.expect(commands.Queue.BindOk)
        c.publish(1, "amq.fanout", "", b"to-last")
        c.send(1, commands.Queue.Purge(queue=""))
        assert c.expect(commands.Queue.PurgeOk).message_count == 1
        c.send(1, commands.Queue.Delete(queue=""))
        c.expect(commands.Queue.DeleteOk)
    assert not queue_exists(broker, name)


# -- purge --------------------------------------------------------------------------------------------


def test_purge(ch: BlockingChannel) -> None:
    ch.queue_declare("p")
    for i in range(10):
        ch.basic_publish("", "p", str(i).encode())
    method, _, _ = ch.basic_get("p")  # one unacked: purge leaves it alone
    assert method is not None
    assert ch.queue_purge("p").method.message_count == 9
    assert ch.queue_declare("p", passive=True).method.message_count == 0
    ch.basic_nack(method.delivery_tag, requeue=True)
    assert drain(ch, "p") == [b"0"]
    assert ch.queue_purge("p").method.message_count == 0


async def test_purge_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("", exclusive=True)
        for i in range(3):
            await ch.default_exchange.publish(aio_pika.Message(str(i).encode()), q.name)
        ok = await q.purge()
        assert ok.message_count == 3


# -- delete -------------------------------------------------------------------------------------------


def test_delete_returns_message_count(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.queue_declare("del")
    ch.exchange_declare("x", "fanout")
    ch.queue_bind("del", "x")
    for _ in range(4):
        ch.basic_publish("", "del", b"m")
    assert ch.queue_delete("del").method.message_count == 4
    assert not queue_exists(broker, "del")
    assert ch.queue_delete("del").method.message_count == 0  # missing: not an error
    bindings = broker.call(lambda: broker.broker.vhosts["/"].exchanges["x"].binding_count)
    assert bindings == 0


def test_delete_if_unused(conn: pika.BlockingConnection, broker: BrokerThread) -> None:
    ch = conn.channel()
    ch.queue_declare("busy")
    tag = ch.basic_consume("busy", lambda *a: None)
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"406.*PRECONDITION_FAILED - queue 'busy' in vhost '/' in use",
    ):
        conn.channel().queue_delete("busy", if_unused=True)
    ch.basic_cancel(tag)
    conn.channel().queue_delete("busy", if_unused=True)
    assert not queue_exists(broker, "busy")


def test_delete_if_empty(conn: pika.BlockingConnection, broker: BrokerThread) -> None:
    ch = conn.channel()
    ch.queue_declare("full")
    ch.basic_publish("", "full", b"m")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*is not empty"):
        conn.channel().queue_delete("full", if_empty=True)
    ch = conn.channel()
    drain(ch, "full")
    ch.queue_delete("full", if_empty=True)
    assert not queue_exists(broker, "full")
    assert_broker_alive(broker)


async def test_delete_if_unused_aiormq(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    try:
        ch = await conn.channel()
        await ch.queue_declare("busy")
        await ch.basic_consume("busy", _noop_raw)
        ch2 = await conn.channel()
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed, match="in use"):
            await ch2.queue_delete("busy", if_unused=True)
        assert not conn.is_closed
    finally:
        await conn.close()


async def _noop(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    return None


async def _noop_raw(message: aiormq.abc.DeliveredMessage) -> None:
    return None
