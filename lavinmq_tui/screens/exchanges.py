"""Exchanges in a sortable table, with their message rates in and out."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header

from lavinmq_tui.api import Json, ManagementClient
from lavinmq_tui.format import Cell, count, rate_cell, row_id, stat_rate, text_cell
from lavinmq_tui.screens.base import PolledScreen
from lavinmq_tui.widgets import Column, SortableTable, StatusLine


def features(exchange: Json) -> Cell:
    marks = [
        mark
        for key, mark in (("durable", "D"), ("auto_delete", "AD"), ("internal", "I"))
        if exchange.get(key)
    ]
    if exchange.get("arguments"):
        marks.append("Args")
    return text_cell(" ".join(marks))


def exchange_name(exchange: Json) -> Cell:
    name = exchange.get("name")
    return text_cell(name) if name else text_cell("(AMQP default)")


COLUMNS = (
    Column("vhost", "Vhost", lambda e: text_cell(e.get("vhost"))),
    Column("name", "Name", exchange_name),
    Column("type", "Type", lambda e: text_cell(e.get("type"))),
    Column("features", "Features", features),
    Column("policy", "Policy", lambda e: text_cell(e.get("policy"))),
    Column("in", "Publish in", lambda e: rate_cell(stat_rate(e, "publish_in"))),
    Column("out", "Publish out", lambda e: rate_cell(stat_rate(e, "publish_out"))),
)


class ExchangesScreen(PolledScreen[list[Json]]):
    def __init__(self, client: ManagementClient) -> None:
        super().__init__(client)
        self.rows: dict[str, Json] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield SortableTable(COLUMNS, id="exchanges")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Exchanges"

    async def fetch(self) -> list[Json]:
        return await self.client.exchanges()

    def show(self, data: list[Json]) -> None:
        self.rows = {row_id(e): e for e in data}
        self.query_one(SortableTable).sync(self.rows)
        self.sub_title = f"{count(len(self.rows))} exchanges"
