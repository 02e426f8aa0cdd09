"""Shovels lose nothing when either broker restarts or a link drops (ack-mode on-confirm).

Delivery is at-least-once: a message may arrive twice, so the checks compare sets.
"""

from __future__ import annotations

import asyncio
import functools

from tests.broker_thread import BrokerThread
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


def definition(src: str, dest: str) -> dict[str, object]:
    return {
        "src-uri": src,
        "src-queue": "src",
        "dest-uri": dest,
        "dest-queue": "dst",
        "reconnect-delay": 0.1,
        "src-prefetch-count": 50,
    }


async def test_destination_restart(pair: Pair) -> None:
    a, b = pair
    await Api(a).put_parameter("shovel", "s", definition("amqp://", b.amqp_url))
    first, second = bodies("a", 200), bodies("b", 200)
    await publish(a.amqp_url, first, routing_key="src", declare_queue="src")
    assert set(first) <= await collect(b.amqp_url, "dst", set(first))
    ports = restart_later(b)
    await publish(a.amqp_url, second, routing_key="src")  # B is down: kept at A
    start_again(b, ports)
    assert set(second) <= await collect(b.amqp_url, "dst", set(second))


async def test_source_restart_mid_transfer(pair: Pair) -> None:
    a, b = pair
    await Api(b).put_parameter("shovel", "s", definition(a.amqp_url, "amqp://"))
    sent = bodies("m", 2000)
    await publish(a.amqp_url, sent, routing_key="src", declare_queue="src")
    a.restart()
    assert set(sent) <= await collect(b.amqp_url, "dst", set(sent))


async def test_shovel_broker_restart_mid_transfer(pair: Pair) -> None:
    a, b = pair
    await Api(b).put_parameter("shovel", "s", definition(a.amqp_url, "amqp://"))
    sent = bodies("m", 2000)
    await publish(a.amqp_url, sent, routing_key="src", declare_queue="src")
    b.restart()  # the parameter is on disk: the shovel starts again at boot
    assert set(sent) <= await collect(b.amqp_url, "dst", set(sent))
    rows = await Api(b).get("/api/shovels")
    assert [(r["name"], r["state"]) for r in rows] == [("s", "running")]


async def test_link_drops_lose_nothing(pair: Pair) -> None:
    a, b = pair
    await Api(b).put_parameter("shovel", "s", definition(a.amqp_url, "amqp://"))
    sent = bodies("m", 3000)

    async def produce() -> None:
        for i in range(0, len(sent), 300):
            await publish(a.amqp_url, sent[i : i + 300], routing_key="src", declare_queue="src")
            await asyncio.sleep(0.05)

    producer = asyncio.ensure_future(produce())
    drops = 0
    for api in (Api(a), Api(b), Api(a), Api(b)):  # source side, destination side, again
        await wait_for(functools.partial(api.close_connections, "Shovel s"), what="a connection")
        drops += 1
        await asyncio.sleep(0.15)
    await producer
    assert drops == 4
    assert set(sent) <= await collect(b.amqp_url, "dst", set(sent))
