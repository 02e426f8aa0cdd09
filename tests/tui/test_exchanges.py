"""The exchanges table."""

from __future__ import annotations

from lavinmq.client import Connection
from lavinmq_tui.app import LavinMQApp
from lavinmq_tui.screens import ExchangesScreen
from lavinmq_tui.widgets import SortableTable
from tests.tui.conftest import SIZE, column, header_offset, until


async def test_exchanges_table_lists_and_sorts(app: LavinMQApp, amqp: Connection) -> None:
    ch = await amqp.channel()
    await ch.exchange_declare("tui.events", "topic", durable=True)
    await ch.exchange_declare("tui.internal", "fanout", internal=True, auto_delete=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        assert isinstance(app.screen, ExchangesScreen)
        table = app.screen.query_one(SortableTable)
        await until(pilot, lambda: table.row_count == 8, what="7 amq.* and 2 new exchanges")
        await pilot.press("s")  # by name
        names = column(table, "name")
        assert names == sorted(names, key=str.lower)
        assert names[0] == "(AMQP default)"
        row = names.index("tui.events")
        assert column(table, "type")[row] == "topic"
        assert column(table, "features")[row] == "D"
        assert column(table, "features")[names.index("tui.internal")] == "AD I"
        await pilot.click(SortableTable, offset=header_offset(table, "type"))
        types = column(table, "type")
        assert types == sorted(types)
