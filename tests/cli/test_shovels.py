"""add_shovel / list_shovels / delete_shovel and the federation upstream commands."""

from __future__ import annotations

import time

import pika

from tests.broker_thread import BrokerThread
from tests.cli.conftest import Ctl, fails, json_out, ok


def test_shovel_moves_messages_and_is_listed_and_deleted(ctl: Ctl, broker: BrokerThread) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(broker.amqp_url))
    ch = conn.channel()
    ch.queue_declare("src")
    ch.queue_declare("dst")
    ch.basic_publish("", "src", b"moved")
    ok(
        ctl(
            "add_shovel",
            "mover",
            "--src-uri",
            "amqp://",
            "--src-queue",
            "src",
            "--dest-uri",
            "amqp://",
            "--dest-queue",
            "dst",
        )
    )
    deadline = time.monotonic() + 10
    while ch.queue_declare("dst", passive=True).method.message_count != 1:
        assert time.monotonic() < deadline, "shovel did not move the message"
        time.sleep(0.05)
    rows = json_out(ctl("-f", "json", "list_shovels"))
    assert [(r["name"], r["vhost"]) for r in rows] == [("mover", "/")]
    ok(ctl("delete_shovel", "mover"))
    assert json_out(ctl("-f", "json", "list_shovels")) == []
    fails(ctl("delete_shovel", "mover"), r"404")
    conn.close()


def test_federation_upstream_commands(ctl: Ctl) -> None:
    ok(ctl("add_federation", "up", "--uri", "amqp://guest:guest@127.0.0.1:1", "--max-hops", "2"))
    rows = json_out(ctl("-f", "json", "list_federations"))
    assert [r["name"] for r in rows] == ["up"]
    assert rows[0]["value.uri"] == "amqp://guest:guest@127.0.0.1:1"
    ok(ctl("delete_federation", "up"))
    assert json_out(ctl("-f", "json", "list_federations")) == []
