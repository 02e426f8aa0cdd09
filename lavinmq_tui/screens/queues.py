"""All queues in a sortable table; Enter opens one, ``p`` purges and ``d`` deletes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header

from lavinmq_tui.api import Json, ManagementClient
from lavinmq_tui.format import (
    Cell,
    as_float,
    count,
    number_cell,
    rate_cell,
    row_id,
    size,
    stat_rate,
    text_cell,
)
from lavinmq_tui.screens.base import PolledScreen, RefreshRequest
from lavinmq_tui.screens.queue_detail import QueueDetailScreen, confirm_delete, confirm_purge
from lavinmq_tui.widgets import Column, SortableTable, StatusLine


def features(queue: Json) -> Cell:
    """RabbitMQ's feature marks: D(urable), AD (auto-delete), Excl(usive), Args."""
    marks = [
        mark
        for key, mark in (("durable", "D"), ("auto_delete", "AD"), ("exclusive", "Excl"))
        if queue.get(key)
    ]
    if queue.get("arguments"):
        marks.append("Args")
    return text_cell(" ".join(marks))


def _bytes(queue: Json) -> Cell:
    value = as_float(queue.get("message_bytes"))
    return number_cell(value, size(value))


COLUMNS = (
    Column("vhost", "Vhost", lambda q: text_cell(q.get("vhost"))),
    Column("name", "Name", lambda q: text_cell(q.get("name"))),
    Column("type", "Type", lambda q: text_cell(q.get("type"))),
    Column("features", "Features", features),
    Column("state", "State", lambda q: text_cell(q.get("state"))),
    Column("consumers", "Consumers", lambda q: number_cell(q.get("consumers"))),
    Column("ready", "Ready", lambda q: number_cell(q.get("messages_ready"))),
    Column("unacked", "Unacked", lambda q: number_cell(q.get("messages_unacknowledged"))),
    Column("total", "Total", lambda q: number_cell(q.get("messages"))),
    Column("bytes", "Bytes", _bytes),
    Column("publish", "Publish", lambda q: rate_cell(stat_rate(q, "publish"))),
    Column("deliver", "Deliver", lambda q: rate_cell(stat_rate(q, "deliver_get"))),
    Column("ack", "Ack", lambda q: rate_cell(stat_rate(q, "ack"))),
)


class QueuesScreen(PolledScreen[list[Json]]):
    BINDINGS = [
        Binding("p", "purge", "Purge"),
        Binding("d", "delete", "Delete"),
    ]

    def __init__(self, client: ManagementClient) -> None:
        super().__init__(client)
        self.rows: dict[str, Json] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield SortableTable(COLUMNS, id="queues")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Queues"

    async def fetch(self) -> list[Json]:
        return await self.client.queues()

    def show(self, data: list[Json]) -> None:
        self.rows = {row_id(q): q for q in data}
        table = self.query_one(SortableTable)
        table.sync(self.rows)
        self.sub_title = f"{count(len(self.rows))} queues"

    def selected(self) -> Json | None:
        key = self.query_one(SortableTable).cursor_key
        return self.rows.get(key) if key is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        queue = self.rows.get(event.row_key.value or "")
        if queue is not None:
            detail = QueueDetailScreen(self.client, str(queue["vhost"]), str(queue["name"]))
            self.app.push_screen(detail)
            self.app.post_message(RefreshRequest())

    def action_purge(self) -> None:
        queue = self.selected()
        if queue is not None:
            confirm_purge(self, str(queue["vhost"]), str(queue["name"]))

    def action_delete(self) -> None:
        queue = self.selected()
        if queue is not None:
            confirm_delete(self, str(queue["vhost"]), str(queue["name"]))
