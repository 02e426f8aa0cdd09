"""Fixtures for the TUI's pilot tests: a live broker, an AMQP client and the app.

The app runs in the test's own event loop (``App.run_test``) and polls the broker's
HTTP API every 50 ms; traffic comes from ``lavinmq.client`` in the same loop, so the
broker's answers (Connection.Close included) are read while the test awaits.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.console import Console
from textual.pilot import Pilot

from lavinmq.client import Connection, connect
from lavinmq_tui.api import Target
from lavinmq_tui.app import LavinMQApp
from lavinmq_tui.widgets import SortableTable
from tests.broker_thread import BrokerThread

T = TypeVar("T")
SIZE = (120, 36)
POLL = 0.15


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerThread]:
    """tests/conftest.py's broker, sampling rates every 100 ms (not 5 s) so they move."""
    bt = BrokerThread(tmp_path / "data", stats_interval=100).start()
    yield bt
    bt.stop()
    errors = [e.get("message") or repr(e.get("exception")) for e in bt.errors]
    assert not errors, f"broker event loop errors: {errors}"


@pytest.fixture
def app(broker: BrokerThread) -> LavinMQApp:
    return make_app(broker.http_url)


def make_app(uri: str, user: str = "guest", password: str = "guest") -> LavinMQApp:
    return LavinMQApp(Target.parse(uri, user, password, timeout=2), interval=POLL)


@pytest.fixture
async def amqp(broker: BrokerThread) -> AsyncIterator[Connection]:
    """An AMQP connection named ``tui-test`` from the test's loop."""
    conn = await connect(broker.amqp_url, name="tui-test")
    yield conn
    if conn.is_open:
        await conn.close()


async def until(
    pilot: Pilot[Any], predicate: Callable[[], T], within: float = 5.0, what: str = ""
) -> T:
    """Let the app run until ``predicate()`` is truthy (or fail after ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or predicate}")
        await pilot.pause(0.02)


def column(table: SortableTable, key: str) -> list[str]:
    """The texts of one column, top to bottom (the sorted order)."""
    return [str(cell) for cell in table.get_column(key)]


async def select(pilot: Pilot[Any], table: SortableTable, name: str, key: str = "name") -> None:
    """Move the cursor down to the row whose ``key`` column reads ``name``."""
    await until(pilot, lambda: name in column(table, key), what=f"{name} listed")
    await pilot.press("home")
    while column(table, key)[table.cursor_row] != name:
        await pilot.press("down")


def header_offset(table: SortableTable, key: str) -> tuple[int, int]:
    """Where to click on ``key``'s header: the x of its label, y 0."""
    x = 0
    for col in table.ordered_columns:
        if col.key == key:
            return (x + 2, 0)
        x += col.get_render_width(table)
    raise KeyError(key)


def plain(renderable: Any) -> str:
    """A rich renderable (what a Static shows) as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def queue_count(broker: BrokerThread, name: str, vhost: str = "/") -> int | None:
    """Messages in a queue, read inside the broker's loop (None: no such queue)."""

    def read() -> int | None:
        q = broker.broker.vhosts[vhost].queues.get(name)
        return None if q is None else int(q.message_count)

    return broker.call(read)


async def put_json(broker: BrokerThread, path: str, body: dict[str, Any]) -> None:
    """PUT ``body`` to the management API as guest (set-up the TUI can't do itself)."""
    import aiohttp

    auth = {"Authorization": aiohttp.encode_basic_auth("guest", "guest")}
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.put(broker.http_url + path, json=body) as resp,
    ):
        assert resp.status < 300, await resp.text()


async def publish_for(ch: Any, queue: str, seconds: float, burst: int = 20) -> None:
    """Publish ``burst`` messages every 20 ms for ``seconds`` (steady traffic)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(burst):
            ch.basic_publish(b"tui", "", queue)
        await asyncio.sleep(0.02)
