"""Interop with Debian's rabbitmq-server: RabbitMQ's shovel and queue federation with our
broker as their upstream, and our shovel and exchange federation with RabbitMQ upstream.

The test starts its own RabbitMQ node (temp dirs, free loopback ports, its own epmd) and
stops it; it is skipped when rabbitmq-server is not installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lavinmq.client import connect
from tests.broker_thread import BrokerThread
from tests.federation.helpers import federate, links_running, setup_exchange
from tests.shovel.helpers import Api, collect, loop_errors, publish, wait_for

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
EPMD = shutil.which("epmd")
pytestmark = pytest.mark.skipif(
    not SERVER.exists() or EPMD is None, reason="rabbitmq-server is not installed"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RabbitNode:
    """A throwaway RabbitMQ node whose definitions point at ``lavin_url``."""

    def __init__(self, base: Path, lavin_url: str) -> None:
        self.base = base
        self.port, self.epmd_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "HOME": str(base),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_NODENAME": f"lmq{uuid.uuid4().hex[:8]}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
        }
        (base / "enabled_plugins").write_text("[rabbitmq_federation,rabbitmq_shovel].\n")
        (base / "defs.json").write_text(json.dumps(self.definitions(lavin_url)))
        (base / "rabbitmq.conf").write_text(
            f"load_definitions = {base / 'defs.json'}\nlog.console = true\nlog.file = false\n"
        )
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2f"
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def definitions(lavin_url: str) -> dict[str, object]:
        """RabbitMQ's side: a shovel from our ``to-rabbit`` queue and ``fedq`` federated
        from ours, loaded at boot (no rabbitmqctl round trips)."""
        shovel = {"src-protocol": "amqp091", "src-uri": lavin_url, "src-queue": "to-rabbit",
                  "dest-protocol": "amqp091", "dest-uri": "amqp://", "dest-queue": "from-lavin",
                  "ack-mode": "on-confirm", "reconnect-delay": 1}  # fmt: skip
        upstream = {"uri": lavin_url, "reconnect-delay": 1}
        policy = {"vhost": "/", "name": "fedq", "pattern": "^fedq$", "apply-to": "queues",
                  "definition": {"federation-upstream": "lavin"}, "priority": 0}  # fmt: skip
        permission = {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
        queues: list[dict[str, Any]] = [
            {"name": n, "vhost": "/", "durable": True, "arguments": {}}
            for n in ("from-lavin", "fedq")
        ]
        parameters = [
            {"component": "shovel", "name": "from-lavin", "vhost": "/", "value": shovel},
            {"component": "federation-upstream", "name": "lavin", "vhost": "/", "value": upstream},
        ]
        users = [{"name": "guest", "password": "guest", "tags": "administrator"}]
        return {"users": users, "vhosts": [{"name": "/"}], "permissions": [permission],
                "queues": queues, "parameters": parameters, "policies": [policy]}  # fmt: skip

    def start(self) -> None:
        log = (self.base / "out.log").open("wb")
        self.proc = subprocess.Popen(
            [str(SERVER)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.base,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"completed with" in (self.base / "out.log").read_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        tail = (self.base / "out.log").read_text(errors="replace")[-2000:]
        self.stop()
        pytest.skip(f"RabbitMQ did not start:\n{tail}")

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            time.sleep(0.3)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # children that outlived the shell
            self.proc = None
        assert EPMD is not None
        subprocess.run(
            [EPMD, "-kill"], env={**self.env}, capture_output=True, timeout=10, check=False
        )  # our node's epmd (its own port), not a shared one


@pytest.fixture(scope="module")
def lavin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerThread]:
    bt = BrokerThread(tmp_path_factory.mktemp("lavin")).start()
    yield bt
    bt.stop()
    assert not loop_errors(bt)


@pytest.fixture(scope="module")
def rabbit(lavin: BrokerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    def declare() -> None:
        vhost = lavin.broker.vhosts["/"]
        vhost.declare_queue("to-rabbit", durable=True)

    lavin.call(declare)
    node = RabbitNode(tmp_path_factory.mktemp("rabbit"), lavin.amqp_url)
    node.start()
    yield node
    node.stop()


def bodies(prefix: str, n: int) -> list[bytes]:
    return [f"{prefix}{i}".encode() for i in range(n)]


async def test_rabbitmq_shovel_from_us_survives_our_restart(
    lavin: BrokerThread, rabbit: RabbitNode
) -> None:
    first, second = bodies("a", 50), bodies("b", 50)
    await publish(lavin.amqp_url, first, routing_key="to-rabbit")
    assert set(first) <= await collect(rabbit.url, "from-lavin", set(first))
    lavin.restart()
    await publish(lavin.amqp_url, second, routing_key="to-rabbit")
    assert set(second) <= await collect(rabbit.url, "from-lavin", set(second))


async def test_rabbitmq_queue_federation_from_us(lavin: BrokerThread, rabbit: RabbitNode) -> None:
    sent = bodies("f", 20)
    await publish(lavin.amqp_url, sent, routing_key="fedq", declare_queue="fedq")
    assert set(sent) <= await collect(rabbit.url, "fedq", set(sent))


async def test_our_shovel_from_rabbitmq(lavin: BrokerThread, rabbit: RabbitNode) -> None:
    api = Api(lavin)
    await api.put_parameter(
        "shovel",
        "from-rabbit",
        {
            "src-uri": rabbit.url,
            "src-queue": "rq",
            "dest-uri": "amqp://",
            "dest-queue": "lq",
            "reconnect-delay": 0.2,
        },
    )
    await wait_for(lambda: api.get("/api/shovels/%2f/from-rabbit"), what="the shovel")
    sent = bodies("r", 50)
    await publish(rabbit.url, sent, routing_key="rq", declare_queue="rq")
    assert set(sent) <= await collect(lavin.amqp_url, "lq", set(sent))
    await api.delete_parameter("shovel", "from-rabbit")


async def test_our_exchange_federation_from_rabbitmq(
    lavin: BrokerThread, rabbit: RabbitNode
) -> None:
    await setup_exchange(lavin.amqp_url, "rfx", "rfq", "a.#")
    api = await federate(lavin, rabbit.url, "^rfx$", name="rabbit")
    await links_running(api)  # running: the upstream queue is bound
    sent = bodies("x", 30)
    await publish(rabbit.url, sent, exchange="rfx", routing_key="a.b")
    got = await collect(lavin.amqp_url, "rfq", set(sent))
    assert set(sent) <= got
    async with connect(rabbit.url) as conn:
        rabbit_name = conn.server_properties.get("cluster_name")
    async with connect(lavin.amqp_url) as conn:
        ch = await conn.channel()
        await publish(rabbit.url, [b"last"], exchange="rfx", routing_key="a.b")
        msg = None
        while msg is None or msg.body != b"last":
            msg = await ch.basic_get("rfq", no_ack=True)
        [hop] = msg.properties.headers["x-received-from"]  # type: ignore[index]
        assert hop["cluster-name"] == rabbit_name and hop["exchange"] == "rfx"
