"""The queues table: listing, sorting (key and header click), cursor kept on refresh."""

from __future__ import annotations

from lavinmq.client import Connection
from lavinmq_tui.app import LavinMQApp
from lavinmq_tui.screens import QueuesScreen
from lavinmq_tui.widgets import SortableTable
from tests.tui.conftest import SIZE, column, header_offset, select, until


async def declare_with_messages(amqp: Connection, counts: dict[str, int]) -> None:
    ch = await amqp.channel()
    for name, n in counts.items():
        await ch.queue_declare(name, durable=name.startswith("d"))
        for _ in range(n):
            ch.basic_publish(b"m", "", name)
    await ch.queue_declare("sync", passive=False)  # a round trip: the publishes are in


async def test_queues_table_lists_and_sorts(app: LavinMQApp, amqp: Connection) -> None:
    await declare_with_messages(amqp, {"b-q": 5, "a-q": 1, "durable-q": 10})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert isinstance(app.screen, QueuesScreen)
        table = app.screen.query_one(SortableTable)
        await until(pilot, lambda: table.row_count == 4, what="4 queues listed")
        assert app.screen.sub_title == "4 queues"
        await pilot.press("s")  # vhost -> name
        assert table.sort_column == "name"
        assert column(table, "name") == ["a-q", "b-q", "durable-q", "sync"]
        assert column(table, "features")[2] == "D"
        await pilot.press("S")
        assert column(table, "name") == ["sync", "durable-q", "b-q", "a-q"]

        await pilot.click(SortableTable, offset=header_offset(table, "ready"))
        assert (table.sort_column, table.sort_reverse) == ("ready", False)
        assert column(table, "ready") == ["0", "1", "5", "10"]
        await pilot.click(SortableTable, offset=header_offset(table, "ready"))
        assert column(table, "name") == ["durable-q", "b-q", "a-q", "sync"]
        assert "▼" in str(table.columns[table.ordered_columns[6].key].label)


async def test_refresh_keeps_cursor_and_sort(app: LavinMQApp, amqp: Connection) -> None:
    await declare_with_messages(amqp, {"q1": 1, "q2": 2, "q3": 3})
    ch = await amqp.channel()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.screen.query_one(SortableTable)
        await until(pilot, lambda: table.row_count == 4)
        await pilot.click(SortableTable, offset=header_offset(table, "total"))
        await select(pilot, table, "q2")
        assert column(table, "name").index("q2") == table.cursor_row == 2
        for _ in range(5):
            ch.basic_publish(b"m", "", "q2")  # q2 moves to the bottom of the sort
        await until(pilot, lambda: column(table, "name")[-1] == "q2", what="q2 resorted")
        assert column(table, "name")[table.cursor_row] == "q2"
        assert column(table, "total") == ["0", "1", "3", "7"]
        await ch.queue_delete("q1")
        await until(pilot, lambda: table.row_count == 3, what="q1 gone from the table")
        assert column(table, "name")[table.cursor_row] == "q2"
