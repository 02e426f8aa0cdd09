"""The connections table, and closing a connection with confirmation."""

from __future__ import annotations

import asyncio

from lavinmq.client import Connection, connect
from lavinmq_tui.app import LavinMQApp
from lavinmq_tui.screens import ConfirmScreen, ConnectionsScreen
from lavinmq_tui.widgets import SortableTable
from tests.broker_thread import BrokerThread
from tests.tui.conftest import SIZE, column, select, until


def connection_count(broker: BrokerThread) -> int:
    return broker.call(lambda: len(broker.broker.connections))


async def test_lists_and_closes_a_connection(
    app: LavinMQApp, amqp: Connection, broker: BrokerThread
) -> None:
    other = await connect(broker.amqp_url, name="bystander")
    await amqp.channel()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, ConnectionsScreen)
        table = app.screen.query_one(SortableTable)
        await until(pilot, lambda: table.row_count == 2, what="2 connections")
        await pilot.click(SortableTable, offset=(2, 0))  # sort by name
        clients = column(table, "client")
        assert {c.split()[0] for c in clients} == {"tui-test", "bystander"}
        assert column(table, "user") == ["guest", "guest"]
        await select(pilot, table, next(c for c in clients if c.startswith("tui-test")), "client")

        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Close connection" in app.screen.question
        await pilot.press("n")
        assert amqp.is_open
        await pilot.press("x", "y")
        closed = await asyncio.wait_for(amqp.wait_closed(), 5)
        assert "CONNECTION_FORCED - Closed via lavinmq-tui" in str(closed)
        await until(pilot, lambda: table.row_count == 1, what="row removed")
        assert column(table, "client")[0].startswith("bystander")
        assert connection_count(broker) == 1 and other.is_open
    await other.close()
