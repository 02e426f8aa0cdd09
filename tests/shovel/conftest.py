"""Two in-process brokers, A and B, each on its own data dir and loop thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_thread import BrokerThread
from tests.shovel.helpers import loop_errors


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[BrokerThread, BrokerThread]]:
    a = BrokerThread(tmp_path / "a").start()
    b = BrokerThread(tmp_path / "b").start()
    yield a, b
    b.stop()
    a.stop()
    errors = loop_errors(a, b)
    assert not errors, f"broker event loop errors: {errors}"
