"""lavinmqctl through Typer's CliRunner, against a live in-process broker's HTTP API."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from lavinmqctl.app import app
from tests.broker_thread import BrokerThread

Ctl = Callable[..., Result]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's own LAVINMQCTL_* settings must not leak into the tests."""
    for name in list(os.environ):
        if name.startswith("LAVINMQCTL_"):
            monkeypatch.delenv(name)


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


@pytest.fixture
def ctl(broker: BrokerThread) -> Ctl:
    """Run ``lavinmqctl --uri <broker> ARGS...``."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return invoke("--uri", broker.http_url, *args, input=input, env=env)

    return run


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[BrokerThread]:
    """A second, independent broker (for definitions round trips)."""
    bt = BrokerThread(tmp_path / "fresh").start()
    yield bt
    bt.stop()
    assert not bt.errors, f"broker event loop errors: {bt.errors}"


def ok(result: Result) -> str:
    """The stdout of a successful run."""
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr or result.stdout}"
    return result.stdout


def fails(result: Result, pattern: str) -> str:
    """Assert exit 1 with exactly one ``Error: ...`` line on stderr matching ``pattern``."""
    assert result.exit_code == 1, f"exit {result.exit_code}: {result.stdout}{result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def table(stdout: str) -> list[list[str]]:
    """Rows of an aligned table (cells split on runs of 2+ spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines() if line.strip()]


def json_out(result: Result) -> Any:
    import orjson

    return orjson.loads(ok(result))
