"""Queue federation: a local queue pulls from the upstream queue when its consumers idle."""

from __future__ import annotations

import asyncio

from lavinmq.client import connect
from tests.broker_thread import BrokerThread
from tests.federation.helpers import federate, links_running
from tests.shovel.helpers import Api, publish, wait_for

Pair = tuple[BrokerThread, BrokerThread]


async def test_consumes_upstream_only_with_local_demand(pair: Pair) -> None:
    a, b = pair
    await publish(
        a.amqp_url, [b"w%d" % i for i in range(20)], routing_key="work", declare_queue="work"
    )
    async with connect(b.amqp_url) as conn:
        ch = await conn.channel()
        await ch.queue_declare("work", durable=True)
        api = await federate(b, a.amqp_url, "^work$", apply_to="queues")
        [link] = await links_running(api)
        assert (
            link["type"] == "queue" and link["queue"] == "work" and link["upstream_queue"] == "work"
        )
        await asyncio.sleep(0.3)
        assert await Api(a).queue_length("work") == 20  # no local consumer: nothing moves
        await ch.basic_qos(5)
        got: list[bytes] = []
        async with ch.consume_iter("work") as messages:
            async for msg in messages:
                got.append(msg.body)
                msg.ack()
                if len(got) == 20:
                    break
        assert sorted(got) == sorted(b"w%d" % i for i in range(20))
        hop = msg.properties.headers["x-received-from"][0]  # type: ignore[index]
        assert hop["queue"] == "work"
    assert await Api(a).queue_length("work") == 0
    await wait_for(  # the link notices (it polls) that the local consumer left
        lambda: a.call(lambda: not a.broker.vhosts["/"].queues["work"].consumers),
        what="the upstream consumer cancelled",
    )
    await publish(a.amqp_url, [b"later"], routing_key="work")
    await asyncio.sleep(0.3)  # no local consumer: the message stays upstream
    assert await Api(a).queue_length("work") == 1
    assert await Api(b).queue_length("work") == 0


async def test_local_messages_first(pair: Pair) -> None:
    a, b = pair
    await publish(a.amqp_url, [b"remote"], routing_key="work", declare_queue="work")
    await publish(
        b.amqp_url, [b"local%d" % i for i in range(3)], routing_key="work", declare_queue="work"
    )
    api = await federate(b, a.amqp_url, "^work$", apply_to="queues")
    await links_running(api)
    async with connect(b.amqp_url) as conn:
        ch = await conn.channel()
        await ch.basic_qos(1)
        got = []
        async with ch.consume_iter("work") as messages:
            async for msg in messages:
                got.append(msg.body)
                msg.ack()
                if len(got) == 4:
                    break
    assert got == [b"local0", b"local1", b"local2", b"remote"]
    assert await Api(a).queue_length("work") == 0
