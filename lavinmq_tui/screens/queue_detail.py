"""One queue: counts, rates, arguments, policy and consumers; ``p`` purges, ``d`` deletes."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static

from lavinmq_tui.api import Json, ManagementClient, NotFound
from lavinmq_tui.format import as_float, count, number_cell, rate, size, text_cell
from lavinmq_tui.history import MESSAGE_COUNTS, QUEUE_RATES, QueueHistory
from lavinmq_tui.screens.base import Hook, PolledScreen
from lavinmq_tui.widgets import Column, RateGraph, SortableTable, StatusLine

LABELS = {
    "publish": "Publish",
    "deliver_get": "Deliver / get",
    "ack": "Ack",
    "redeliver": "Redeliver",
    "messages_ready": "Ready",
    "messages_unacknowledged": "Unacked",
}
CONSUMER_COLUMNS = (
    Column("tag", "Consumer tag", lambda c: text_cell(c.get("consumer_tag"))),
    Column("channel", "Channel", lambda c: text_cell(_channel(c).get("name"))),
    Column("user", "User", lambda c: text_cell(_channel(c).get("user"))),
    Column("ack", "Ack required", lambda c: text_cell("yes" if c.get("ack_required") else "no")),
    Column("exclusive", "Exclusive", lambda c: text_cell("yes" if c.get("exclusive") else "no")),
    Column("prefetch", "Prefetch", lambda c: number_cell(c.get("prefetch_count"))),
)


def _channel(consumer: Json) -> Json:
    details = consumer.get("channel_details")
    return details if isinstance(details, dict) else {}


def confirm_purge(screen: PolledScreen[Any], vhost: str, name: str) -> None:
    screen.confirm_then(
        f"Purge all messages from queue '{name}' in vhost '{vhost}'?",
        lambda: screen.client.purge_queue(vhost, name),
        f"Purged queue '{name}'",
        yes="Purge",
    )


def confirm_delete(screen: PolledScreen[Any], vhost: str, name: str, then: Hook = None) -> None:
    screen.confirm_then(
        f"Delete queue '{name}' in vhost '{vhost}' and all its messages?",
        lambda: screen.client.delete_queue(vhost, name),
        f"Deleted queue '{name}'",
        yes="Delete",
        then=then,
    )


def key_values(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in rows:
        grid.add_row(Text(key), Text(value))
    return grid


def _mapping(data: Any) -> list[tuple[str, str]]:
    items = data.items() if isinstance(data, dict) else []
    return [(f"  {k}", str(v)) for k, v in sorted(items)] or [("  (none)", "")]


class QueueDetailScreen(PolledScreen[Json | None]):
    """Polls ``GET /api/queues/{vhost}/{name}``; Escape goes back to the table."""

    BINDINGS = [
        Binding("p", "purge", "Purge"),
        Binding("d", "delete", "Delete"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, client: ManagementClient, vhost: str, name: str) -> None:
        super().__init__(client)
        self.vhost, self.queue_name = vhost, name
        self.queue: Json = {}
        self.gone = False
        self.history = QueueHistory()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="queue-top"):
            yield Static("Loading…", id="queue-info", classes="panel")
            yield Static("", id="queue-arguments", classes="panel")
        with Vertical(id="queue-rates", classes="panel") as rates:
            rates.border_title = "Rates and queued messages"
            for name in QUEUE_RATES + MESSAGE_COUNTS:
                yield RateGraph(LABELS[name], span=self.history.size, id=f"queue-{name}")
        table = SortableTable(CONSUMER_COLUMNS, id="consumers", classes="panel")
        table.border_title = "Consumers"
        yield table
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Queue {self.queue_name}"
        self.sub_title = f"vhost {self.vhost}"
        self.query_one("#queue-info", Static).border_title = "Details"
        self.query_one("#queue-arguments", Static).border_title = "Arguments and policy"

    async def fetch(self) -> Json | None:
        try:
            return await self.client.queue(self.vhost, self.queue_name)
        except NotFound:
            return None

    def show(self, data: Json | None) -> None:
        if data is None:
            self.gone = True
            self.query_one("#queue-info", Static).update(
                Text(f"Queue '{self.queue_name}' no longer exists.", style="bold red")
            )
            return
        self.queue, self.gone = data, False
        self.history.record(data)
        self.query_one("#queue-info", Static).update(key_values(self.info_rows()))
        self.query_one("#queue-arguments", Static).update(key_values(self.argument_rows()))
        for name in QUEUE_RATES + MESSAGE_COUNTS:
            value = self.history.latest(name)
            text = rate(value) if name in QUEUE_RATES else count(value)
            self.query_one(f"#queue-{name}", RateGraph).show(self.history.values(name), text)
        consumers = data.get("consumer_details")
        rows = consumers if isinstance(consumers, list) else []
        self.query_one(SortableTable).sync({_consumer_id(c): c for c in rows})

    def info_rows(self) -> list[tuple[str, str]]:
        q = self.queue
        flags = [k for k in ("durable", "auto_delete", "exclusive") if q.get(k)]
        return [
            ("Virtual host", str(q.get("vhost", ""))),
            ("Name", str(q.get("name", ""))),
            ("Type", str(q.get("type", ""))),
            ("State", str(q.get("state", ""))),
            ("Features", ", ".join(flags) or "-"),
            ("Consumers", count(as_float(q.get("consumers")))),
            ("Ready", count(as_float(q.get("messages_ready")))),
            ("Unacked", count(as_float(q.get("messages_unacknowledged")))),
            ("Total", count(as_float(q.get("messages")))),
            ("Bytes", size(as_float(q.get("message_bytes")))),
        ]

    def argument_rows(self) -> list[tuple[str, str]]:
        q = self.queue
        return [
            ("Policy", str(q.get("policy") or "-")),
            ("Operator policy", str(q.get("operator_policy") or "-")),
            ("Arguments", ""),
            *_mapping(q.get("arguments")),
            ("Effective policy definition", ""),
            *_mapping(q.get("effective_policy_definition")),
        ]

    def action_purge(self) -> None:
        if not self.gone:
            confirm_purge(self, self.vhost, self.queue_name)

    def action_delete(self) -> None:
        if not self.gone:
            confirm_delete(self, self.vhost, self.queue_name, then=self.leave)

    def action_back(self) -> None:
        self.leave()

    def leave(self) -> None:
        """Back to the queues table (if nothing was pushed on top of this meanwhile)."""
        if self.is_active:
            self.dismiss()


def _consumer_id(consumer: Json) -> str:
    return f"{_channel(consumer).get('name', '')}\x00{consumer.get('consumer_tag', '')}"
