"""Durability-tier fixtures: in-process brokers with config overrides, broker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.broker_thread import BrokerThread
from tests.durability.helpers import BrokerProcess


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., BrokerThread]]:
    """Start in-process brokers with ``Config`` overrides; stopped and checked at the end."""
    started: list[BrokerThread] = []

    def make(**overrides: Any) -> BrokerThread:
        bt = BrokerThread(tmp_path / f"data{len(started)}", **overrides).start()
        started.append(bt)
        return bt

    yield make
    for bt in started:
        bt.stop()
    errors = [e.get("message") or repr(e.get("exception")) for bt in started for e in bt.errors]
    assert not errors, f"broker event loop errors: {errors}"


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[Callable[..., BrokerProcess]]:
    """Make ``BrokerProcess``es in the test's tmp dir; none is left running."""
    made: list[BrokerProcess] = []

    def make(name: str = "broker", **kwargs: Any) -> BrokerProcess:
        bp = BrokerProcess(tmp_path / name, **kwargs)
        made.append(bp)
        return bp

    yield make
    for bp in made:
        bp.close()
