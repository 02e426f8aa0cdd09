"""Fixtures for the management API: a broker built in the test's own loop, and clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import encode_basic_auth, web
from aiohttp.test_utils import TestClient

from lavinmq.auth import Permissions
from lavinmq.broker.broker import Broker
from lavinmq.config import Config
from lavinmq.http.app import make_app

GUEST = {"Authorization": encode_basic_auth("guest", "guest")}
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Broker]:
    """A started broker (no listeners) on the running test loop."""
    broker = Broker(
        Config(data_dir=str(tmp_path / "data"), stats_interval=50), asyncio.get_running_loop()
    )
    broker.start()
    yield broker
    broker.close()


@pytest.fixture
async def api(core: Broker, aiohttp_client: Any) -> Client:
    """A client of ``make_app(core)`` authenticated as guest (administrator)."""
    client: Client = await aiohttp_client(make_app(core, sample=False), headers=GUEST)
    return client


@pytest.fixture
async def as_user(core: Broker, aiohttp_client: Any) -> Callable[..., Awaitable[Client]]:
    """Make a user with ``tags`` (and full permissions on ``vhosts``) and a client for it."""

    async def make(name: str, tags: list[str], vhosts: tuple[str, ...] = ("/",)) -> Client:
        core.users.add(name, "pw", tags)
        for vhost in vhosts:
            core.users.set_permissions(name, vhost, Permissions())
        client: Client = await aiohttp_client(
            make_app(core, sample=False), headers={"Authorization": encode_basic_auth(name, "pw")}
        )
        return client

    return make
