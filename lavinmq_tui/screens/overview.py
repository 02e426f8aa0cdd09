"""The overview: object and message totals, and broker-wide rates as sparklines."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Label

from lavinmq_tui.api import Json, ManagementClient
from lavinmq_tui.format import as_float, count, rate
from lavinmq_tui.history import MESSAGE_COUNTS, OVERVIEW_RATES, OverviewHistory
from lavinmq_tui.screens.base import PolledScreen
from lavinmq_tui.widgets import RateGraph, StatBox, StatusLine

OBJECT_TOTALS = {
    "connections": "Connections",
    "channels": "Channels",
    "exchanges": "Exchanges",
    "queues": "Queues",
    "consumers": "Consumers",
}
QUEUE_TOTALS = {
    "messages": "Messages",
    "messages_ready": "Ready",
    "messages_unacknowledged": "Unacked",
}
RATE_LABELS = {
    "publish": "Publish",
    "deliver_get": "Deliver / get",
    "ack": "Ack",
    "confirm": "Confirm",
    "redeliver": "Redeliver",
    "return_unroutable": "Unroutable",
    "messages_ready": "Ready",
    "messages_unacknowledged": "Unacked",
}


class OverviewScreen(PolledScreen[None]):
    """Shows the app's ``OverviewHistory``; the app polls ``/api/overview`` for it."""

    def __init__(self, client: ManagementClient, history: OverviewHistory, **kw: Any) -> None:
        super().__init__(client, **kw)
        self.history = history

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="overview-body"):
            with Horizontal(id="totals"):
                for key, label in {**OBJECT_TOTALS, **QUEUE_TOTALS}.items():
                    yield StatBox(label, id=f"total-{key}")
            with Vertical(id="rates", classes="panel") as rates:
                rates.border_title = "Message rates"
                for name in OVERVIEW_RATES:
                    yield RateGraph(RATE_LABELS[name], span=self.history.size, id=f"rate-{name}")
            with Vertical(id="queued", classes="panel") as queued:
                queued.border_title = "Queued messages"
                for name in MESSAGE_COUNTS:
                    yield RateGraph(RATE_LABELS[name], span=self.history.size, id=f"count-{name}")
            yield Label("", id="broker-info", markup=False)
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Overview"
        if self.history.overview:
            self.show(None)

    async def fetch(self) -> None:
        return None  # the app has just recorded the overview into the history

    def show(self, data: None) -> None:
        overview = self.history.overview
        for group, labels in (("object_totals", OBJECT_TOTALS), ("queue_totals", QUEUE_TOTALS)):
            totals = overview.get(group)
            totals = totals if isinstance(totals, dict) else {}
            for key in labels:
                self.query_one(f"#total-{key}", StatBox).show(count(as_float(totals.get(key))))
        for name in OVERVIEW_RATES:
            graph = self.query_one(f"#rate-{name}", RateGraph)
            graph.show(self.history.values(name), rate(self.history.latest(name)))
        for name in MESSAGE_COUNTS:
            graph = self.query_one(f"#count-{name}", RateGraph)
            graph.show(self.history.values(name), count(self.history.latest(name)))
        self.query_one("#broker-info", Label).update(broker_info(overview))


def broker_info(overview: Json) -> str:
    """``LavinMQ 0.1.0 on lavinmq@localhost, up 2h 3m``."""
    product = f"{overview.get('product_name', 'LavinMQ')} {overview.get('product_version', '')}"
    up = uptime(as_float(overview.get("uptime")) / 1000)
    return f"{product.strip()} on {overview.get('node', '?')}, up {up}"


def uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
