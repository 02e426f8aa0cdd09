"""Publisher confirms (Confirm.Select, acks, multiple) and transactions (Tx.Select,
Commit, Rollback: publishes and acks held until commit, rollback discards)."""

from __future__ import annotations

import asyncio

import aio_pika
import aiormq
import aiormq.exceptions
import pika
import pika.exceptions
import pytest
from pamqp import commands, header
from pamqp.body import ContentBody
from pika.adapters.blocking_connection import BlockingChannel

from tests.broker_thread import BrokerThread
from tests.integration.helpers import RawClient, drain, queue_state, wait_for

# -- publisher confirms -------------------------------------------------------------------------


def _acked_tags(c: RawClient, count: int, confirmed: int = 0) -> list[tuple[int, bool]]:
    """Read Basic.Ack frames until every tag up to ``count`` is confirmed."""
    acks: list[tuple[int, bool]] = []
    while confirmed < count:
        ack = c.expect(commands.Basic.Ack, channel=1)
        assert ack.delivery_tag > confirmed, "acks arrive in order, never twice"
        if not ack.multiple:
            assert ack.delivery_tag == confirmed + 1, "a single ack must not skip a tag"
        acks.append((ack.delivery_tag, ack.multiple))
        confirmed = ack.delivery_tag
    return acks


def test_confirm_select_and_acks(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Confirm.Select())
        c.expect(commands.Confirm.SelectOk)
        c.send(1, commands.Queue.Declare(queue="cq", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        c.publish(1, "", "cq", b"one")
        assert _acked_tags(c, 1) == [(1, False)]
        c.publish(1, "", "cq", b"two")
        assert _acked_tags(c, 2, confirmed=1) == [(2, False)]


def test_confirm_multiple_for_pipelined_publishes(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(
            1,
            commands.Confirm.Select(nowait=True),
            commands.Queue.Declare(queue="cq", exclusive=True),
        )
        c.expect(commands.Queue.DeclareOk)  # no Select-Ok with nowait
        frames = []
        for i in range(50):
            frames += [
                commands.Basic.Publish(routing_key="cq"),
                header.ContentHeader(0, 1, commands.Basic.Properties()),
                ContentBody(bytes([i])),
            ]
        c.send(1, *frames)
        acks = _acked_tags(c, 50)
        assert acks[-1][0] == 50
        assert any(multiple for _, multiple in acks), "a burst is confirmed with multiple=True"
        assert len(acks) < 50
    wait_for(lambda: not broker.call(lambda: broker.broker.connections))


def test_confirms_with_pika(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.confirm_delivery()
    ch.queue_declare("pc", durable=True)
    for i in range(20):
        ch.basic_publish(
            "", "pc", str(i).encode(), pika.BasicProperties(delivery_mode=2 if i % 2 else 1)
        )
    assert queue_state(broker, "pc")[0] == 20


def test_confirm_unroutable_mandatory_is_returned_then_acked(
    ch: BlockingChannel,
) -> None:
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        ch.basic_publish("amq.direct", "nobody", b"x", mandatory=True)
    ch.basic_publish("amq.direct", "nobody", b"not mandatory: just acked")


def test_confirm_return_before_ack(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Confirm.Select())
        c.expect(commands.Confirm.SelectOk)
        c.send(
            1,
            commands.Basic.Publish(exchange="amq.direct", routing_key="none", mandatory=True),
            header.ContentHeader(0, 0, commands.Basic.Properties()),
        )
        ret = c.expect(commands.Basic.Return)
        assert ret.reply_code == 312
        c.recv_frame()  # the returned message's content header
        ack = c.expect(commands.Basic.Ack)
        assert ack.delivery_tag == 1


async def test_confirms_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel(publisher_confirms=True)
        q = await ch.declare_queue("aio-c", durable=True)
        results = await asyncio.gather(
            *(
                ch.default_exchange.publish(
                    aio_pika.Message(
                        str(i).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                    ),
                    q.name,
                )
                for i in range(500)
            )
        )
        assert all(isinstance(r, aiormq.spec.Basic.Ack) for r in results)
        assert queue_state(broker, "aio-c")[0] == 500


async def test_confirms_aiormq_delivery_tags(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    try:
        ch = await conn.channel(publisher_confirms=True)
        await ch.queue_declare("aiormq-c", exclusive=True)
        confirmations = await asyncio.gather(
            *(ch.basic_publish(b"x", routing_key="aiormq-c") for _ in range(100))
        )
        assert all(isinstance(c, aiormq.spec.Basic.Ack) for c in confirmations)
    finally:
        await conn.close()


def test_confirm_select_on_tx_channel(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.tx_select()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*tx"):
        ch.confirm_delivery()


def test_tx_select_on_confirm_channel(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*confirm"):
        ch.tx_select()


# -- transactions -------------------------------------------------------------------------------


def test_tx_publishes_held_until_commit(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("tq")
    ch.tx_select()
    for i in range(3):
        ch.basic_publish("", "tq", str(i).encode())
    ch.queue_declare("tq", passive=True)  # a round trip: the publishes have arrived
    assert queue_state(broker, "tq")[0] == 0
    ch.tx_commit()
    assert queue_state(broker, "tq")[0] == 3
    assert drain(conn.channel(), "tq") == [b"0", b"1", b"2"]


def test_tx_rollback_discards_publishes(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.queue_declare("tq")
    ch.tx_select()
    ch.basic_publish("", "tq", b"discarded")
    ch.tx_rollback()
    ch.basic_publish("", "tq", b"kept")
    ch.tx_commit()
    assert drain(ch, "tq") == [b"kept"]


def test_tx_commit_to_many_queues(ch: BlockingChannel) -> None:
    ch.exchange_declare("fan", "fanout")
    for q in ("a", "b"):
        ch.queue_declare(q)
        ch.queue_bind(q, "fan")
    ch.tx_select()
    ch.basic_publish("fan", "", b"both")
    ch.tx_commit()
    assert drain(ch, "a") == [b"both"]
    assert drain(ch, "b") == [b"both"]


def test_tx_acks_held_until_commit(broker: BrokerThread, conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.queue_declare("ta")
    for i in range(3):
        ch.basic_publish("", "ta", str(i).encode())
    ch.tx_select()
    tags = [ch.basic_get("ta")[0].delivery_tag for _ in range(3)]
    ch.basic_ack(tags[0])
    ch.basic_nack(tags[1], requeue=True)
    ch.basic_reject(tags[2], requeue=False)
    ch.queue_declare("ta", passive=True)
    assert queue_state(broker, "ta") == (0, 3, 0), "nothing settled before commit"
    ch.tx_commit()
    assert queue_state(broker, "ta") == (1, 0, 0)
    method, _, body = ch.basic_get("ta", auto_ack=True)
    assert (body, method.redelivered) == (b"1", True)


def test_tx_rollback_keeps_messages_unacked(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("tr")
    ch.basic_publish("", "tr", b"x")
    ch.tx_select()
    method, _, _ = ch.basic_get("tr")
    ch.basic_ack(method.delivery_tag)
    ch.tx_rollback()
    assert queue_state(broker, "tr") == (0, 1, 0)
    ch.basic_ack(method.delivery_tag)  # still ackable after the rollback
    ch.tx_commit()
    assert queue_state(broker, "tr") == (0, 0, 0)


def test_tx_uncommitted_work_dropped_on_close(
    broker: BrokerThread, conn: pika.BlockingConnection
) -> None:
    ch = conn.channel()
    ch.queue_declare("tc")
    ch.basic_publish("", "tc", b"acked-in-tx")
    ch.tx_select()
    method, _, _ = ch.basic_get("tc")
    ch.basic_ack(method.delivery_tag)
    ch.basic_publish("", "tc", b"never-committed")
    ch.close()
    wait_for(lambda: queue_state(broker, "tc") == (1, 0, 0))
    method, _, body = conn.channel().basic_get("tc", auto_ack=True)
    assert (body, method.redelivered) == (b"acked-in-tx", True)


@pytest.mark.parametrize("op", ["tx_commit", "tx_rollback"])
def test_tx_commit_rollback_without_select(conn: pika.BlockingConnection, op: str) -> None:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*not transactional"):
        getattr(conn.channel(), op)()


def test_tx_publish_to_missing_exchange(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.tx_select()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no exchange 'ghost'"):
        ch.basic_publish("ghost", "", b"x")
        ch.tx_commit()


async def test_tx_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel(publisher_confirms=False)
        q = await ch.declare_queue("aio-tx")
        async with ch.transaction():
            await ch.default_exchange.publish(aio_pika.Message(b"committed"), q.name)
            assert queue_state(broker, "aio-tx")[0] == 0
        assert queue_state(broker, "aio-tx")[0] == 1
        tx = ch.transaction()
        await tx.select()
        await ch.default_exchange.publish(aio_pika.Message(b"rolled back"), q.name)
        await tx.rollback()
        assert queue_state(broker, "aio-tx")[0] == 1
