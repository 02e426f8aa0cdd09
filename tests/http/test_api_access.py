"""Users, permissions, topic permissions, user limits and the tag rules per endpoint."""

from __future__ import annotations

import base64
import hashlib

import pytest

from lavinmq.broker.broker import Broker
from tests.http.conftest import Client


def rabbit_hash(password: str, algo: str = "sha256", salt: bytes = b"\x01\x02\x03\x04") -> str:
    return base64.b64encode(salt + hashlib.new(algo, salt + password.encode()).digest()).decode()


async def test_user_crud_and_hashes(api: Client, core: Broker) -> None:
    r = await api.put("/api/users/bob", json={"password": "pw", "tags": "management,policymaker"})
    assert r.status == 201
    body = await (await api.get("/api/users/bob")).json()
    assert body["tags"] == ["management", "policymaker"]
    assert body["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert core.users.get("bob").check_password("pw")  # type: ignore[union-attr]
    r = await api.put(
        "/api/users/bob",
        json={
            "password_hash": rabbit_hash("pw2", "sha512"),
            "hashing_algorithm": "rabbit_password_hashing_sha512",
        },
    )
    assert r.status == 204
    assert core.users.get("bob").check_password("pw2")  # type: ignore[union-attr]
    assert (await api.put("/api/users/bob", json={"password_hash": "not base64!"})).status == 400
    assert (await api.put("/api/users/bob", json={"tags": 5})).status == 400
    assert (await api.put("/api/users/bob", json={"password": 5})).status == 400
    names = [u["name"] for u in await (await api.get("/api/users")).json()]
    assert names == ["guest", "bob"]
    assert [u["name"] for u in await (await api.get("/api/users/without-permissions")).json()] == [
        "bob"
    ]
    assert (await api.delete("/api/users/bob")).status == 204
    assert (await api.get("/api/users/bob")).status == 404
    await api.put("/api/users/x1", json={"password": "a"})
    await api.put("/api/users/x2", json={"password": "a"})
    assert (await api.post("/api/users/bulk-delete", json={"users": ["x1", "x2"]})).status == 204
    assert "x1" not in core.users


async def test_bcrypt_hash_is_accepted(api: Client, core: Broker) -> None:
    bcrypt = pytest.importorskip("bcrypt")
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    r = await api.put(
        "/api/users/b",
        json={"password_hash": hashed, "hashing_algorithm": "bcrypt", "tags": "management"},
    )
    assert r.status == 201
    r = await api.get(
        "/api/whoami", headers={"Authorization": "Basic " + base64.b64encode(b"b:pw").decode()}
    )
    assert r.status == 200


async def test_permissions_crud(api: Client, core: Broker) -> None:
    await api.put("/api/users/bob", json={"password": "pw", "tags": "management"})
    url = "/api/permissions/%2F/bob"
    assert (
        await api.put(url, json={"configure": "^bob-", "write": ".*", "read": ".*"})
    ).status == 201
    assert (
        await api.put(url, json={"configure": "^bob-", "write": ".*", "read": ".*"})
    ).status == 204
    assert await (await api.get(url)).json() == {
        "user": "bob",
        "vhost": "/",
        "configure": "^bob-",
        "write": ".*",
        "read": ".*",
    }
    assert len(await (await api.get("/api/permissions")).json()) == 2
    assert len(await (await api.get("/api/users/bob/permissions")).json()) == 1
    assert (await api.put(url, json={"configure": "(", "write": "", "read": ""})).status == 400
    assert (await api.put(url, json={"configure": ".*"})).status == 400
    assert (await api.put("/api/permissions/nope/bob", json={})).status == 404
    assert (await api.put("/api/permissions/%2F/nobody", json={})).status == 404
    assert (await api.delete(url)).status == 204
    assert (await api.get(url)).status == 404


async def test_topic_permissions_crud(api: Client, core: Broker) -> None:
    await api.put("/api/users/bob", json={"password": "pw", "tags": "management"})
    url = "/api/topic-permissions/%2F/bob"
    r = await api.put(url, json={"exchange": "amq.topic", "write": "^a\\.", "read": ".*"})
    assert r.status == 201
    assert await (await api.get(url)).json() == [
        {"user": "bob", "vhost": "/", "exchange": "amq.topic", "write": "^a\\.", "read": ".*"}
    ]
    assert len(await (await api.get("/api/topic-permissions")).json()) == 1
    assert len(await (await api.get("/api/vhosts/%2F/topic-permissions")).json()) == 1
    assert len(await (await api.get("/api/users/bob/topic-permissions")).json()) == 1
    assert (await api.put(url, json={"exchange": "nope", "write": "", "read": ""})).status == 400
    assert (await api.delete(url + "?exchange=amq.topic")).status == 204
    assert (await api.get(url)).status == 404


async def test_user_limits(api: Client, core: Broker) -> None:
    await api.put("/api/users/bob", json={"password": "pw"})
    assert (await api.put("/api/user-limits/bob/max-connections", json={"value": 3})).status == 204
    assert await (await api.get("/api/user-limits")).json() == [
        {"user": "bob", "value": {"max-connections": 3}}
    ]
    assert await (await api.get("/api/user-limits/bob")).json() == [
        {"user": "bob", "value": {"max-connections": 3}}
    ]
    assert (await api.put("/api/user-limits/bob/max-foo", json={"value": 3})).status == 400
    assert (await api.put("/api/user-limits/bob/max-channels", json={"value": "3"})).status == 400
    assert (await api.put("/api/user-limits/bob/max-channels", json={})).status == 400
    assert (await api.delete("/api/user-limits/bob/max-connections")).status == 204
    assert (await api.delete("/api/user-limits/bob/max-connections")).status == 404


ADMIN_ONLY = [
    ("GET", "/api/users"),
    ("PUT", "/api/users/x"),
    ("GET", "/api/permissions"),
    ("PUT", "/api/vhosts/new"),
    ("DELETE", "/api/vhosts/%2F"),
    ("GET", "/api/definitions"),
    ("POST", "/api/definitions"),
    ("GET", "/api/global-parameters"),
    ("PUT", "/api/vhost-limits/%2F/max-queues"),
    ("GET", "/api/operator-policies"),
    ("GET", "/api/topic-permissions"),
    ("GET", "/api/user-limits"),
]


@pytest.mark.parametrize("tag", ["management", "policymaker", "monitoring"])
async def test_admin_only_endpoints(as_user, tag: str) -> None:
    client = await as_user("u", [tag])
    for method, path in ADMIN_ONLY:
        r = await client.request(method, path, json={"value": 1})
        assert r.status == 403, (tag, method, path)
        assert (await r.json())["error"] == "access_refused"


async def test_management_user_scope(as_user, api: Client, core: Broker) -> None:
    core.add_vhost("private")
    client = await as_user("m", ["management"])
    assert [v["name"] for v in await (await client.get("/api/vhosts")).json()] == ["/"]
    assert (await client.get("/api/queues/private")).status == 403
    assert (await client.get("/api/nodes")).status == 403
    assert (await client.put("/api/queues/%2F/mine", json={})).status == 201
    assert (
        await client.put(
            "/api/policies/%2F/p", json={"pattern": ".*", "definition": {"max-length": 1}}
        )
    ).status == 403
    assert (await client.get("/api/policies/%2F")).status == 200
    assert (await client.get("/api/parameters")).status == 403


async def test_policymaker_and_monitoring(as_user, core: Broker) -> None:
    core.add_vhost("other")
    pm = await as_user("pm", ["policymaker"])
    r = await pm.put("/api/policies/%2F/p", json={"pattern": ".*", "definition": {"max-length": 1}})
    assert r.status == 201
    assert (
        await pm.put(
            "/api/policies/other/p", json={"pattern": ".*", "definition": {"max-length": 1}}
        )
    ).status == 403
    assert (await pm.put("/api/parameters/my-app/%2F/s", json={"value": {"a": 1}})).status == 201
    mon = await as_user("mon", ["monitoring"], vhosts=())
    assert (await mon.get("/api/nodes")).status == 200
    assert {v["name"] for v in await (await mon.get("/api/vhosts")).json()} == {"/", "other"}
    assert (await mon.get("/api/queues/other")).status == 200
    assert (await mon.put("/api/queues/other/q", json={})).status == 403


async def test_amqp_permissions_apply_to_api(as_user, core: Broker) -> None:
    client = await as_user("limited", ["management"])
    core.users.set_permissions(
        "limited", "/", type(core.users.get("guest").permissions["/"])("^own-", "^own-", "^own-")
    )  # type: ignore[union-attr]
    assert (await client.put("/api/queues/%2F/own-q", json={})).status == 201
    r = await client.put("/api/queues/%2F/other", json={})
    assert r.status == 403 and "configure access to queue 'other'" in (await r.json())["reason"]
    core.vhosts["/"].declare_queue("other")
    assert (
        await client.post(
            "/api/queues/%2F/other/get", json={"count": 1, "ackmode": "ack_requeue_false"}
        )
    ).status == 403
    assert (await client.delete("/api/queues/%2F/other/contents")).status == 403
    assert (await client.delete("/api/queues/%2F/other")).status == 403
    r = await client.post(
        "/api/exchanges/%2F/amq.default/publish", json={"routing_key": "x", "payload": ""}
    )
    assert r.status == 403
    assert (await client.post("/api/bindings/%2F/e/amq.direct/q/own-q", json={})).status == 403
