"""Helpers shared by the shovel and federation tests: brokers, the HTTP API, messages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from lavinmq.client import BasicProperties, connect
from tests.broker_thread import BrokerThread

PERSISTENT = BasicProperties(delivery_mode=2)


async def wait_for(predicate: Callable[[], Any], within: float = 10.0, what: str = "") -> Any:
    """Poll ``predicate`` every 20 ms (sleeping, never spinning) until it is truthy."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or predicate}")
        await asyncio.sleep(0.02)


class Api:
    """The management API of one in-process broker, as guest."""

    def __init__(self, broker: BrokerThread) -> None:
        self.broker = broker

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.broker.http_port}{path}"
        headers = {"Authorization": aiohttp.encode_basic_auth("guest", "guest")}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.request(method, url, json=body) as response:
                data = (
                    await response.json() if response.content_type == "application/json" else None
                )
                return response.status, data

    async def get(self, path: str) -> Any:
        status, data = await self.request("GET", path)
        assert status == 200, (path, status, data)
        return data

    async def put_parameter(self, component: str, name: str, value: Any, vhost: str = "/") -> None:
        path = f"/api/parameters/{component}/{quote(vhost, safe='')}/{quote(name, safe='')}"
        status, data = await self.request("PUT", path, {"value": value})
        assert status in (201, 204), (status, data)

    async def delete_parameter(self, component: str, name: str, vhost: str = "/") -> None:
        path = f"/api/parameters/{component}/{quote(vhost, safe='')}/{quote(name, safe='')}"
        status, data = await self.request("DELETE", path)
        assert status == 204, (status, data)

    async def put_policy(
        self,
        name: str,
        pattern: str,
        definition: dict[str, Any],
        apply_to: str = "all",
        vhost: str = "/",
    ) -> None:
        path = f"/api/policies/{quote(vhost, safe='')}/{name}"
        body = {"pattern": pattern, "definition": definition, "apply-to": apply_to}
        status, data = await self.request("PUT", path, body)
        assert status in (201, 204), (status, data)

    async def close_connections(self, named: str) -> int:
        """Close (as ``DELETE /api/connections/{name}``) the connections whose client
        ``connection_name`` contains ``named``; returns how many."""
        closed = 0
        for conn in await self.get("/api/connections"):
            props = conn.get("client_properties") or {}
            if named in str(props.get("connection_name", "")):
                status, _ = await self.request(
                    "DELETE", f"/api/connections/{quote(conn['name'], safe='')}"
                )
                closed += status == 204
        return closed

    async def queue_length(self, queue: str, vhost: str = "/") -> int:
        status, data = await self.request(
            "GET", f"/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}"
        )
        return int(data.get("messages_ready", 0)) if status == 200 else -1


async def publish(
    url: str,
    bodies: list[bytes],
    exchange: str = "",
    routing_key: str = "",
    declare_queue: str | None = None,
) -> None:
    """Publish persistent messages with confirms."""
    async with connect(url) as conn:
        ch = await conn.channel()
        if declare_queue is not None:
            await ch.queue_declare(declare_queue, durable=True)
        await ch.confirm_select()
        for body in bodies:
            ch.basic_publish(body, exchange, routing_key, PERSISTENT)
        await ch.wait_for_confirms()


async def drain(url: str, queue: str, expect: int, within: float = 15.0) -> list[bytes]:
    """Consume from ``queue`` (acking) until ``expect`` messages arrived (or time runs out)."""
    got: list[bytes] = []
    async with connect(url) as conn:
        ch = await conn.channel()
        await ch.queue_declare(queue, durable=True)
        async with ch.consume_iter(queue) as messages:
            deadline = time.monotonic() + within
            while len(got) < expect and time.monotonic() < deadline:
                try:
                    msg = await asyncio.wait_for(messages.__anext__(), deadline - time.monotonic())
                except TimeoutError:
                    break
                got.append(msg.body)
                msg.ack()
    return got


def loop_errors(*brokers: BrokerThread) -> list[str]:
    return [str(e.get("message") or repr(e.get("exception"))) for b in brokers for e in b.errors]


async def collect(url: str, queue: str, expected: set[bytes], within: float = 20.0) -> set[bytes]:
    """Consume ``queue`` until every body in ``expected`` was seen (duplicates allowed:
    at-least-once); returns what was seen."""
    seen: set[bytes] = set()
    deadline = time.monotonic() + within
    while not expected <= seen and time.monotonic() < deadline:
        missing = len(expected - seen)
        seen.update(await drain(url, queue, missing, within=min(2.0, deadline - time.monotonic())))
    return seen


def restart_later(broker: BrokerThread) -> tuple[int, int]:
    """Stop ``broker`` remembering its ports; ``start_again`` brings it back on them."""
    ports = broker.amqp_port, broker.http_port
    broker.stop()
    return ports


def start_again(broker: BrokerThread, ports: tuple[int, int]) -> None:
    broker.config.amqp_port, broker.config.http_port = ports
    for attempt in range(5):
        try:
            broker.start()
            return
        except OSError:  # the freed port is briefly some outgoing connection's local port
            broker.loop = broker._thread = None
            if attempt == 4:
                raise
            time.sleep(0.2)
