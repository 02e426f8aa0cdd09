"""First end-to-end checks with pika (blocking) and aio-pika against the in-process broker."""

from __future__ import annotations

import aio_pika
import pika

from tests.broker_thread import BrokerThread


def test_pika_publish_get_consume(broker: BrokerThread) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    ch = conn.channel()
    ch.queue_declare("smoke")
    for i in range(10):
        ch.basic_publish("", "smoke", f"m{i}".encode())
    assert ch.queue_declare("smoke", passive=True).method.message_count == 10
    method, _, body = ch.basic_get("smoke", auto_ack=True)
    assert body == b"m0"
    got = []
    for method, _, body in ch.consume("smoke", inactivity_timeout=1):
        if method is None:
            break
        got.append(body)
        ch.basic_ack(method.delivery_tag)
    assert got == [f"m{i}".encode() for i in range(1, 10)]
    conn.close()


async def test_aio_pika_round_trip(broker: BrokerThread) -> None:
    conn = await aio_pika.connect_robust(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue("", exclusive=True)
        await ch.default_exchange.publish(aio_pika.Message(b"hi", headers={"a": 1}), q.name)
        msg = await q.get(timeout=5)
        assert msg.body == b"hi"
        assert msg.headers == {"a": 1}
        await msg.ack()
