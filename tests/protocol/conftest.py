"""Tier 2: ``AMQPProtocol`` on a ``MockTransport``, no sockets (uvicorn tests/protocols)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lavinmq.broker.broker import Broker
from lavinmq.config import Config


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Broker]:
    """A broker core running in the test's own event loop (no listener)."""
    broker = Broker(
        Config(data_dir=str(tmp_path / "data"), amqp_port=-1, http_port=-1),
        asyncio.get_running_loop(),
    )
    broker.start()
    yield broker
    broker.close()
