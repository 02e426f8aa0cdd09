"""Exchange federation between in-process brokers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from lavinmq.client import connect
from tests.broker_thread import BrokerThread
from tests.federation.helpers import federate, links_running, setup_exchange, upstream_queue
from tests.shovel.helpers import Api, drain, publish, wait_for

Pair = tuple[BrokerThread, BrokerThread]


def binding_count(bt: BrokerThread, expected: int) -> bool:
    return bt.call(lambda: bt.broker.vhosts["/"].exchanges["fx"].binding_count == expected)


async def test_messages_follow_bindings(pair: Pair) -> None:
    a, b = pair
    await setup_exchange(b.amqp_url, "fx", "q", "k.#")
    api = await federate(b, a.amqp_url, "^fx$")
    [link] = await links_running(api)
    assert link["type"] == "exchange" and link["exchange"] == "fx" and link["upstream"] == "up"
    assert link["upstream_exchange"] == "fx" and "guest" not in link["uri"]
    assert len(upstream_queue(a)) == 1  # the link's queue on the upstream
    await wait_for(lambda: a.call(lambda: a.broker.vhosts["/"].exchanges["fx"].binding_count == 1))
    await publish(a.amqp_url, [b"one", b"two"], exchange="fx", routing_key="k.1")
    await publish(a.amqp_url, [b"nobody"], exchange="fx", routing_key="other")
    async with connect(b.amqp_url) as conn:
        ch = await conn.channel()
        msg = None
        while msg is None:
            msg = await ch.basic_get("q", no_ack=True)
        assert msg.body == b"one" and msg.routing_key == "k.1"
        [hop] = msg.properties.headers["x-received-from"]  # type: ignore[index]
        assert hop["exchange"] == "fx" and hop["cluster-name"] == a.call(
            lambda: a.broker.cluster_name
        )
        # a new binding downstream is mirrored upstream, a removed one is removed
        await ch.queue_declare("q2", durable=True)
        await ch.queue_bind("q2", "fx", "z")
        await ch.queue_unbind("q", "fx", "k.#")
    await wait_for(
        lambda: a.call(
            lambda: [rk for _, rk, _ in a.broker.vhosts["/"].exchanges["fx"].bindings()] == ["z"]
        ),
        what="the upstream bindings following the downstream ones",
    )
    await publish(a.amqp_url, [b"zed"], exchange="fx", routing_key="z")
    assert await drain(b.amqp_url, "q2", 1) == [b"zed"]
    assert await drain(b.amqp_url, "q", 2, within=0.5) == [b"two"]


async def test_two_way_federation_does_not_loop(pair: Pair) -> None:
    a, b = pair
    for bt in (a, b):
        await setup_exchange(bt.amqp_url, "fx", "q", "#")
    api_b = await federate(b, a.amqp_url, "^fx$", settings={"max-hops": 2})
    api_a = await federate(a, b.amqp_url, "^fx$", settings={"max-hops": 2})
    await links_running(api_a)
    await links_running(api_b)
    for bt in (a, b):
        await wait_for(functools.partial(binding_count, bt, 2))
    await publish(a.amqp_url, [b"ping"], exchange="fx", routing_key="x")
    assert await drain(b.amqp_url, "q", 1) == [b"ping"]  # federated once
    assert await drain(a.amqp_url, "q", 1) == [b"ping"]  # the local copy
    await asyncio.sleep(0.5)  # time for a loop to show up, if there were one
    assert await drain(a.amqp_url, "q", 1, within=0.3) == []
    assert await drain(b.amqp_url, "q", 1, within=0.3) == []


async def test_max_hops_in_a_chain(brokers: Callable[[], BrokerThread]) -> None:
    a, b, c = brokers(), brokers(), brokers()
    for bt in (b, c):
        await setup_exchange(bt.amqp_url, "fx", "q", "#")
    await links_running(await federate(b, a.amqp_url, "^fx$"))  # max-hops 1 (default)
    await links_running(await federate(c, b.amqp_url, "^fx$"))
    await wait_for(
        lambda: a.call(
            lambda: (
                a.broker.vhosts["/"].exchanges.get("fx") is not None
                and a.broker.vhosts["/"].exchanges["fx"].binding_count == 1
            )
        )
    )
    await wait_for(lambda: b.call(lambda: b.broker.vhosts["/"].exchanges["fx"].binding_count == 2))
    await publish(a.amqp_url, [b"hop"], exchange="fx", routing_key="x")
    assert await drain(b.amqp_url, "q", 1) == [b"hop"]
    assert await drain(c.amqp_url, "q", 1, within=0.5) == []  # a second hop is one too many
    await publish(b.amqp_url, [b"local"], exchange="fx", routing_key="x")
    assert await drain(c.amqp_url, "q", 1) == [b"local"]


async def test_upstream_set_and_removal_cleans_up(pair: Pair) -> None:
    a, b = pair
    await setup_exchange(b.amqp_url, "fx", "q", "#")
    api = Api(b)
    await api.put_parameter("federation-upstream", "a", {"uri": a.amqp_url, "reconnect-delay": 0.1})
    await api.put_parameter("federation-upstream-set", "s", [{"upstream": "a", "max-hops": 3}])
    await api.put_policy("fed", "^fx$", {"federation-upstream-set": "s"}, "exchanges")
    [link] = await links_running(api)
    assert [r["upstream"] for r in await api.get("/api/federation-links/%2f")] == ["a"]
    status, _ = await api.request(
        "DELETE", f"/api/federation-links/vhost/%2f/{link['id']}/node/restart"
    )
    assert status == 204
    await links_running(api)
    await api.request("DELETE", "/api/policies/%2f/fed")
    await wait_for(lambda: not upstream_queue(a), what="the upstream queue deleted with the link")
    assert await api.get("/api/federation-links") == []
