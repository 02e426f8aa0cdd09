"""A shovel whose ``dest-uri`` is http(s)://: each message is POSTed there (LavinMQ's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lavinmq.client import BasicProperties, connect
from tests.broker_thread import BrokerThread
from tests.shovel.helpers import Api, wait_for


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    fail_next = {"code": 0}

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        if body == b"bad":
            return web.Response(status=400)
        if body == b"flaky" and fail_next["code"] == 0:
            fail_next["code"] = 503
            return web.Response(status=503)
        received.append({"path": request.path, "body": body, "headers": dict(request.headers)})
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, received
    await server.close()


async def test_posts_each_message(
    broker: BrokerThread, endpoint: tuple[TestServer, list[dict[str, Any]]]
) -> None:
    server, received = endpoint
    api = Api(broker)
    await api.put_parameter(
        "shovel",
        "web",
        {
            "src-uri": "amqp://",
            "src-queue": "out",
            "dest-uri": f"http://u:p@127.0.0.1:{server.port}/hook",
            "reconnect-delay": 0.1,
        },
    )
    async with connect(broker.amqp_url) as conn:
        ch = await conn.channel()
        await ch.queue_declare("out", durable=True)
        await ch.queue_declare("dlq")
        props = BasicProperties(content_type="text/plain", message_id="id1", headers={"k": "v"})
        for body in (b"one", b"bad", b"flaky", b"two"):
            ch.basic_publish(body, "", "out", props)
        await wait_for(lambda: len(received) == 3, what="three POSTs")
    assert [r["body"] for r in received] == [b"one", b"flaky", b"two"]  # 503 retried, 400 dropped
    first = received[0]
    assert first["path"] == "/hook"
    headers = first["headers"]
    assert headers["X-Shovel"] == "web" and headers["Content-Type"] == "text/plain"
    assert headers["X-Message-Id"] == "id1" and headers["X-k"] == "v"
    assert headers["Authorization"].startswith("Basic ")
    assert await api.queue_length("out") == 0
