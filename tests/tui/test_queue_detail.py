"""The queue detail view, and purge/delete with confirmation (from it and the table)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from lavinmq.client import Connection
from lavinmq_tui.app import LavinMQApp
from lavinmq_tui.screens import ConfirmScreen, QueueDetailScreen, QueuesScreen
from lavinmq_tui.widgets import RateGraph, SortableTable
from tests.broker_thread import BrokerThread
from tests.tui.conftest import SIZE, column, plain, put_json, queue_count, select, until


def top(app: LavinMQApp) -> Screen[Any]:
    """The screen on top (a call, so that mypy forgets earlier isinstance narrowing)."""
    return app.screen


async def open_detail(app: LavinMQApp, pilot: Pilot[Any], name: str) -> QueueDetailScreen:
    await pilot.press("2")
    table = app.screen.query_one(SortableTable)
    await select(pilot, table, name)
    await pilot.press("enter")
    screen = app.screen
    assert isinstance(screen, QueueDetailScreen)
    await until(pilot, lambda: screen.queue.get("name") == name, what="detail loaded")
    return screen


async def test_detail_shows_arguments_policy_counts_and_consumers(
    app: LavinMQApp, amqp: Connection, broker: BrokerThread
) -> None:
    ch = await amqp.channel()
    await ch.queue_declare("orders", arguments={"x-max-length": 100, "x-message-ttl": 60000})
    for _ in range(7):
        ch.basic_publish(b"order", "", "orders")
    consumer = await amqp.channel()
    await consumer.basic_qos(prefetch_count=3)
    await consumer.basic_consume("orders", lambda m: None, consumer_tag="billing")
    policy = {"pattern": "^orders$", "apply-to": "queues", "definition": {"max-length-bytes": 4096}}
    await put_json(broker, "/api/policies/%2F/capped", policy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "orders")
        assert screen.title == "Queue orders" and screen.sub_title == "vhost /"
        info = plain(screen.query_one("#queue-info", Static).content)
        assert "classic" in info and "Consumers" in info
        arguments = plain(screen.query_one("#queue-arguments", Static).content)
        assert "x-max-length" in arguments and "100" in arguments
        assert "x-message-ttl" in arguments
        assert "capped" in arguments and "max-length-bytes" in arguments and "4096" in arguments
        consumers = screen.query_one("#consumers", SortableTable)
        await until(pilot, lambda: consumers.row_count == 1, what="the consumer")
        assert column(consumers, "tag") == ["billing"]
        assert column(consumers, "prefetch") == ["3"]
        unacked = screen.query_one("#queue-messages_unacknowledged", RateGraph)
        await until(pilot, lambda: unacked.value == "3", what="3 unacked")
        await pilot.press("escape")
        assert isinstance(app.screen, QueuesScreen)


async def test_purge_asks_first_then_purges(
    app: LavinMQApp, amqp: Connection, broker: BrokerThread
) -> None:
    ch = await amqp.channel()
    await ch.queue_declare("tmp")
    for _ in range(25):
        ch.basic_publish(b"x", "", "tmp")
    await ch.queue_declare("tmp", passive=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "tmp")
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Purge all messages from queue 'tmp'" in app.screen.question
        await pilot.press("n")
        assert top(app) is screen
        assert queue_count(broker, "tmp") == 25
        await pilot.press("p")
        await pilot.press("enter")  # the focused button is "No": Enter alone is safe
        assert top(app) is screen and queue_count(broker, "tmp") == 25
        await pilot.press("p", "y")
        await until(pilot, lambda: queue_count(broker, "tmp") == 0, what="purged")
        assert top(app) is screen
        await until(pilot, lambda: screen.queue.get("messages") == 0, what="shown empty")


async def test_delete_from_detail_returns_to_table(
    app: LavinMQApp, amqp: Connection, broker: BrokerThread
) -> None:
    ch = await amqp.channel()
    await ch.queue_declare("doomed")
    await ch.queue_declare("kept")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(app, pilot, "doomed")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert queue_count(broker, "doomed") == 0  # still there (and empty)
        await pilot.press("d")
        await pilot.click("#yes")
        await until(pilot, lambda: queue_count(broker, "doomed") is None, what="deleted")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen), what="back")
        table = app.screen.query_one(SortableTable)
        await until(pilot, lambda: column(table, "name") == ["kept"], what="gone from table")


async def test_purge_and_delete_from_the_table(
    app: LavinMQApp, amqp: Connection, broker: BrokerThread
) -> None:
    ch = await amqp.channel()
    await ch.queue_declare("only")
    for _ in range(3):
        ch.basic_publish(b"x", "", "only")
    await ch.queue_declare("only", passive=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.screen.query_one(SortableTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("p", "y")
        await until(pilot, lambda: queue_count(broker, "only") == 0, what="purged")
        await until(pilot, lambda: column(table, "ready") == ["0"], what="table refreshed")
        await pilot.press("d", "y")
        await until(pilot, lambda: queue_count(broker, "only") is None, what="deleted")
        await until(pilot, lambda: table.row_count == 0, what="row removed")
        await pilot.press("p", "d")  # nothing selected: no dialog
        assert isinstance(app.screen, QueuesScreen)


async def test_detail_of_a_queue_deleted_elsewhere(app: LavinMQApp, amqp: Connection) -> None:
    ch = await amqp.channel()
    await ch.queue_declare("vanishing")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot, "vanishing")
        await ch.queue_delete("vanishing")
        await until(pilot, lambda: screen.gone, what="noticed the queue is gone")
        assert "no longer exists" in plain(screen.query_one("#queue-info", Static).content)
        assert app.status.state == "ok"
        await pilot.press("p")
        assert top(app) is screen  # nothing to purge
