"""Exchanges: the default exchange, direct, fanout, topic, headers, the amq.* set, declare
flags and equivalence, delete, and exchange-to-exchange bindings."""

from __future__ import annotations

import aio_pika
import aiormq
import aiormq.exceptions
import pika
import pika.exceptions
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from tests.broker_thread import BrokerThread
from tests.integration.helpers import assert_broker_alive, drain, exchange_exists, pika_connect

# -- default exchange -------------------------------------------------------------------------


def test_default_exchange_routes_by_queue_name(ch: BlockingChannel) -> None:
    ch.queue_declare("d1")
    ch.queue_declare("d2")
    ch.basic_publish("", "d1", b"one")
    ch.basic_publish("", "d2", b"two")
    ch.basic_publish("", "nowhere", b"lost")
    assert drain(ch, "d1") == [b"one"]
    assert drain(ch, "d2") == [b"two"]


def test_default_exchange_cannot_be_bound(
    conn: pika.BlockingConnection, ch: BlockingChannel
) -> None:
    ch.queue_declare("d1")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"403.*default exchange"):
        ch.queue_bind("d1", "", routing_key="x")
    ch2 = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"403.*default exchange"):
        ch2.queue_unbind("d1", "", routing_key="x")
    conn.channel().queue_declare("still-fine")


def test_default_exchange_cannot_be_declared_or_deleted(conn: pika.BlockingConnection) -> None:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="403"):
        conn.channel().exchange_declare("", "direct")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="403"):
        conn.channel().exchange_delete("")
    conn.channel().exchange_declare("", "direct", passive=True)


# -- direct ---------------------------------------------------------------------------------------


def test_direct_exact_match(ch: BlockingChannel) -> None:
    ch.exchange_declare("dx", "direct")
    for q, keys in {"qa": ["a"], "qb": ["b", "shared"], "qc": ["shared"]}.items():
        ch.queue_declare(q)
        for key in keys:
            ch.queue_bind(q, "dx", routing_key=key)
    ch.queue_bind("qa", "dx", routing_key="a")  # a duplicate binding is a no-op
    for key in ("a", "b", "shared", "A", "a.b", ""):
        ch.basic_publish("dx", key, key.encode())
    assert drain(ch, "qa") == [b"a"]
    assert drain(ch, "qb") == [b"b", b"shared"]
    assert drain(ch, "qc") == [b"shared"]


def test_direct_one_copy_per_queue_with_two_matching_bindings(ch: BlockingChannel) -> None:
    ch.exchange_declare("dx", "direct")
    ch.queue_declare("q")
    ch.queue_bind("q", "dx", routing_key="k")
    ch.queue_bind("q", "dx", routing_key="k", arguments={"x-extra": 1})
    ch.basic_publish("dx", "k", b"m")
    assert drain(ch, "q") == [b"m"]
    ch.queue_unbind("q", "dx", routing_key="k")
    ch.basic_publish("dx", "k", b"m2")
    assert drain(ch, "q") == [b"m2"], "the binding with arguments still routes"
    ch.queue_unbind("q", "dx", routing_key="k", arguments={"x-extra": 1})
    ch.basic_publish("dx", "k", b"m3")
    assert drain(ch, "q") == []


# -- fanout ---------------------------------------------------------------------------------------


def test_fanout_ignores_routing_key(ch: BlockingChannel) -> None:
    ch.exchange_declare("fx", "fanout")
    for q in ("f1", "f2", "f3"):
        ch.queue_declare(q)
        ch.queue_bind(q, "fx", routing_key=q)
    ch.basic_publish("fx", "anything", b"all")
    for q in ("f1", "f2", "f3"):
        assert drain(ch, q) == [b"all"]
    ch.queue_unbind("f2", "fx", routing_key="f2")
    ch.basic_publish("fx", "", b"two")
    assert [len(drain(ch, q)) for q in ("f1", "f2", "f3")] == [1, 0, 1]


# -- topic ----------------------------------------------------------------------------------------


def topic_matches(pattern: str, key: str) -> bool:
    """Reference matcher: ``*`` is exactly one word, ``#`` zero or more words."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        if not k:
            return False
        return (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), key.split(".") if key else [""])


TOPIC_PATTERNS = [
    "#",
    "*",
    "a",
    "a.b",
    "a.*",
    "*.b",
    "a.#",
    "#.b",
    "a.#.b",
    "a.*.b",
    "*.*",
    "#.#",
    "a.b.c",
    "*.b.*",
    "#.c",
    "a.*.#",
    "#.*",
    "*.#",
    "x.#.y.#.z",
    "",
    "a..b",
    "#.a.#",
]
TOPIC_KEYS = [
    "",
    "a",
    "b",
    "a.b",
    "a.c",
    "c.b",
    "a.b.c",
    "a.x.b",
    "a.x.y.b",
    "x.y.z",
    "x.a.y.b.z.z",
    "a..b",
    "a.b.b",
    "b.a",
    "x.y.q.y.z",
    "c",
]


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("a.*", "a", False),
        ("a.#", "a", True),
        ("#.b", "b", True),
        ("*", "", True),
        ("a.*.b", "a.b", False),
        ("#", "", True),
        ("a.#.b", "a.b", True),
    ],
)
def test_reference_topic_matcher(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def test_topic_many_patterns(ch: BlockingChannel) -> None:
    ch.exchange_declare("tx", "topic")
    queues = {}
    for i, pattern in enumerate(TOPIC_PATTERNS):
        q = f"t{i}"
        queues[q] = pattern
        ch.queue_declare(q)
        ch.queue_bind(q, "tx", routing_key=pattern)
    for key in TOPIC_KEYS:
        ch.basic_publish("tx", key, key.encode())
    for q, pattern in queues.items():
        expected = [k.encode() for k in TOPIC_KEYS if topic_matches(pattern, k)]
        assert drain(ch, q) == expected, f"pattern {pattern!r}"


def test_topic_unbind_and_overlapping_patterns(ch: BlockingChannel) -> None:
    ch.exchange_declare("tx", "topic")
    ch.queue_declare("q")
    ch.queue_bind("q", "tx", routing_key="stock.*")
    ch.queue_bind("q", "tx", routing_key="stock.#")
    ch.basic_publish("tx", "stock.nyse", b"1")
    assert drain(ch, "q") == [b"1"], "one copy even when two patterns match"
    ch.queue_unbind("q", "tx", routing_key="stock.*")
    ch.basic_publish("tx", "stock.nyse", b"2")
    ch.basic_publish("tx", "stock.nyse.ibm", b"3")
    assert drain(ch, "q") == [b"2", b"3"]
    ch.queue_unbind("q", "tx", routing_key="stock.#")
    ch.basic_publish("tx", "stock.nyse", b"4")
    assert drain(ch, "q") == []


async def test_topic_with_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        ex = await ch.declare_exchange("logs", aio_pika.ExchangeType.TOPIC)
        errors = await ch.declare_queue("errors", exclusive=True)
        kern = await ch.declare_queue("kern", exclusive=True)
        await errors.bind(ex, "*.error")
        await kern.bind(ex, "kern.#")
        for rk in ("kern.error", "app.error", "kern.info.disk", "app.info"):
            await ex.publish(aio_pika.Message(rk.encode()), rk)
        got: dict[str, list[bytes]] = {"errors": [], "kern": []}
        for q in (errors, kern):
            while (msg := await q.get(no_ack=True, fail=False)) is not None:
                got[q.name].append(msg.body)
        assert got == {
            "errors": [b"kern.error", b"app.error"],
            "kern": [b"kern.error", b"kern.info.disk"],
        }


# -- headers --------------------------------------------------------------------------------------

HEADER_BINDINGS = {
    "all": {"x-match": "all", "format": "pdf", "type": "report"},
    "any": {"x-match": "any", "format": "pdf", "type": "report"},
    "default": {"format": "pdf", "type": "report"},
    "all-x": {"x-match": "all-with-x", "format": "pdf", "x-tenant": "t1"},
    "any-x": {"x-match": "any-with-x", "format": "zip", "x-tenant": "t1"},
    "all-ignore-x": {"x-match": "all", "format": "pdf", "x-tenant": "t1"},
    "empty": {},
    "int": {"x-match": "all", "n": 1},
}
HEADER_MESSAGES: list[tuple[dict[str, object] | None, set[str]]] = [
    ({"format": "pdf", "type": "report"}, {"all", "any", "default", "all-ignore-x", "empty"}),
    ({"format": "pdf"}, {"any", "all-ignore-x", "empty"}),
    ({"type": "report", "format": "zip"}, {"any", "any-x", "empty"}),
    ({"format": "pdf", "x-tenant": "t1"}, {"any", "all-x", "any-x", "all-ignore-x", "empty"}),
    ({"x-tenant": "t1"}, {"any-x", "empty"}),
    ({"n": 1}, {"empty", "int"}),
    ({"n": "1"}, {"empty"}),
    (None, {"empty"}),
]


def test_headers_exchange_match_modes(ch: BlockingChannel) -> None:
    ch.exchange_declare("hx", "headers")
    for q, args in HEADER_BINDINGS.items():
        ch.queue_declare(q)
        ch.queue_bind(q, "hx", arguments=args)
    for i, (headers, _) in enumerate(HEADER_MESSAGES):
        ch.basic_publish("hx", "ignored", str(i).encode(), pika.BasicProperties(headers=headers))
    for q in HEADER_BINDINGS:
        expected = [str(i).encode() for i, (_, qs) in enumerate(HEADER_MESSAGES) if q in qs]
        assert drain(ch, q) == expected, q


@pytest.mark.parametrize("x_match", ["fail", 123, "ALL"])
def test_headers_binding_with_invalid_x_match(
    conn: pika.BlockingConnection, x_match: object
) -> None:
    ch = conn.channel()
    ch.queue_declare("h")
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker, match=r"406.*PRECONDITION_FAILED - Invalid x-match"
    ):
        ch.queue_bind("h", "amq.headers", arguments={"x-match": x_match, "a": 1})
    ch = conn.channel()
    ch.queue_bind("h", "amq.headers", arguments={"x-match": "any-with-x", "a": 1})


def test_amq_match_is_a_headers_exchange(ch: BlockingChannel) -> None:
    ch.queue_declare("m")
    ch.queue_bind("m", "amq.match", arguments={"x-match": "any", "a": 1, "b": 2})
    ch.basic_publish("amq.match", "", b"yes", pika.BasicProperties(headers={"b": 2}))
    ch.basic_publish("amq.match", "", b"no", pika.BasicProperties(headers={"b": 3}))
    assert drain(ch, "m") == [b"yes"]


async def test_headers_with_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        ex = await ch.declare_exchange("hx", aio_pika.ExchangeType.HEADERS)
        q = await ch.declare_queue("", exclusive=True)
        await q.bind(ex, arguments={"x-match": "all", "region": "eu", "tier": 2})
        await ex.publish(aio_pika.Message(b"hit", headers={"region": "eu", "tier": 2, "o": 1}), "")
        await ex.publish(aio_pika.Message(b"miss", headers={"region": "eu"}), "")
        msg = await q.get(no_ack=True)
        assert msg.body == b"hit"
        assert await q.get(no_ack=True, fail=False) is None


# -- the amq.* set ----------------------------------------------------------------------------------

BUILTIN = {
    "amq.direct": "direct",
    "amq.fanout": "fanout",
    "amq.topic": "topic",
    "amq.headers": "headers",
    "amq.match": "headers",
}


@pytest.mark.parametrize(("name", "kind"), BUILTIN.items())
def test_builtin_exchanges_exist(conn: pika.BlockingConnection, name: str, kind: str) -> None:
    ch = conn.channel()
    ch.exchange_declare(name, passive=True)
    ch.exchange_declare(name, kind, durable=True)  # an equivalent redeclare is fine
    other = "fanout" if kind != "fanout" else "direct"
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker, match=r"406.*inequivalent arg 'type'"
    ):
        ch.exchange_declare(name, other, durable=True)


def test_builtin_exchanges_route(ch: BlockingChannel) -> None:
    ch.queue_declare("b")
    ch.queue_bind("b", "amq.direct", routing_key="k")
    ch.queue_bind("b", "amq.fanout")
    ch.queue_bind("b", "amq.topic", routing_key="t.#")
    ch.queue_bind("b", "amq.headers", arguments={"h": 1})
    ch.basic_publish("amq.direct", "k", b"direct")
    ch.basic_publish("amq.fanout", "", b"fanout")
    ch.basic_publish("amq.topic", "t.x.y", b"topic")
    ch.basic_publish("amq.headers", "", b"headers", pika.BasicProperties(headers={"h": 1}))
    assert drain(ch, "b") == [b"direct", b"fanout", b"topic", b"headers"]


def test_amq_prefix_is_reserved(conn: pika.BlockingConnection) -> None:
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"403.*ACCESS_REFUSED.*reserved prefix 'amq\.\*'",
    ):
        conn.channel().exchange_declare("amq.custom", "direct")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="403"):
        conn.channel().exchange_delete("amq.direct")
    assert exchange_exists_via(conn, "amq.direct")


def exchange_exists_via(conn: pika.BlockingConnection, name: str) -> bool:
    try:
        conn.channel().exchange_declare(name, passive=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        assert exc.reply_code == 404
        return False
    return True


# -- declare ----------------------------------------------------------------------------------------


def test_passive_declare_of_missing_exchange(conn: pika.BlockingConnection) -> None:
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"404.*NOT_FOUND - no exchange 'missing' in vhost '/'",
    ):
        conn.channel().exchange_declare("missing", passive=True)
    assert conn.is_open


async def test_passive_declare_of_missing_exchange_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity, match="no exchange 'missing'"):
            await ch.get_exchange("missing", ensure=True)
        ch2 = await conn.channel()
        await ch2.declare_exchange("present", aio_pika.ExchangeType.FANOUT)
        await ch2.get_exchange("present", ensure=True)


def test_declare_flags_recorded(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.exchange_declare("durable-x", "topic", durable=True)
    ch.exchange_declare("transient-x", "fanout")
    ch.exchange_declare("args-x", "direct", arguments={"alternate-exchange": "ae"})
    details = broker.call(
        lambda: {
            n: broker.broker.vhosts["/"].exchanges[n].details()
            for n in ("durable-x", "transient-x", "args-x")
        }
    )
    assert details["durable-x"]["durable"] and details["durable-x"]["type"] == "topic"
    assert not details["transient-x"]["durable"]
    assert details["args-x"]["arguments"] == {"alternate-exchange": "ae"}


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({"exchange_type": "direct"}, {"exchange_type": "fanout"}, "type"),
        ({"durable": True}, {"durable": False}, "durable"),
        ({"auto_delete": True}, {"auto_delete": False}, "auto_delete"),
        ({"internal": True}, {"internal": False}, "internal"),
        (
            {"arguments": {"alternate-exchange": "a"}},
            {"arguments": {"alternate-exchange": "b"}},
            "arguments",
        ),
    ],
)
def test_redeclare_with_different_properties(
    conn: pika.BlockingConnection, first: dict[str, object], second: dict[str, object], field: str
) -> None:
    base: dict[str, object] = {"exchange_type": "direct"}
    conn.channel().exchange_declare("x", **{**base, **first})
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=rf"406.*PRECONDITION_FAILED - inequivalent arg '{field}'",
    ):
        conn.channel().exchange_declare("x", **{**base, **second})
    conn.channel().exchange_declare("x", **{**base, **first})


def test_unknown_exchange_type_closes_connection(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    with pytest.raises(
        pika.exceptions.ConnectionClosedByBroker,
        match=r"503.*COMMAND_INVALID - unknown exchange type 'bogus'",
    ):
        conn.channel().exchange_declare("x", "bogus")
    assert_broker_alive(broker)


def test_declare_nowait(ch: BlockingChannel, broker: BrokerThread) -> None:
    ch.exchange_declare("first", "fanout")
    # pika's blocking API has no nowait; go through the raw client.
    from pamqp import commands

    from tests.integration.helpers import RawClient

    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(
            1,
            commands.Exchange.Declare(exchange="nw", exchange_type="direct", nowait=True),
            commands.Exchange.Declare(exchange="nw", passive=True),
        )
        c.expect(commands.Exchange.DeclareOk, channel=1)  # only the passive one answers
    assert exchange_exists(broker, "nw")


# -- auto-delete ------------------------------------------------------------------------------------


def test_auto_delete_exchange_goes_with_last_binding(
    broker: BrokerThread, ch: BlockingChannel
) -> None:
    ch.exchange_declare("ad", "direct", auto_delete=True)
    ch.queue_declare("q1")
    ch.queue_declare("q2")
    ch.queue_bind("q1", "ad", routing_key="a")
    ch.queue_bind("q2", "ad", routing_key="b")
    ch.queue_unbind("q1", "ad", routing_key="a")
    assert exchange_exists(broker, "ad")
    ch.queue_unbind("q2", "ad", routing_key="b")
    assert not exchange_exists(broker, "ad")


def test_auto_delete_exchange_goes_when_bound_queue_is_deleted(
    broker: BrokerThread, ch: BlockingChannel
) -> None:
    ch.exchange_declare("ad", "fanout", auto_delete=True)
    ch.queue_declare("q1")
    ch.queue_bind("q1", "ad")
    ch.queue_delete("q1")
    assert not exchange_exists(broker, "ad")


def test_auto_delete_exchange_without_bindings_stays(
    broker: BrokerThread, ch: BlockingChannel
) -> None:
    """Only losing its last binding deletes it, not other exchanges' unbinds."""
    ch.exchange_declare("ad", "direct", auto_delete=True)
    ch.queue_declare("q")
    ch.queue_bind("q", "amq.direct", routing_key="k")
    ch.queue_unbind("q", "amq.direct", routing_key="k")
    ch.queue_delete("q")
    assert exchange_exists(broker, "ad")


def test_auto_delete_exchange_e2e(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.exchange_declare("ad-src", "fanout", auto_delete=True)
    ch.exchange_declare("dst", "fanout")
    ch.exchange_bind(destination="dst", source="ad-src")
    ch.exchange_unbind(destination="dst", source="ad-src")
    assert not exchange_exists(broker, "ad-src")
    assert exchange_exists(broker, "dst")


# -- internal ---------------------------------------------------------------------------------------


def test_publish_to_internal_exchange_refused(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.exchange_declare("int", "fanout", internal=True)
    ch.queue_declare("q")
    ch.queue_bind("q", "int")
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"403.*cannot publish to internal exchange 'int'",
    ):
        ch.basic_publish("int", "", b"x")
        ch.queue_declare("q", passive=True)  # the close arrives on the next round trip
    ch2 = conn.channel()
    ch2.exchange_declare("front", "fanout")
    ch2.exchange_bind(destination="int", source="front")
    ch2.basic_publish("front", "", b"via-e2e")
    assert drain(ch2, "q") == [b"via-e2e"]


# -- delete -----------------------------------------------------------------------------------------


def test_delete_exchange(broker: BrokerThread, ch: BlockingChannel) -> None:
    ch.exchange_declare("del", "direct")
    ch.queue_declare("q")
    ch.queue_bind("q", "del", routing_key="k")
    ch.exchange_delete("del")
    assert not exchange_exists(broker, "del")
    ch.exchange_delete("del")  # deleting a missing exchange is not an error
    ch.exchange_declare("del", "direct")
    ch.basic_publish("del", "k", b"x")
    assert drain(ch, "q") == [], "the old bindings went with the exchange"


def test_delete_if_unused(conn: pika.BlockingConnection, broker: BrokerThread) -> None:
    ch = conn.channel()
    ch.exchange_declare("busy", "direct")
    ch.queue_declare("q")
    ch.queue_bind("q", "busy", routing_key="k")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"406.*in use"):
        ch.exchange_delete("busy", if_unused=True)
    ch = conn.channel()
    ch.queue_unbind("q", "busy", routing_key="k")
    ch.exchange_delete("busy", if_unused=True)
    assert not exchange_exists(broker, "busy")


def test_delete_if_unused_counts_e2e_destination(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.exchange_declare("src", "fanout")
    ch.exchange_declare("dst", "fanout")
    ch.exchange_bind(destination="dst", source="src")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="406"):
        ch.exchange_delete("dst", if_unused=True)


# -- exchange to exchange ---------------------------------------------------------------------------


def test_exchange_to_exchange_bind_unbind(ch: BlockingChannel) -> None:
    ch.exchange_declare("src", "topic")
    ch.exchange_declare("dst", "direct")
    ch.queue_declare("q")
    ch.queue_bind("q", "dst", routing_key="a.b")
    ch.exchange_bind(destination="dst", source="src", routing_key="a.*")
    ch.basic_publish("src", "a.b", b"1")
    ch.basic_publish("src", "a.c", b"no: dst has no binding for a.c")
    ch.basic_publish("src", "x.b", b"no: src binding does not match")
    assert drain(ch, "q") == [b"1"]
    ch.exchange_unbind(destination="dst", source="src", routing_key="a.*")
    ch.basic_publish("src", "a.b", b"2")
    assert drain(ch, "q") == []


def test_e2e_bind_to_missing_exchange(conn: pika.BlockingConnection) -> None:
    ch = conn.channel()
    ch.exchange_declare("src", "fanout")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no exchange 'ghost'"):
        ch.exchange_bind(destination="ghost", source="src")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"404.*no exchange 'ghost'"):
        conn.channel().exchange_bind(destination="src", source="ghost")


@pytest.mark.parametrize(
    "edges",
    [
        [("a", "a")],
        [("a", "b"), ("b", "a")],
        [("a", "b"), ("b", "c"), ("c", "a")],
        [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "a")],
    ],
    ids=["self", "pair", "triangle", "diamond-cycle"],
)
def test_exchange_cycles_deliver_once(ch: BlockingChannel, edges: list[tuple[str, str]]) -> None:
    names = {n for edge in edges for n in edge}
    for name in names:
        ch.exchange_declare(name, "fanout")
        ch.queue_declare(f"q-{name}")
        ch.queue_bind(f"q-{name}", name)
    for src, dst in edges:
        ch.exchange_bind(destination=dst, source=src)
    ch.basic_publish("a", "", b"m")
    for name in names:
        assert drain(ch, f"q-{name}") == [b"m"], name


def test_two_paths_to_one_queue_deliver_once(ch: BlockingChannel) -> None:
    for name in ("top", "left", "right"):
        ch.exchange_declare(name, "fanout")
    ch.exchange_bind(destination="left", source="top")
    ch.exchange_bind(destination="right", source="top")
    ch.queue_declare("q")
    ch.queue_bind("q", "left")
    ch.queue_bind("q", "right")
    ch.basic_publish("top", "", b"once")
    assert drain(ch, "q") == [b"once"]


async def test_e2e_with_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        src = await ch.declare_exchange("src", aio_pika.ExchangeType.FANOUT)
        dst = await ch.declare_exchange("dst", aio_pika.ExchangeType.FANOUT)
        await dst.bind(src)
        q = await ch.declare_queue("", exclusive=True)
        await q.bind(dst)
        await src.publish(aio_pika.Message(b"e2e"), "")
        assert (await q.get(no_ack=True)).body == b"e2e"
        await dst.unbind(src)
        await src.publish(aio_pika.Message(b"gone"), "")
        assert await q.get(no_ack=True, fail=False) is None
