"""Definitions in RabbitMQ's format: our import of a real rabbitmq-server export, and
rabbitmq-server's import of ours (run when ``rabbitmqctl`` is installed)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import encode_basic_auth

from lavinmq.broker.broker import Broker
from tests.http.conftest import Client

FIXTURE = Path(__file__).parent / "fixtures" / "rabbitmq-3.10.8-definitions.json"
KEYS = (
    "users",
    "vhosts",
    "permissions",
    "topic_permissions",
    "parameters",
    "global_parameters",
    "policies",
    "queues",
    "exchanges",
    "bindings",
)


def rabbit_export() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def _entities(defs: dict[str, Any], vhost: str) -> tuple[set[Any], set[Any], set[Any]]:
    queues = {
        (q["name"], q["durable"], q["auto_delete"], json.dumps(q["arguments"], sort_keys=True))
        for q in defs["queues"]
        if q["vhost"] == vhost
    }
    exchanges = {
        (e["name"], e["type"], e["durable"], e.get("internal", False))
        for e in defs["exchanges"]
        if e["vhost"] == vhost
    }
    # rabbitmq-server leaves internal exchanges out of its export but keeps their bindings;
    # such bindings can't be imported anywhere, so compare the others.
    names = {e[0] for e in exchanges}
    bindings = {
        (
            b["source"],
            b["destination"],
            b["destination_type"],
            b["routing_key"],
            json.dumps(b["arguments"], sort_keys=True),
        )
        for b in defs["bindings"]
        if b["vhost"] == vhost and (b["source"] in names or b["source"].startswith("amq."))
    }
    return queues, exchanges, bindings


async def test_rabbitmq_export_imports_cleanly(api: Client, core: Broker) -> None:
    source = rabbit_export()
    r = await api.post("/api/definitions", json=source)
    assert r.status == 204, await r.text()
    ours = await (await api.get("/api/definitions")).json()
    for vhost in ("/", "app", "with space"):
        assert _entities(ours, vhost) == _entities(source, vhost), vhost
    assert {u["name"] for u in ours["users"]} == {u["name"] for u in source["users"]}
    alice = core.users.get("alice")
    assert alice is not None and alice.check_password("s3cret")
    assert alice.tags == ["management", "policymaker"] and alice.limits == {
        "max-channels": 20,
        "max-connections": 10,
    }
    assert core.vhosts["app"].parameters.limits == {"max-connections": 64, "max-queues": 256}
    assert core.vhosts["app"].operator_policies["op-limit"].definition == {"max-length": 100000}
    assert core.vhosts["app"].queues["ttl.q"].policy.name == "ttl-policy"
    assert alice.topic_permissions["app"]["amq.topic"]["write"] == "^orders\\..*"
    assert core.global_parameters.values["my_global"] == {"a": 1}
    alice_auth = {"Authorization": encode_basic_auth("alice", "s3cret")}
    assert (await api.get("/api/whoami", headers=alice_auth)).status == 200
    # idempotent, as with RabbitMQ
    assert (await api.post("/api/definitions", json=source)).status == 204


async def test_per_vhost_export_and_import(api: Client, core: Broker) -> None:
    await api.post("/api/definitions", json=rabbit_export())
    exported = await (await api.get("/api/definitions/app")).json()
    assert "users" not in exported and all("vhost" not in q for q in exported["queues"])
    await api.put("/api/vhosts/copy", json={})
    assert (await api.post("/api/definitions/copy", json=exported)).status == 204
    assert set(core.vhosts["copy"].queues) == set(core.vhosts["app"].queues)
    assert core.vhosts["copy"].policies.keys() == core.vhosts["app"].policies.keys()


@pytest.mark.parametrize(
    "bad",
    [
        {"users": "x"},
        {"users": [{"password_hash": "x"}]},
        {
            "users": [
                {
                    "name": "u",
                    "password_hash": "%%%",
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                }
            ]
        },
        {
            "permissions": [
                {"user": "nobody", "vhost": "/", "configure": "", "write": "", "read": ""}
            ]
        },
        {"queues": [{"name": "q", "vhost": "/", "arguments": {"x-max-length": "a"}}]},
        {"exchanges": [{"name": "e", "vhost": "/", "type": "bogus"}]},
        {"bindings": [{"vhost": "/", "destination": "q", "destination_type": "queue"}]},
        {"policies": [{"name": "p", "vhost": "/", "pattern": "(", "definition": {"a": 1}}]},
    ],
)
async def test_bad_definitions_are_400(api: Client, bad: dict) -> None:
    r = await api.post("/api/definitions", json=bad)
    assert r.status == 400, await r.text()
    assert (await r.json())["error"] == "bad_request"


def _validate_structure(defs: dict[str, Any]) -> None:
    """Our export has the keys and item fields rabbitmq-server's import reads."""
    reference = rabbit_export()
    for key in KEYS:
        assert isinstance(defs[key], list), key
        if reference[key] and defs[key]:
            assert set(reference[key][0]) <= set(defs[key][0]) | {"limits"}, key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def rabbitmq_node() -> Iterator[tuple[str, Path] | None]:
    """A throwaway rabbitmq-server node on 127.0.0.1 and a directory it can read, or None
    without rabbitmqctl (then the test checks our export's structure only)."""
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        yield None
        return
    base = Path(f"/tmp/lmq-rmq-{os.getpid()}-{time.monotonic_ns()}")
    base.mkdir()
    port, node = _free_port(), f"lmqtest{os.getpid()}@localhost"
    (base / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{port}\n")
    shutil.chown(base, "rabbitmq", "rabbitmq")
    env = {
        **os.environ,
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(_free_port()),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "plugins"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    proc = subprocess.Popen(
        ["rabbitmq-server"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            subprocess.run(
                ["rabbitmqctl", "-n", node, "await_startup"], capture_output=True, timeout=60
            ).returncode
            != 0
        ):
            assert time.monotonic() < deadline, "rabbitmq-server did not start"
            time.sleep(0.5)
        yield node, base
    finally:
        subprocess.run(["rabbitmqctl", "-n", node, "stop"], capture_output=True, timeout=60)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 15)
            proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
async def test_our_export_imports_into_rabbitmq(
    api: Client, core: Broker, tmp_path: Path, rabbitmq_node: tuple[str, Path] | None
) -> None:
    await api.post("/api/definitions", json=rabbit_export())
    await api.put(
        "/api/queues/app/made-by-lavinmq", json={"durable": True, "arguments": {"x-max-length": 3}}
    )
    ours = await (await api.get("/api/definitions")).json()
    _validate_structure(ours)
    if rabbitmq_node is None:
        return
    node, base = rabbitmq_node
    path = base / "ours.json"
    path.write_text(json.dumps(ours))
    ctl = ["rabbitmqctl", "-n", node]
    result = subprocess.run(  # noqa: ASYNC221 - rabbitmqctl in a test
        [*ctl, "import_definitions", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(  # noqa: ASYNC221 - rabbitmqctl in a test
        [*ctl, "export_definitions", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    for vhost in ("/", "app", "with space"):
        assert _entities(theirs, vhost) == _entities(ours, vhost), vhost
    alice = next(u for u in theirs["users"] if u["name"] == "alice")
    assert alice["limits"] == {"max-channels": 20, "max-connections": 10}
