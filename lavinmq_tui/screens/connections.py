"""Client connections in a sortable table; ``x`` closes the selected one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header

from lavinmq_tui.api import Json, ManagementClient
from lavinmq_tui.format import (
    Cell,
    count,
    detail_rate,
    number_cell,
    rate_cell,
    size,
    stat_rate,
    text_cell,
)
from lavinmq_tui.screens.base import PolledScreen
from lavinmq_tui.widgets import Column, SortableTable, StatusLine


def client_name(conn: Json) -> Cell:
    """``Pika Python Client Library 1.4.4`` from the client properties."""
    props = conn.get("client_properties")
    props = props if isinstance(props, dict) else {}
    name = str(props.get("connection_name") or props.get("product") or "")
    version = str(props.get("version") or "")
    return text_cell(f"{name} {version}".strip())


def octet_rate(conn: Json, name: str) -> Cell:
    value = detail_rate(conn, name)
    return number_cell(value, f"{size(value)}/s")


COLUMNS = (
    Column("name", "Name", lambda c: text_cell(c.get("name"))),
    Column("vhost", "Vhost", lambda c: text_cell(c.get("vhost"))),
    Column("user", "User", lambda c: text_cell(c.get("user"))),
    Column("state", "State", lambda c: text_cell(c.get("state"))),
    Column("tls", "TLS", lambda c: text_cell("yes" if c.get("ssl") else "")),
    Column("channels", "Channels", lambda c: number_cell(c.get("channels"))),
    Column("client", "Client", client_name),
    Column("recv", "From client", lambda c: octet_rate(c, "recv_oct")),
    Column("send", "To client", lambda c: octet_rate(c, "send_oct")),
    Column("publish", "Publish", lambda c: rate_cell(stat_rate(c, "publish"))),
    Column("deliver", "Deliver", lambda c: rate_cell(stat_rate(c, "deliver_get"))),
)


class ConnectionsScreen(PolledScreen[list[Json]]):
    BINDINGS = [Binding("x", "close_connection", "Close connection")]

    def __init__(self, client: ManagementClient) -> None:
        super().__init__(client)
        self.rows: dict[str, Json] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield SortableTable(COLUMNS, id="connections")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Connections"

    async def fetch(self) -> list[Json]:
        return await self.client.connections()

    def show(self, data: list[Json]) -> None:
        self.rows = {str(c.get("name", "")): c for c in data}
        self.query_one(SortableTable).sync(self.rows)
        self.sub_title = f"{count(len(self.rows))} connections"

    def action_close_connection(self) -> None:
        name = self.query_one(SortableTable).cursor_key
        if name is None or name not in self.rows:
            return
        user = self.rows[name].get("user", "")
        self.confirm_then(
            f"Close connection '{name}' of user '{user}'?",
            lambda: self.client.close_connection(name),
            f"Closed connection '{name}'",
            yes="Close",
        )
