"""Federation links lose nothing when either broker restarts or a link drops
(ack-mode on-confirm; delivery is at-least-once, so the checks compare sets)."""

from __future__ import annotations

import asyncio
import functools
import time

from lavinmq.client import connect
from tests.broker_thread import BrokerThread
from tests.federation.helpers import federate, links_running, setup_exchange
from tests.shovel.helpers import (
    Api,
    collect,
    publish,
    restart_later,
    start_again,
    wait_for,
)

Pair = tuple[BrokerThread, BrokerThread]


def bodies(prefix: str, n: int) -> list[bytes]:
    return [f"{prefix}{i}".encode() for i in range(n)]


async def linked(a: BrokerThread, b: BrokerThread) -> Api:
    """B's exchange fx federates from A's; returns B's API once the binding is upstream."""
    await setup_exchange(b.amqp_url, "fx", "q", "#")
    api = await federate(b, a.amqp_url, "^fx$", settings={"prefetch-count": 50})
    await links_running(api)
    await wait_for(
        lambda: a.call(lambda: a.broker.vhosts["/"].exchanges["fx"].binding_count == 1),
        what="the upstream binding",
    )
    return api


async def test_downstream_restart(pair: Pair) -> None:
    a, b = pair
    await linked(a, b)
    first, second = bodies("a", 200), bodies("b", 200)
    await publish(a.amqp_url, first, exchange="fx", routing_key="k")
    assert set(first) <= await collect(b.amqp_url, "q", set(first))
    ports = restart_later(b)
    await publish(a.amqp_url, second, exchange="fx", routing_key="k")  # kept upstream meanwhile
    start_again(b, ports)
    assert set(second) <= await collect(b.amqp_url, "q", set(second))
    assert [r["status"] for r in await Api(b).get("/api/federation-links")] == ["running"]


async def test_upstream_restart_mid_flow(pair: Pair) -> None:
    a, b = pair
    await linked(a, b)
    sent = bodies("m", 2000)
    await publish(a.amqp_url, sent, exchange="fx", routing_key="k")
    a.restart()
    assert set(sent) <= await collect(b.amqp_url, "q", set(sent))


async def test_link_drops_lose_nothing(pair: Pair) -> None:
    a, b = pair
    await linked(a, b)
    sent = bodies("m", 3000)

    async def produce() -> None:
        for i in range(0, len(sent), 300):
            await publish(a.amqp_url, sent[i : i + 300], exchange="fx", routing_key="k")
            await asyncio.sleep(0.05)

    producer = asyncio.ensure_future(produce())
    for api in (Api(a), Api(b), Api(a)):  # the upstream side, the local side, again
        await wait_for(functools.partial(api.close_connections, "Federation link"))
        await asyncio.sleep(0.15)
    await producer
    assert set(sent) <= await collect(b.amqp_url, "q", set(sent))


async def test_queue_federation_upstream_restart(pair: Pair) -> None:
    a, b = pair
    sent = bodies("w", 1000)
    await publish(a.amqp_url, sent, routing_key="work", declare_queue="work")
    got: set[bytes] = set()
    async with connect(b.amqp_url) as conn:
        ch = await conn.channel()
        await ch.queue_declare("work", durable=True)
        await ch.basic_qos(20)
        await links_running(await federate(b, a.amqp_url, "^work$", apply_to="queues"))
        restarted = False
        async with ch.consume_iter("work") as messages:
            deadline = time.monotonic() + 20
            while not set(sent) <= got and time.monotonic() < deadline:
                msg = await asyncio.wait_for(messages.__anext__(), 10)
                got.add(msg.body)
                msg.ack()
                if len(got) == 100 and not restarted:
                    restarted = True
                    await asyncio.to_thread(a.restart)
    assert restarted and set(sent) <= got
