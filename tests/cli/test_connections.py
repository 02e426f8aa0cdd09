"""list_connections, close_connection, close_all_connections, list_channels, list_consumers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pika
import pytest

from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, json_out, ok, table
from tests.integration.helpers import pika_connect, wait_for


@pytest.fixture
def consumer(broker: BrokerThread) -> Iterator[pika.BlockingConnection]:
    """An AMQP connection with one channel consuming from queue "inbox" (prefetch 7)."""
    conn = pika_connect(broker)
    ch = conn.channel()
    ch.queue_declare("inbox")
    ch.basic_qos(prefetch_count=7)
    ch.basic_consume("inbox", lambda *a: None, consumer_tag="ctag-1")
    yield conn
    _close_quietly(conn)


def _close_quietly(*conns: pika.BlockingConnection) -> None:
    """Close what the broker has not closed already (pika notices only now)."""
    for conn in conns:
        with contextlib.suppress(pika.exceptions.AMQPError):
            if conn.is_open:
                conn.close()


def _pump(*conns: pika.BlockingConnection) -> None:
    """Let pika answer the broker's Connection.Close (it only reads when asked to)."""
    for conn in conns:
        with contextlib.suppress(pika.exceptions.AMQPError):
            if conn.is_open:
                conn.process_data_events(time_limit=0)


def _gone(ctl: Ctl, *conns: pika.BlockingConnection, left: int = 0) -> bool:
    _pump(*conns)
    return len(_names(ctl)) == left


def _names(ctl: Ctl) -> list[str]:
    return [c["name"] for c in json_out(ctl("-f", "json", "list_connections", "name"))]


def test_list_connections(ctl: Ctl, consumer: pika.BlockingConnection) -> None:
    out = ok(ctl("list_connections"))
    assert out.splitlines()[0] == "Listing connections ..."
    rows = table(out)[1:]
    assert rows[0] == ["user", "peer_host", "peer_port", "state"]
    assert rows[1][0] == "guest" and rows[1][1] == "127.0.0.1" and rows[1][3] == "running"
    rows = json_out(ctl("-f", "json", "list_connections", "user", "vhost", "channels"))
    assert rows == [{"user": "guest", "vhost": "/", "channels": 1}]


def test_list_connections_client_properties(ctl: Ctl, consumer: pika.BlockingConnection) -> None:
    [row] = json_out(ctl("-f", "json", "list_connections", "client_properties.product"))
    assert row == {"client_properties.product": "Pika Python Client Library"}


def test_list_channels(ctl: Ctl, consumer: pika.BlockingConnection) -> None:
    out = ok(ctl("list_channels"))
    assert out.splitlines()[0] == "Listing channels ..."
    rows = json_out(ctl("-f", "json", "list_channels"))
    assert len(rows) == 1
    assert rows[0]["user"] == "guest"
    assert rows[0]["consumer_count"] == 1
    assert rows[0]["messages_unacknowledged"] == 0
    assert rows[0]["name"].endswith("(1)")


def test_list_consumers(ctl: Ctl, consumer: pika.BlockingConnection) -> None:
    out = ok(ctl("list_consumers"))
    assert out.splitlines()[0] == "Listing consumers in vhost / ..."
    [row] = json_out(ctl("-f", "json", "list_consumers"))
    assert row["queue.name"] == "inbox"
    assert row["consumer_tag"] == "ctag-1"
    assert row["ack_required"] is True
    assert row["prefetch_count"] == 7
    assert row["channel_details.name"].endswith("(1)")
    fails(ctl("list_consumers", "-p", "nope"), r"404 Not Found")


def test_empty_lists(ctl: Ctl) -> None:
    assert table(ok(ctl("-q", "list_connections"))) == [["user", "peer_host", "peer_port", "state"]]
    assert ok(ctl("-s", "list_connections")) == ""
    assert json_out(ctl("-f", "json", "list_channels")) == []
    assert json_out(ctl("-f", "json", "list_consumers")) == []


def test_close_connection(
    ctl: Ctl, broker: BrokerThread, consumer: pika.BlockingConnection
) -> None:
    [name] = _names(ctl)
    out = ok(ctl("close_connection", name, "maintenance"))
    assert out == f"Closing connection {name} ...\n"
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker, match="maintenance"):
        consumer.process_data_events(time_limit=2)
    wait_for(lambda: not _names(ctl), what="connection closed")


def test_close_missing_connection_is_404(ctl: Ctl) -> None:
    fails(ctl("close_connection", "127.0.0.1:1 -> 127.0.0.1:2"), r"404 Not Found")


def test_close_all_connections(ctl: Ctl, broker: BrokerThread) -> None:
    conns = [pika_connect(broker) for _ in range(3)]
    try:
        names = sorted(_names(ctl))
        assert len(names) == 3
        rows = json_out(ctl("-f", "json", "close_all_connections", "bye"))
        assert sorted(r["name"] for r in rows) == names
        wait_for(lambda: _gone(ctl, *conns), what="all connections closed")
    finally:
        _close_quietly(*conns)


def test_close_all_connections_of_one_vhost(ctl: Ctl, broker: BrokerThread) -> None:
    ok(ctl("add_vhost", "side"))
    root = pika_connect(broker)
    side = pika_connect(broker, virtual_host="side")
    try:
        out = ok(ctl("close_all_connections", "-p", "side"))
        assert out.startswith("Closing connection ")
        wait_for(lambda: _gone(ctl, side, left=1), what="side connection closed")
        assert json_out(ctl("-f", "json", "list_connections", "vhost")) == [{"vhost": "/"}]
    finally:
        _close_quietly(root, side)
    fails(ctl("close_all_connections", "-p", "nope"), r"404 Not Found")


def test_close_connection_reason_outside_latin1(
    ctl: Ctl, consumer: pika.BlockingConnection
) -> None:
    [name] = _names(ctl)
    ok(ctl("-q", "close_connection", name, "snow \u2603"))
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker, match="snow"):
        consumer.process_data_events(time_limit=2)
