"""Overview, nodes, whoami, health checks, auth and the error format."""

from __future__ import annotations

import pytest
from aiohttp import encode_basic_auth

from lavinmq.broker.broker import Broker
from tests.http.conftest import Client


async def test_overview_shape(api: Client) -> None:
    r = await api.get("/api/overview")
    assert r.status == 200
    body = await r.json()
    assert body["object_totals"]["exchanges"] == 6
    assert body["queue_totals"] == {
        "messages": 0,
        "messages_ready": 0,
        "messages_unacknowledged": 0,
    }
    assert body["message_stats"]["publish_details"] == {"rate": 0.0}
    assert {"node", "cluster_name", "listeners", "rabbitmq_version"} <= set(body)


async def test_nodes_whoami_extensions_cluster_name(api: Client) -> None:
    nodes = await (await api.get("/api/nodes")).json()
    assert nodes[0]["running"] is True and nodes[0]["name"] == "lavinmq@localhost"
    assert (await api.get("/api/nodes/lavinmq@localhost")).status == 200
    assert (await api.get("/api/nodes/other@host")).status == 404
    assert await (await api.get("/api/whoami")).json() == {
        "name": "guest",
        "tags": ["administrator"],
    }
    assert await (await api.get("/api/extensions")).json() == []
    assert (await (await api.get("/api/cluster-name")).json())["name"]


async def test_aliveness_and_health_checks(api: Client) -> None:
    assert await (await api.get("/api/aliveness-test/%2F")).json() == {"status": "ok"}
    assert (await api.get("/api/aliveness-test/nope")).status == 404
    for path in (
        "alarms",
        "local-alarms",
        "virtual-hosts",
        "node-is-quorum-critical",
        "certificate-expiration/1/months",
        "protocol-listener/amqp",
    ):
        r = await api.get(f"/api/health/checks/{path}")
        assert r.status == 200, path
        assert (await r.json())["status"] == "ok"
    r = await api.get("/api/health/checks/protocol-listener/stomp")
    assert r.status == 503
    assert (await api.get("/api/health/checks/port-listener/1")).status == 503
    assert (await api.get("/api/health/checks/port-listener/x")).status == 400


async def test_alarm_checks_fail_while_an_alarm_is_in_effect(api: Client, core: Broker) -> None:
    assert await (await api.get("/api/healthchecks/node")).json() == {"status": "ok"}
    core.disk_alarm.active = True
    try:
        r = await api.get("/api/health/checks/alarms")
        assert r.status == 503
        body = await r.json()
        assert body["status"] == "failed" and "alarms in effect" in body["reason"]
        assert body["alarms"] == [{"node": body["alarms"][0]["node"], "resource": "disk"}]
        r = await api.get("/api/health/checks/local-alarms")
        assert r.status == 503 and "on the node" in (await r.json())["reason"]
        r = await api.get("/api/healthchecks/node")  # the old check: 200 either way
        assert r.status == 200 and (await r.json())["status"] == "failed"
    finally:
        core.disk_alarm.active = False
    assert (await api.get("/api/health/checks/alarms")).status == 200


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Basic !!!",
        "Bearer x",
        encode_basic_auth("guest", "wrong"),
        encode_basic_auth("nobody", "guest"),
    ],
)
async def test_bad_credentials_are_401(api: Client, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {"Authorization": ""}
    r = await api.get("/api/overview", headers=headers)
    assert r.status == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert (await r.json())["error"] == "not_authorized"


async def test_user_without_api_tags_cannot_log_in(as_user) -> None:
    client = await as_user("plain", [])
    r = await client.get("/api/overview")
    assert r.status == 401
    assert (await r.json())["reason"] == "Not management user"


async def test_errors_are_json(api: Client) -> None:
    r = await api.get("/api/nonexistent")
    assert r.status == 404
    assert await r.json() == {"error": "Object Not Found", "reason": "Not Found"}
    r = await api.delete("/api/overview")
    assert r.status == 405
    assert set(await r.json()) == {"error", "reason"}
    r = await api.put(
        "/api/queues/%2F/q", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status == 400 and (await r.json())["reason"] == "Malformed JSON"
    r = await api.put(
        "/api/queues/%2F/q", data=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert r.status == 400
    r = await api.put(
        "/api/queues/%2F/q",
        data=b"durable=true",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 415
    r = await api.put("/api/queues/%2F/q", json={"durable": "yes"})
    assert r.status == 400 and "durable" in (await r.json())["reason"]
    r = await api.put("/api/queues/unknown-vhost/q", json={})
    assert r.status == 404


async def test_metrics_are_public(api: Client) -> None:
    r = await api.get("/metrics", headers={"Authorization": ""})
    assert r.status == 200
    text = await r.text()
    assert "lavinmq_queues 0" in text and "# TYPE lavinmq_connections gauge" in text
    assert "lavinmq_consumers 0" in text and "lavinmq_queue_messages 0" in text
    assert "# TYPE lavinmq_global_publishers_messages_received_total counter" in text
    r = await api.get("/metrics?prefix=rabbitmq")
    assert "rabbitmq_queues 0" in await r.text()
    assert (await api.get("/metrics?prefix=" + "x" * 30)).status == 400
    await api.put("/api/queues/%2F/m1", json={})
    r = await api.get(
        "/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count"
        "&family=connection_coarse_metrics&family=exchange_metrics"
    )
    text = await r.text()
    assert 'lavinmq_detailed_queue_messages_ready{queue="m1",vhost="/"} 0' in text
    assert 'lavinmq_detailed_queue_consumers{queue="m1",vhost="/"} 0' in text
    assert "# TYPE lavinmq_detailed_connection_channels gauge" in text
    exchange = (
        'lavinmq_detailed_exchange_messages_published_in_total{exchange="amq.direct",vhost="/"}'
    )
    assert exchange in text
    assert (await api.get("/metrics/detailed?family=bogus")).status == 400


async def test_openapi_is_served(api: Client) -> None:
    r = await api.get("/api/openapi.json", headers={"Authorization": ""})
    assert r.status == 200
    assert (await r.json())["openapi"].startswith("3.")
