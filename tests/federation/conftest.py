"""Brokers for the federation tests (A is the upstream, B the downstream)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.broker_thread import BrokerThread
from tests.shovel.helpers import loop_errors


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[Callable[[], BrokerThread]]:
    started: list[BrokerThread] = []

    def make() -> BrokerThread:
        bt = BrokerThread(tmp_path / f"b{len(started)}").start()
        started.append(bt)
        return bt

    yield make
    for bt in reversed(started):
        bt.stop()
    errors = loop_errors(*started)
    assert not errors, f"broker event loop errors: {errors}"


@pytest.fixture
def pair(brokers: Callable[[], BrokerThread]) -> tuple[BrokerThread, BrokerThread]:
    return brokers(), brokers()
