"""The overview screen: totals, rates with sparklines, and the status line."""

from __future__ import annotations

import asyncio

from lavinmq.client import Connection
from lavinmq_tui.app import LavinMQApp
from lavinmq_tui.screens import OverviewScreen
from lavinmq_tui.widgets import RateGraph, StatBox, StatusLine
from tests.tui.conftest import SIZE, publish_for, until


def total(app: LavinMQApp, key: str) -> str:
    return app.screen.query_one(f"#total-{key}", StatBox).value


async def test_overview_shows_totals_and_rates_move(app: LavinMQApp, amqp: Connection) -> None:
    ch = await amqp.channel()
    await ch.queue_declare("tui-overview")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, OverviewScreen)
        await until(pilot, lambda: total(app, "queues") == "1", what="1 queue")
        assert total(app, "connections") == "1" and total(app, "channels") == "1"
        assert app.status.state == "ok"
        assert "LavinMQ" in str(app.screen.query_one(StatusLine).content)

        traffic = asyncio.create_task(publish_for(ch, "tui-overview", seconds=3))
        publish = app.screen.query_one("#rate-publish", RateGraph)
        await until(pilot, lambda: max(publish.samples, default=0) > 0, what="a publish rate")
        assert publish.value.endswith("/s") and publish.value != "0/s"
        await until(pilot, lambda: int(total(app, "messages_ready").replace(",", "")) > 0)
        ready = app.screen.query_one("#count-messages_ready", RateGraph)
        await until(pilot, lambda: max(ready.samples, default=0) > 0, what="ready messages")
        traffic.cancel()


async def test_overview_keeps_its_history_across_screens(app: LavinMQApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.history.values("publish")) >= 2)
        await pilot.press("2")
        seen = len(app.history.values("publish"))
        await until(pilot, lambda: len(app.history.values("publish")) > seen + 2)
        await pilot.press("1")
        assert isinstance(app.screen, OverviewScreen)
        graph = app.screen.query_one("#rate-publish", RateGraph)
        await until(pilot, lambda: len(graph.samples) > seen, what="history shown at once")
