"""Shared fixtures: an in-process broker per test (port 0, its own data dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_thread import BrokerThread


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerThread]:
    """A running broker; the test fails if the broker's loop reported an error."""
    bt = BrokerThread(tmp_path / "data").start()
    yield bt
    bt.stop()
    errors = [e.get("message") or repr(e.get("exception")) for e in bt.errors]
    assert not errors, f"broker event loop errors: {errors}"


@pytest.fixture
def amqp_url(broker: BrokerThread) -> str:
    return broker.amqp_url
