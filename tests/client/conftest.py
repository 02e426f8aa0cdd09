"""Fixtures for the client tests.

``amqp_url`` is the in-process broker from ``tests/conftest.py``; set
``LAVINMQ_TEST_AMQP_URL`` (e.g. ``amqp://guest:guest@127.0.0.1:5672/%2f`` for a local
RabbitMQ) to run the same tests against another broker.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lavinmq.client import Channel, Connection, connect


@pytest.fixture
def amqp_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("LAVINMQ_TEST_AMQP_URL")
    if url:
        return url
    broker = request.getfixturevalue("broker")
    return str(broker.amqp_url)


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Fail the test if the event loop reported an unhandled error (asyncpg's rule)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    loop.set_exception_handler(previous)
    assert not errors, f"event loop errors: {[e.get('message') for e in errors]}"


@pytest.fixture
async def conn(amqp_url: str, loop_errors: list[dict[str, Any]]) -> AsyncIterator[Connection]:
    c = await connect(amqp_url, name="lavinmq.client tests")
    yield c
    await c.close()


@pytest.fixture
async def ch(conn: Connection) -> Channel:
    return await conn.channel()


@pytest.fixture
async def queue(ch: Channel) -> str:
    """A server-named exclusive queue, deleted with the connection."""
    name, _, _ = await ch.queue_declare("", exclusive=True)
    return name
