"""Durable definitions (exchanges, queues, bindings, exchange-to-exchange bindings) survive
kill -9 (log replay) and graceful restarts (compacted log); transient and exclusive ones,
deleted ones and removed bindings do not come back. The log is compacted periodically."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pika
import pika.exceptions
import pytest

from lavinmq.amqp import spec
from lavinmq.broker import broker as broker_module
from lavinmq.broker import definitions
from lavinmq.storage import DefinitionsLog, dir_name
from tests.broker_thread import BrokerThread
from tests.durability.helpers import BrokerProcess

MakeProcess = Callable[..., BrokerProcess]
Q_ARGS = {"x-max-length": 10, "x-message-ttl": 60000, "x-dead-letter-exchange": "d.fanout"}


def declare_everything(conn: pika.BlockingConnection) -> str:
    """Returns the name of the server-named durable queue."""
    ch = conn.channel()
    for name, kind in (
        ("d.direct", "direct"),
        ("d.fanout", "fanout"),
        ("d.topic", "topic"),
        ("d.headers", "headers"),
    ):
        ch.exchange_declare(name, kind, durable=True)
    ch.exchange_declare("d.internal", "fanout", durable=True, internal=True)
    ch.exchange_declare("d.autodel", "direct", durable=True, auto_delete=True)
    ch.exchange_declare(
        "d.args", "direct", durable=True, arguments={"alternate-exchange": "d.fanout"}
    )
    ch.exchange_declare("t.transient", "direct", durable=False)
    ch.queue_declare("q.plain", durable=True)
    ch.queue_declare("q.fan", durable=True)
    ch.queue_declare("q.args", durable=True, arguments=Q_ARGS)
    gen = ch.queue_declare("", durable=True).method.queue
    ch.queue_declare("q.transient", durable=False)
    ch.queue_declare("q.excl", durable=True, exclusive=True)
    ch.queue_bind("q.plain", "d.direct", "rk")
    ch.queue_bind("q.plain", "d.headers", "", arguments={"x-match": "all", "a": 1})
    ch.queue_bind("q.args", "d.topic", "a.*.c")
    ch.queue_bind("q.fan", "d.fanout")
    ch.queue_bind(gen, "amq.direct", "gen")
    ch.queue_bind("q.plain", "d.autodel", "ad")
    # Exchange-to-exchange: d.topic -> d.fanout -> q.fan; d.direct -> d.internal -> q.plain.
    ch.exchange_bind("d.fanout", "d.topic", "x.#")
    ch.exchange_bind("d.internal", "d.direct", "e2e")
    ch.queue_bind("q.plain", "d.internal")
    # Bindings that must not survive: to an exclusive queue, to a transient queue, from a
    # transient exchange.
    ch.queue_bind("q.excl", "d.direct", "excl")
    ch.queue_bind("q.transient", "d.direct", "tr")
    ch.queue_bind("q.plain", "t.transient", "x")
    # Deleted again: none of this may come back.
    ch.queue_bind("q.plain", "d.direct", "unbound")
    ch.queue_unbind("q.plain", "d.direct", "unbound")
    ch.exchange_bind("d.fanout", "d.direct", "e2e-unbound")
    ch.exchange_unbind("d.fanout", "d.direct", "e2e-unbound")
    ch.queue_declare("q.deleted", durable=True)
    ch.queue_bind("q.deleted", "d.direct", "del")
    ch.queue_delete("q.deleted")
    ch.exchange_declare("d.deleted", "fanout", durable=True)
    ch.exchange_bind("d.deleted", "d.direct", "del-ex")
    ch.queue_bind("q.fan", "d.deleted")
    ch.exchange_delete("d.deleted")
    return gen


def count(conn: pika.BlockingConnection, queue: str) -> int:
    return conn.channel().queue_declare(queue, durable=True, passive=True).method.message_count


def absent(conn: pika.BlockingConnection, kind: str, name: str) -> bool:
    ch = conn.channel()
    try:
        if kind == "queue":
            ch.queue_declare(name, passive=True)
        else:
            ch.exchange_declare(name, passive=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code == 404
    return False


def check_everything(conn: pika.BlockingConnection, gen: str) -> None:
    ch = conn.channel()
    # Declarations, with their properties and arguments (equivalence checks pass).
    for name, kind in (
        ("d.direct", "direct"),
        ("d.fanout", "fanout"),
        ("d.topic", "topic"),
        ("d.headers", "headers"),
    ):
        ch.exchange_declare(name, kind, durable=True)
    ch.exchange_declare("d.internal", "fanout", durable=True, internal=True)
    ch.exchange_declare("d.autodel", "direct", durable=True, auto_delete=True)
    ch.exchange_declare(
        "d.args", "direct", durable=True, arguments={"alternate-exchange": "d.fanout"}
    )
    ch.queue_declare("q.args", durable=True, arguments=Q_ARGS)
    ch.queue_declare(gen, durable=True, passive=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="inequivalent"):
        conn.channel().queue_declare("q.args", durable=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="inequivalent"):
        conn.channel().exchange_declare("d.topic", "direct", durable=True)
    for kind, name in (
        ("queue", "q.transient"),
        ("queue", "q.excl"),
        ("queue", "q.deleted"),
        ("exchange", "t.transient"),
        ("exchange", "d.deleted"),
    ):
        assert absent(conn, kind, name), f"{kind} {name} came back"
    # Bindings, by routing.
    before = {q: count(conn, q) for q in ("q.plain", "q.fan", "q.args", gen)}
    ch = conn.channel()
    ch.confirm_delivery()
    pub = ch.basic_publish
    pub("d.direct", "rk", b"1")  # -> q.plain
    pub("d.direct", "e2e", b"2")  # -> d.internal -> q.plain
    pub("d.headers", "", b"3", pika.BasicProperties(headers={"a": 1}))  # -> q.plain
    pub("d.autodel", "ad", b"4")  # -> q.plain
    pub("d.topic", "a.b.c", b"5")  # -> q.args
    pub("d.topic", "x.y", b"6")  # -> d.fanout -> q.fan
    pub("amq.direct", "gen", b"7")  # -> gen
    for rk in ("unbound", "e2e-unbound", "del", "del-ex", "excl", "tr"):
        pub("d.direct", rk, b"nowhere")
    after = {q: count(conn, q) for q in ("q.plain", "q.fan", "q.args", gen)}
    assert {q: after[q] - before[q] for q in after} == {
        "q.plain": 4,
        "q.fan": 1,
        "q.args": 1,
        gen: 1,
    }


def test_definitions_survive_kill_and_graceful_restarts(broker_process: MakeProcess) -> None:
    broker = broker_process().start()
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    gen = declare_everything(conn)
    broker.kill()  # no shutdown code: only the appended log records count
    for stop in ("kill", "term", "kill", "term"):
        broker.start()
        conn = pika.BlockingConnection(pika.URLParameters(broker.url))
        check_everything(conn, gen)
        conn.close()
        if stop == "kill":
            broker.kill()
        else:
            assert broker.terminate() == 0
    # After a graceful stop the log is compacted: no deletions, no unbinds left in it.
    log = DefinitionsLog(broker.data_dir / dir_name("/") / "definitions.amqp")
    methods = [definitions.decode(frame) for frame in log.replay()]
    assert not [m for m in methods if isinstance(m, definitions.GARBAGE)]
    assert len(methods) == 7 + 4 + 9  # exchanges, queues, bindings (2 of them e2e)


def test_definitions_log_is_compacted_periodically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broker_module, "COMPACT_INTERVAL", 0.2)
    bt = BrokerThread(tmp_path / "data").start()
    try:
        path = tmp_path / "data" / dir_name("/") / "definitions.amqp"
        conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", bt.amqp_port))
        ch = conn.channel()
        for i in range(20):
            ch.queue_declare(f"q{i}", durable=True)
            ch.queue_bind(f"q{i}", "amq.direct", f"k{i}")
        inode = path.stat().st_ino
        time.sleep(0.5)
        assert path.stat().st_ino == inode, "compacted without anything to compact"
        for i in range(10):
            ch.queue_delete(f"q{i}")
        ch.queue_unbind("q10", "amq.direct", "k10")
        deadline = time.monotonic() + 5
        while path.stat().st_ino == inode and time.monotonic() < deadline:
            time.sleep(0.05)
        methods = [definitions.decode(f) for f in DefinitionsLog(path).replay()]
        assert not [m for m in methods if isinstance(m, definitions.GARBAGE)]
        assert (
            sorted(type(m).__name__ for m in methods) == ["QueueBind"] * 9 + ["QueueDeclare"] * 10
        )
        conn.close()
    finally:
        bt.stop()
    assert not bt.errors


@pytest.mark.parametrize(
    "damage",
    [
        lambda args: args + b"\x00",  # a byte after the arguments
        lambda args: args[:-5] + b"\x00\x00\x00\x09Z",  # the arguments table overruns
        lambda args: args[:3],  # cut short
    ],
    ids=["trailing-byte", "bad-table", "truncated"],
)
def test_a_damaged_record_is_refused_with_value_error(damage: Callable[[bytes], bytes]) -> None:
    """``load_definitions`` skips (and logs) records that raise ValueError: a damaged one
    must not stop the broker from booting."""
    frame = definitions.encode(_declare())
    args = damage(frame[11:-1])
    size = (4 + len(args)).to_bytes(4, "big")
    damaged = frame[:3] + size + frame[7:11] + args + b"\xce"
    assert definitions.decode(frame) == _declare()
    with pytest.raises(ValueError, match="definitions log"):
        definitions.decode(damaged)


def _declare() -> spec.QueueDeclare:
    return spec.QueueDeclare(queue="q", durable=True, arguments={"x-max-length": 1})
