"""Durability-tier fixtures: in-process brokers with config overrides, broker processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.durability.helpers import BrokerProcess


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
