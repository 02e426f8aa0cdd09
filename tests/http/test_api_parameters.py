"""Policies, operator policies, parameters, global parameters and vhost limits."""

from __future__ import annotations

import pytest

from lavinmq.amqp.errors import PreconditionFailed
from lavinmq.broker.broker import Broker
from tests.http.conftest import Client


async def test_policies_apply_highest_priority(api: Client, core: Broker) -> None:
    await api.put("/api/queues/%2F/ttl.q", json={})
    await api.put("/api/exchanges/%2F/ttl.x", json={"type": "direct"})
    r = await api.put(
        "/api/policies/%2F/low",
        json={
            "pattern": "^ttl",
            "definition": {"message-ttl": 1},
            "priority": 1,
            "apply-to": "queues",
        },
    )
    assert r.status == 201
    await api.put(
        "/api/policies/%2F/high",
        json={"pattern": "^ttl\\.", "definition": {"max-length": 2}, "priority": 5},
    )
    q = await (await api.get("/api/queues/%2F/ttl.q")).json()
    assert q["policy"] == "high" and q["effective_policy_definition"] == {"max-length": 2}
    assert core.vhosts["/"].queues["ttl.q"].policy.name == "high"
    assert (await (await api.get("/api/exchanges/%2F/ttl.x")).json())["policy"] == "high"
    await api.put("/api/queues/%2F/ttl.new", json={})
    assert core.vhosts["/"].queues["ttl.new"].policy.name == "high"
    assert (await api.delete("/api/policies/%2F/high")).status == 204
    assert core.vhosts["/"].queues["ttl.q"].policy.name == "low"
    assert core.vhosts["/"].exchanges["ttl.x"].policy is None
    rows = await (await api.get("/api/policies")).json()
    assert rows == [
        {
            "vhost": "/",
            "name": "low",
            "pattern": "^ttl",
            "apply-to": "queues",
            "definition": {"message-ttl": 1},
            "priority": 1,
        }
    ]
    assert (await api.get("/api/policies/%2F/low")).status == 200
    assert (await api.get("/api/policies/%2F/high")).status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"definition": {"max-length": 1}},
        {"pattern": ".*"},
        {"pattern": "(", "definition": {"max-length": 1}},
        {"pattern": ".*", "definition": {}},
        {"pattern": ".*", "definition": {"bogus": 1}},
        {"pattern": ".*", "definition": {"max-length": -1}},
        {"pattern": ".*", "definition": {"overflow": "x"}},
        {"pattern": ".*", "definition": {"max-length": 1}, "apply-to": "nothing"},
        {"pattern": ".*", "definition": {"max-length": 1}, "priority": "1"},
        {"pattern": 1, "definition": {"a": 1}},
    ],
)
async def test_bad_policies(api: Client, body: dict) -> None:
    r = await api.put("/api/policies/%2F/bad", json=body)
    assert r.status == 400, body


async def test_operator_policies(api: Client, core: Broker) -> None:
    await api.put("/api/queues/%2F/q", json={})
    r = await api.put(
        "/api/operator-policies/%2F/op",
        json={"pattern": ".*", "definition": {"max-length": 9}, "apply-to": "queues"},
    )
    assert r.status == 201
    q = await (await api.get("/api/queues/%2F/q")).json()
    assert q["operator_policy"] == "op" and q["effective_policy_definition"] == {"max-length": 9}
    assert len(await (await api.get("/api/operator-policies")).json()) == 1
    assert len(await (await api.get("/api/operator-policies/%2F")).json()) == 1
    assert (await api.get("/api/operator-policies/%2F/op")).status == 200
    assert (await api.delete("/api/operator-policies/%2F/op")).status == 204


async def test_parameters(api: Client, core: Broker) -> None:
    url = "/api/parameters/federation-upstream/%2F/up"
    assert (await api.put(url, json={"value": {"uri": "amqp://"}})).status == 201
    assert (await api.put(url, json={"value": {"uri": "amqp://x"}})).status == 204
    assert await (await api.get(url)).json() == {
        "vhost": "/",
        "component": "federation-upstream",
        "name": "up",
        "value": {"uri": "amqp://x"},
    }
    assert len(await (await api.get("/api/parameters")).json()) == 1
    assert len(await (await api.get("/api/parameters/federation-upstream")).json()) == 1
    assert len(await (await api.get("/api/parameters/federation-upstream/%2F")).json()) == 1
    assert (await api.put(url, json={})).status == 400
    assert (await api.put("/api/parameters/policy/%2F/x", json={"value": 1})).status == 400
    assert (await api.delete(url)).status == 204
    assert (await api.get(url)).status == 404
    # persisted in the vhost's parameters file
    assert (core.vhosts["/"].dir / "parameters.json").exists()


async def test_global_parameters(api: Client, core: Broker) -> None:
    assert (
        await api.put("/api/global-parameters/cluster_name", json={"value": "c1"})
    ).status == 201
    assert await (await api.get("/api/global-parameters/cluster_name")).json() == {
        "name": "cluster_name",
        "value": "c1",
    }
    assert (await (await api.get("/api/cluster-name")).json())["name"] == "c1"
    assert len(await (await api.get("/api/global-parameters")).json()) == 1
    assert (await api.delete("/api/global-parameters/cluster_name")).status == 204
    assert (await api.get("/api/global-parameters/cluster_name")).status == 404


async def test_vhost_limits_enforced(api: Client, core: Broker) -> None:
    assert (await api.put("/api/vhost-limits/%2F/max-queues", json={"value": 1})).status == 204
    assert await (await api.get("/api/vhost-limits")).json() == [
        {"vhost": "/", "value": {"max-queues": 1}}
    ]
    assert await (await api.get("/api/vhost-limits/%2F")).json() == [
        {"vhost": "/", "value": {"max-queues": 1}}
    ]
    assert (await api.put("/api/queues/%2F/q1", json={})).status == 201
    r = await api.put("/api/queues/%2F/q2", json={})
    assert r.status == 400 and "queue limit" in (await r.json())["reason"]
    with pytest.raises(PreconditionFailed, match="queue limit"):
        core.vhosts["/"].declare_queue("q3")
    assert (await api.put("/api/vhost-limits/%2F/max-queues", json={"value": "x"})).status == 400
    assert (await api.put("/api/vhost-limits/%2F/max-bogus", json={"value": 1})).status == 400
    assert (await api.delete("/api/vhost-limits/%2F/max-queues")).status == 204
    assert (await api.put("/api/queues/%2F/q2", json={})).status == 201


# The launcher imports the shovel and federation plugins, which register their checks.
import lavinmq.federation.upstream  # noqa: E402
import lavinmq.shovel.config  # noqa: E402, F401

SHOVEL_OK = {"src-uri": "amqp://", "src-queue": "a", "dest-uri": "amqp://", "dest-queue": "b"}


@pytest.mark.parametrize(
    ("component", "value", "reason"),
    [
        ("shovel", {"src-uri": "amqp://", "dest-uri": "amqp://"}, "requires a queue"),
        ("shovel", {**SHOVEL_OK, "ack-mode": "sometimes"}, "'ack-mode' must be one of"),
        ("shovel", {**SHOVEL_OK, "src-uri": "ftp://x"}, "unsupported URI scheme"),
        ("shovel", {**SHOVEL_OK, "src-prefetch-count": -1}, "'src-prefetch-count'"),
        ("shovel", "not an object", "JSON object"),
        ("federation-upstream", {"prefetch-count": 10}, "needs a 'uri'"),
        ("federation-upstream", {"uri": "http://x"}, "amqp(s) URI"),
        ("federation-upstream", {"uri": "amqp://", "max-hops": "two"}, "'max_hops'"),
        ("federation-upstream-set", {"upstream": "a"}, "must be a list"),
        ("federation-upstream-set", [{"name": "a"}], "needs an 'upstream' name"),
    ],
)
async def test_invalid_plugin_parameters_are_400_and_not_stored(
    api: Client, core: Broker, component: str, value: object, reason: str
) -> None:
    r = await api.put(f"/api/parameters/{component}/%2F/p", json={"value": value})
    assert r.status == 400
    body = await r.json()
    assert body["error"] == "bad_request" and reason in body["reason"], body
    assert (component, "p") not in core.vhosts["/"].parameters.parameters
    assert (await api.get(f"/api/parameters/{component}/%2F/p")).status == 404


async def test_valid_plugin_parameters_are_stored(api: Client, core: Broker) -> None:
    upstream = {"uri": "amqp://", "max-hops": 2}
    assert (
        await api.put("/api/parameters/federation-upstream/%2F/u", json={"value": upstream})
    ).status == 201
    upstream_set = [{"upstream": "u", "prefetch-count": 5}]
    r = await api.put("/api/parameters/federation-upstream-set/%2F/s", json={"value": upstream_set})
    assert r.status == 201
    assert core.vhosts["/"].parameters.parameters[("federation-upstream", "u")] == upstream


async def test_definitions_with_an_invalid_shovel_are_refused(api: Client, core: Broker) -> None:
    doc = {
        "parameters": [
            {"vhost": "/", "component": "shovel", "name": "s", "value": {"src-uri": "amqp://"}}
        ]
    }
    r = await api.post("/api/definitions", json=doc)
    assert r.status == 400
    assert "invalid shovel parameter 's'" in (await r.json())["reason"]
    assert ("shovel", "s") not in core.vhosts["/"].parameters.parameters
