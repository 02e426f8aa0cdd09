"""Vhosts, exchanges, queues, bindings, publish, get and purge through the API."""

from __future__ import annotations

import base64

from lavinmq.broker.broker import Broker
from tests.http.conftest import Client


async def test_vhost_lifecycle(api: Client, core: Broker) -> None:
    r = await api.put("/api/vhosts/v1", json={"description": "test", "tags": "a,b"})
    assert r.status == 201
    assert (await api.put("/api/vhosts/v1", json={})).status == 204
    body = await (await api.get("/api/vhosts/v1")).json()
    assert body["description"] == "test" and body["tags"] == ["a", "b"]
    assert "guest" in [
        p["user"] for p in await (await api.get("/api/vhosts/v1/permissions")).json()
    ]
    names = [v["name"] for v in await (await api.get("/api/vhosts")).json()]
    assert names == ["/", "v1"]
    assert (await api.get("/api/vhosts/v1/connections")).status == 200
    assert (await api.get("/api/vhosts/v1/channels")).status == 200
    assert (await api.delete("/api/vhosts/v1")).status == 204
    assert (await api.delete("/api/vhosts/v1")).status == 404
    assert (await api.get("/api/vhosts/v1")).status == 404
    assert (await api.put("/api/vhosts/bad%0Aname", json={})).status == 400
    assert "v1" not in core.vhosts


async def test_exchange_lifecycle(api: Client, core: Broker) -> None:
    r = await api.put("/api/exchanges/%2F/e1", json={"type": "topic", "durable": True})
    assert r.status == 201
    assert (
        await api.put("/api/exchanges/%2F/e1", json={"type": "topic", "durable": True})
    ).status == 204
    r = await api.put("/api/exchanges/%2F/e1", json={"type": "fanout", "durable": True})
    assert r.status == 400 and "inequivalent" in (await r.json())["reason"]
    assert (await api.put("/api/exchanges/%2F/e2", json={})).status == 400
    assert (await api.put("/api/exchanges/%2F/e2", json={"type": "nope"})).status == 400
    assert (await api.put("/api/exchanges/%2F/amq.x", json={"type": "direct"})).status == 403
    assert (await api.put("/api/exchanges/%2F/amq.default", json={"type": "direct"})).status == 403
    ex = await (await api.get("/api/exchanges/%2F/e1")).json()
    assert ex["type"] == "topic" and ex["durable"] is True
    assert ex["message_stats"]["publish_in_details"]["rate"] == 0.0
    assert (await api.get("/api/exchanges/%2F/amq.default")).status == 200
    assert len(await (await api.get("/api/exchanges/%2F")).json()) == 7
    assert len(await (await api.get("/api/exchanges")).json()) == 7
    assert (await api.delete("/api/exchanges/%2F/amq.direct")).status == 403
    assert (await api.delete("/api/exchanges/%2F/e1")).status == 204
    assert (await api.get("/api/exchanges/%2F/e1")).status == 404
    assert "e1" not in core.vhosts["/"].exchanges


async def test_queue_lifecycle_is_logged_like_amqp(api: Client, core: Broker) -> None:
    r = await api.put(
        "/api/queues/%2F/q1", json={"durable": True, "arguments": {"x-max-length": 5}}
    )
    assert r.status == 201
    assert (await api.put("/api/queues/%2F/q1", json={"durable": False})).status == 400
    r = await api.put("/api/queues/%2F/q2", json={"arguments": {"x-max-length": "x"}})
    assert r.status == 400 and "x-max-length" in (await r.json())["reason"]
    assert (await api.put("/api/queues/%2F/amq.q", json={})).status == 403
    q = await (await api.get("/api/queues/%2F/q1")).json()
    assert q["durable"] and q["arguments"] == {"x-max-length": 5} and q["consumer_details"] == []
    # a durable declare survives a restart: it went to the definitions log
    vhost = core.vhosts["/"]
    vhost.close()
    vhost.closed = False
    vhost.queues.clear()
    vhost._log = type(vhost._log)(vhost.dir / "definitions.amqp")
    vhost.load_definitions()
    assert "q1" in vhost.queues
    assert (await api.delete("/api/queues/%2F/q1")).status == 204
    assert (await api.delete("/api/queues/%2F/q1")).status == 404


async def test_publish_get_purge(api: Client) -> None:
    await api.put("/api/queues/%2F/q", json={})
    url = "/api/exchanges/%2F/amq.default/publish"
    for i in range(3):
        r = await api.post(
            url,
            json={
                "routing_key": "q",
                "payload": f"m{i}",
                "payload_encoding": "string",
                "properties": {"headers": {"h": 1}, "delivery_mode": 2, "expiration": 60000},
            },
        )
        assert await r.json() == {"routed": True}
    raw = base64.b64encode(b"\xff\x00").decode()
    r = await api.post(url, json={"routing_key": "q", "payload": raw, "payload_encoding": "base64"})
    assert await r.json() == {"routed": True}
    assert await (await api.post(url, json={"routing_key": "none", "payload": "x"})).json() == {
        "routed": False
    }
    get = "/api/queues/%2F/q/get"
    msgs = await (
        await api.post(get, json={"count": 2, "ackmode": "ack_requeue_true", "encoding": "auto"})
    ).json()
    assert [m["payload"] for m in msgs] == ["m0", "m1"]
    assert (
        msgs[0]["properties"]["headers"] == {"h": 1}
        and msgs[0]["properties"]["expiration"] == "60000"
    )
    assert (
        msgs[0]["message_count"] == 3
        and msgs[0]["exchange"] == ""
        and msgs[0]["routing_key"] == "q"
    )
    msgs = await (
        await api.post(
            get,
            json={
                "count": 1,
                "ackmode": "reject_requeue_true",
                "encoding": "base64",
                "truncate": 1,
            },
        )
    ).json()
    assert msgs[0]["payload"] == base64.b64encode(b"m").decode() and msgs[0]["redelivered"]
    assert msgs[0]["payload_bytes"] == 2
    msgs = await (
        await api.post(get, json={"count": 10, "ackmode": "ack_requeue_false", "encoding": "auto"})
    ).json()
    assert len(msgs) == 4 and msgs[3]["payload_encoding"] == "base64"
    assert (
        await (await api.post(get, json={"count": 1, "ackmode": "ack_requeue_false"})).json() == []
    )
    await api.post(url, json={"routing_key": "q", "payload": "x"})
    msgs = await (await api.post(get, json={"count": 1, "ackmode": "reject_requeue_false"})).json()
    assert len(msgs) == 1
    q = await (await api.get("/api/queues/%2F/q")).json()
    assert q["messages"] == 0 and q["messages_unacknowledged"] == 0
    await api.post(url, json={"routing_key": "q", "payload": "x"})
    assert (await api.delete("/api/queues/%2F/q/contents")).status == 204
    assert (await (await api.get("/api/queues/%2F/q")).json())["messages"] == 0


async def test_publish_and_get_bad_input(api: Client) -> None:
    await api.put("/api/queues/%2F/q", json={})
    url = "/api/exchanges/%2F/amq.default/publish"
    for body in (
        {"payload": "x"},
        {"routing_key": "q"},
        {"routing_key": 1, "payload": "x"},
        {"routing_key": "q", "payload": "x", "payload_encoding": "rot13"},
        {"routing_key": "q", "payload": "!!", "payload_encoding": "base64"},
        {"routing_key": "q", "payload": "x", "properties": {"bogus": 1}},
        {"routing_key": "q", "payload": "x", "properties": {"delivery_mode": "2"}},
        {"routing_key": "q", "payload": "x", "properties": {"expiration": "-1"}},
        {"routing_key": "q", "payload": "x", "properties": []},
    ):
        r = await api.post(url, json=body)
        assert r.status == 400, body
    assert (
        await api.post("/api/exchanges/%2F/nope/publish", json={"routing_key": "", "payload": ""})
    ).status == 404
    await api.put("/api/exchanges/%2F/int", json={"type": "direct", "internal": True})
    assert (
        await api.post("/api/exchanges/%2F/int/publish", json={"routing_key": "", "payload": ""})
    ).status == 400
    get = "/api/queues/%2F/q/get"
    for body in (
        {},
        {"count": 1},
        {"count": 0, "ackmode": "ack_requeue_false"},
        {"count": 1, "ackmode": "nope"},
        {"count": 1, "ackmode": "ack_requeue_false", "encoding": "utf9"},
        {"count": "1", "ackmode": "ack_requeue_false"},
    ):
        assert (await api.post(get, json=body)).status == 400, body
    assert (
        await api.post(
            "/api/queues/%2F/missing/get", json={"count": 1, "ackmode": "ack_requeue_false"}
        )
    ).status == 404


async def test_bindings_all_path_forms(api: Client) -> None:
    await api.put("/api/exchanges/%2F/src", json={"type": "direct", "durable": True})
    await api.put("/api/exchanges/%2F/dst", json={"type": "fanout", "durable": True})
    await api.put("/api/queues/%2F/q", json={"durable": True})
    r = await api.post(
        "/api/bindings/%2F/e/src/q/q", json={"routing_key": "rk", "arguments": {"a": 1}}
    )
    assert r.status == 201
    location = r.headers["Location"]
    r = await api.post("/api/bindings/%2F/e/src/e/dst", json={"routing_key": "k2"})
    assert r.status == 201 and r.headers["Location"] == "k2"
    rows = await (await api.get("/api/bindings/%2F/e/src/q/q")).json()
    assert rows == [
        {
            "source": "src",
            "vhost": "/",
            "destination": "q",
            "destination_type": "queue",
            "routing_key": "rk",
            "arguments": {"a": 1},
            "properties_key": location,
        }
    ]
    assert (await api.get(f"/api/bindings/%2F/e/src/q/q/{location}")).status == 200
    assert (await api.get("/api/bindings/%2F/e/src/e/dst/k2")).status == 200
    assert len(await (await api.get("/api/bindings/%2F")).json()) == 3  # + default binding
    assert len(await (await api.get("/api/bindings")).json()) == 3
    assert len(await (await api.get("/api/queues/%2F/q/bindings")).json()) == 2
    assert len(await (await api.get("/api/exchanges/%2F/src/bindings/source")).json()) == 2
    assert len(await (await api.get("/api/exchanges/%2F/dst/bindings/destination")).json()) == 1
    r = await api.post("/api/exchanges/%2F/src/publish", json={"routing_key": "rk", "payload": "x"})
    assert await r.json() == {"routed": True}
    assert (await api.delete(f"/api/bindings/%2F/e/src/q/q/{location}")).status == 204
    assert (await api.get(f"/api/bindings/%2F/e/src/q/q/{location}")).status == 404
    assert (await api.delete("/api/bindings/%2F/e/src/e/dst/k2")).status == 204
    assert (await api.post("/api/bindings/%2F/e/nope/q/q", json={})).status == 404
    assert (await api.post("/api/bindings/%2F/e/src/q/nope", json={})).status == 404
    assert (await api.post("/api/bindings/%2F/e/amq.default/q/q", json={})).status == 403
    assert (await api.post("/api/bindings/%2F/e/src/q/q", json={"arguments": []})).status == 400


async def test_paging_sorting_filtering(api: Client) -> None:
    for name in ("b-q", "a-q", "c-x"):
        await api.put(f"/api/queues/%2F/{name}", json={})
    names = [q["name"] for q in await (await api.get("/api/queues?sort=name")).json()]
    assert names == ["a-q", "b-q", "c-x"]
    names = [
        q["name"]
        for q in await (await api.get("/api/queues/%2F?sort=name&sort_reverse=true")).json()
    ]
    assert names == ["c-x", "b-q", "a-q"]
    body = await (await api.get("/api/queues?page=2&page_size=2&sort=name")).json()
    assert body["items"][0]["name"] == "c-x"
    assert (body["page"], body["page_count"], body["page_size"]) == (2, 2, 2)
    assert (body["filtered_count"], body["item_count"], body["total_count"]) == (3, 1, 3)
    body = await (await api.get("/api/queues?page=1&name=-q")).json()
    assert body["filtered_count"] == 2
    rows = await (
        await api.get("/api/queues?name=%5E(a|c)&use_regex=true&columns=name,message_stats.publish")
    ).json()
    assert rows == [
        {"name": "a-q", "message_stats": {"publish": 0}},
        {"name": "c-x", "message_stats": {"publish": 0}},
    ]
    for bad in ("page=0", "page=x", "page=1&page_size=501", "page=9", "name=(&use_regex=true"):
        assert (await api.get(f"/api/queues?{bad}")).status == 400, bad
