"""Dynamic shovels between two in-process brokers (A and B)."""

from __future__ import annotations

from typing import Any

import pytest

from lavinmq.client import BasicProperties, Message, connect
from tests.broker_thread import BrokerThread
from tests.shovel.helpers import Api, drain, publish, wait_for

Pair = tuple[BrokerThread, BrokerThread]


def shovel(src: str, dest: str, **extra: object) -> dict[str, object]:
    return {
        "src-uri": src,
        "src-queue": "src",
        "dest-uri": dest,
        "dest-queue": "dst",
        "reconnect-delay": 0.2,
        **extra,
    }


async def running(api: Api, name: str, vhost: str = "%2f") -> dict[str, Any]:
    async def state() -> dict[str, Any] | None:
        status, row = await api.request("GET", f"/api/shovels/{vhost}/{name}")
        return row if status == 200 and row["state"] == "running" else None

    row: dict[str, Any] = await wait_for(state, what=f"shovel {name} running")
    return row


@pytest.mark.parametrize("ack_mode", ["on-confirm", "on-publish", "no-ack"])
async def test_queue_to_queue_across_brokers(pair: Pair, ack_mode: str) -> None:
    a, b = pair
    await publish(
        a.amqp_url, [b"m%d" % i for i in range(50)], routing_key="src", declare_queue="src"
    )
    api = Api(b)
    await api.put_parameter("shovel", "s1", shovel(a.amqp_url, "amqp://", **{"ack-mode": ack_mode}))
    row = await running(api, "s1")
    assert (
        row["ack_mode"] == ack_mode
        and row["src_queue"] == "src"
        and "guest:guest" not in row["src_uri"]
    )
    got = await drain(b.amqp_url, "dst", 50)
    assert got == [b"m%d" % i for i in range(50)]
    assert await Api(a).queue_length("src") == 0


async def test_exchange_to_exchange_and_prefetch(pair: Pair) -> None:
    a, b = pair

    async with connect(b.amqp_url) as conn:
        ch = await conn.channel()
        await ch.queue_declare("dst", durable=True)
        await ch.queue_bind("dst", "amq.topic", "fwd.#")
    api = Api(a)
    await api.put_parameter(
        "shovel",
        "x",
        {
            "src-uri": "amqp://",
            "src-exchange": "amq.direct",
            "src-exchange-key": "k",
            "src-prefetch-count": 5,
            "dest-uri": b.amqp_url,
            "dest-exchange": "amq.topic",
            "dest-exchange-key": "fwd.k",
            "dest-add-forward-headers": True,
        },
    )
    row = await running(api, "x")
    assert row["src_exchange"] == "amq.direct" and row["src_exchange_key"] == "k"
    consumers = await api.get("/api/consumers")
    assert [c["prefetch_count"] for c in consumers] == [5]
    await publish(
        a.amqp_url, [b"e%d" % i for i in range(20)], exchange="amq.direct", routing_key="k"
    )
    assert await drain(b.amqp_url, "dst", 20) == [b"e%d" % i for i in range(20)]


async def test_delete_after_queue_length(pair: Pair) -> None:
    a, b = pair
    await publish(
        a.amqp_url, [b"d%d" % i for i in range(30)], routing_key="src", declare_queue="src"
    )
    api = Api(a)
    await api.put_parameter(
        "shovel", "once", shovel("amqp://", b.amqp_url, **{"src-delete-after": "queue-length"})
    )

    async def gone() -> bool:
        status, _ = await api.request("GET", "/api/parameters/shovel/%2f/once")
        return status == 404

    await wait_for(gone, what="the shovel deleting its own parameter")
    await publish(a.amqp_url, [b"later"], routing_key="src")
    assert await drain(b.amqp_url, "dst", 31, within=1.0) == [b"d%d" % i for i in range(30)]
    assert await api.get("/api/shovels") == []
    assert await api.queue_length("src") == 1


async def test_status_restart_and_delete(pair: Pair) -> None:
    a, b = pair
    api = Api(b)
    status, body = await api.request(
        "PUT",
        "/api/parameters/shovel/%2f/bad",
        {"value": {"src-uri": a.amqp_url, "dest-uri": "amqp://"}},
    )
    assert status == 400 and "requires a queue or an exchange" in body["reason"]
    await api.put_parameter("shovel", "s", shovel(a.amqp_url, "amqp://"))
    await running(api, "s")
    rows = {r["name"]: r for r in await api.get("/api/shovels")}
    assert rows["s"]["vhost"] == "/" and rows["s"]["type"] == "dynamic"
    assert [r["name"] for r in await api.get("/api/shovels/%2f")] == ["s"]
    status, _ = await api.request("DELETE", "/api/shovels/vhost/%2f/s/restart")
    assert status == 204
    await running(api, "s")
    status, _ = await api.request("DELETE", "/api/shovels/vhost/%2f/nope/restart")
    assert status == 404
    await api.delete_parameter("shovel", "s")
    await wait_for(
        lambda: a.call(lambda: not a.broker.vhosts["/"].queues["src"].consumers),
        what="the source consumer gone",
    )
    assert await api.get("/api/shovels") == []


async def test_unreachable_source_backs_off_then_connects(pair: Pair) -> None:
    a, b = pair
    api = Api(b)
    port = a.amqp_port
    a.stop()
    await api.put_parameter(
        "shovel", "s", shovel(f"amqp://guest:guest@127.0.0.1:{port}/%2f", "amqp://")
    )

    async def failed() -> bool:
        row = (await api.get("/api/shovels"))[0]
        return row["state"] == "terminated" and "cannot connect" in (row["error"] or "")

    await wait_for(failed, what="the shovel reporting the connection error")
    a.config.amqp_port, a.config.http_port = port, a.config.http_port
    a.start()
    await publish(a.amqp_url, [b"late"], routing_key="src", declare_queue="src")
    await running(api, "s")
    assert await drain(b.amqp_url, "dst", 1) == [b"late"]


async def test_delete_after_count_and_user_id(pair: Pair) -> None:
    a, b = pair
    async with connect(a.amqp_url) as conn:
        ch = await conn.channel()
        await ch.queue_declare("src", durable=True)
        for i in range(10):
            ch.basic_publish(b"u%d" % i, "", "src", BasicProperties(user_id="guest"))
        await ch.queue_declare("src2", durable=True)
        ch.basic_publish(b"kept", "", "src2", BasicProperties(user_id="guest"))
    api = Api(b)
    # into B as the direct user: user_id "guest" would be refused, so it is dropped
    await api.put_parameter("shovel", "n", shovel(a.amqp_url, "amqp://", **{"src-delete-after": 4}))
    await api.put_parameter(
        "shovel", "g", {**shovel(a.amqp_url, b.amqp_url), "src-queue": "src2", "dest-queue": "dst2"}
    )
    await wait_for(
        lambda: b.call(lambda: ("shovel", "n") not in b.broker.vhosts["/"].parameters.parameters),
        what="the count shovel finishing",
    )
    assert await Api(a).queue_length("src") == 6
    async with connect(b.amqp_url) as conn:
        ch = await conn.channel()
        got: list[Message] = []
        while len(got) < 4:
            msg = await ch.basic_get("dst", no_ack=True)
            if msg is not None:
                got.append(msg)
        assert [m.body for m in got] == [b"u0", b"u1", b"u2", b"u3"]
        assert got[0].properties.user_id is None
        kept = None
        while kept is None:
            kept = await ch.basic_get("dst2", no_ack=True)
        assert kept.properties.user_id == "guest"  # B's login is guest too: kept


async def test_defined_by_definitions_import(pair: Pair) -> None:
    a, b = pair
    api = Api(b)
    value = shovel(a.amqp_url, "amqp://")
    definitions = {
        "parameters": [{"vhost": "/", "component": "shovel", "name": "imp", "value": value}]
    }
    status, body = await api.request("POST", "/api/definitions", definitions)
    assert status in (200, 201, 204), body
    await running(api, "imp")
    exported = await api.get("/api/definitions")
    assert [p["name"] for p in exported["parameters"] if p["component"] == "shovel"] == ["imp"]
    await publish(a.amqp_url, [b"via import"], routing_key="src", declare_queue="src")
    assert await drain(b.amqp_url, "dst", 1) == [b"via import"]


async def test_pause_and_resume(pair: Pair) -> None:
    a, b = pair
    api = Api(b)
    await publish(a.amqp_url, [b"before"], routing_key="src", declare_queue="src")
    await api.put_parameter("shovel", "p", shovel(a.amqp_url, "amqp://"))
    await running(api, "p")
    assert await drain(b.amqp_url, "dst", 1) == [b"before"]
    status, _ = await api.request("PUT", "/api/shovels/%2f/p/pause")
    assert status == 204
    assert (await api.get("/api/shovels/%2f/p"))["state"] == "paused"
    await wait_for(
        lambda: a.call(lambda: not a.broker.vhosts["/"].queues["src"].consumers),
        what="the paused shovel's consumer gone",
    )
    await publish(a.amqp_url, [b"held"], routing_key="src")
    assert (await api.request("PUT", "/api/shovels/%2f/p/pause"))[0] == 422
    assert (await api.request("PUT", "/api/shovels/%2f/nope/pause"))[0] == 404
    b.restart()  # still paused after a restart; the message waits at the source
    assert (await api.get("/api/shovels/%2f/p"))["state"] == "paused"
    assert await api_queue_ready(a, "src") == 1
    status, _ = await api.request("PUT", "/api/shovels/%2f/p/resume")
    assert status == 204
    await running(api, "p")
    assert await drain(b.amqp_url, "dst", 1) == [b"held"]
    assert (await api.request("PUT", "/api/shovels/%2f/p/resume"))[0] == 422


async def api_queue_ready(broker: BrokerThread, queue: str) -> int:
    return int(broker.call(lambda: broker.broker.vhosts["/"].queues[queue].store.ready))
