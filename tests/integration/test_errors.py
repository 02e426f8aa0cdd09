"""Every AMQP error as a client sees it: the reply code and text in a Channel.Close (soft)
or Connection.Close (hard), a log line, and a broker that keeps serving everyone else."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterator

import aio_pika
import aiormq
import aiormq.exceptions
import pika
import pika.exceptions
import pytest
from pamqp import commands, frame, header
from pamqp.body import ContentBody

from lavinmq.auth import Permissions
from tests.broker_thread import BrokerThread
from tests.integration.helpers import (
    RawClient,
    assert_broker_alive,
    connection_count,
    drain,
    pika_connect,
    pump,
    raw_frame,
    wait_for,
)

EMPTY_PROPS = struct.pack(">HHQH", 60, 0, 0, 0)  # content header: basic, weight, size 0, flags


def method_payload(class_id: int, method_id: int, args: bytes = b"") -> bytes:
    return struct.pack(">HH", class_id, method_id) + args


def publish_frames(channel: int = 1, routing_key: str = "q") -> list[object]:
    return [
        commands.Basic.Publish(routing_key=routing_key),
        header.ContentHeader(0, 0, commands.Basic.Properties()),
    ]


class Bystander:
    """Another client with a consumer, checked to still work after each error."""

    def __init__(self, broker: BrokerThread) -> None:
        self.conn = pika_connect(broker)
        self.ch = self.conn.channel()
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue
        self.got: list[bytes] = []
        self.ch.basic_consume(self.queue, lambda c, m, p, b: self.got.append(b), auto_ack=True)

    def check(self) -> None:
        body = f"ping{len(self.got)}".encode()
        self.ch.basic_publish("", self.queue, body)
        pump(self.conn, lambda: body in self.got, what="the bystander's message")


@pytest.fixture
def bystander(broker: BrokerThread) -> Iterator[Bystander]:
    b = Bystander(broker)
    yield b
    b.check()
    b.conn.close()


# -- hard errors: Connection.Close ----------------------------------------------------------------

Send = Callable[[RawClient], None]


def _send_raw(data: bytes) -> Send:
    return lambda c: c.send_bytes(data)


def _send(channel: int, *values: object) -> Send:
    return lambda c: c.send(channel, *values)


def _reuse_tag(c: RawClient) -> None:
    c.send(1, commands.Queue.Declare(queue="q"))
    c.expect(commands.Queue.DeclareOk)
    c.send(1, commands.Basic.Consume(queue="q", consumer_tag="t"))
    c.expect(commands.Basic.ConsumeOk)
    c.send(1, commands.Basic.Consume(queue="q", consumer_tag="t"))


HARD_ERRORS: list[tuple[str, Send, int, tuple[int, int] | None]] = [
    # 501 FRAME_ERROR: framing is broken
    ("frame-too-large", _send_raw(struct.pack(">BHI", 1, 1, 10_000_000) + b"x" * 64), 501, None),
    (
        "bad-frame-end",
        _send_raw(raw_frame(1, 1, method_payload(20, 10, b"\x00"))[:-1] + b"\x00"),
        501,
        None,
    ),
    ("unknown-frame-type", _send_raw(raw_frame(5, 1, b"abc")), 501, None),
    # The 0-9-1 spec (4.2.7) says 501; RabbitMQ and LavinMQ answer 505 UNEXPECTED_FRAME.
    ("heartbeat-on-channel-1", _send_raw(raw_frame(8, 1, b"")), 501, None),
    (
        "body-longer-than-header",
        lambda c: c.send_bytes(
            frame.marshal(commands.Basic.Publish(routing_key="q"), 1)
            + raw_frame(2, 1, struct.pack(">HHQH", 60, 0, 2, 0))
            + raw_frame(3, 1, b"12345")
        ),
        501,
        None,
    ),
    # 502 SYNTAX_ERROR: a frame that does not decode
    (
        "truncated-method",
        _send_raw(raw_frame(1, 1, method_payload(50, 10, b"\x00\x00\x05ab"))),
        502,
        (50, 10),
    ),
    (
        "bad-field-table",
        _send_raw(
            raw_frame(
                1,
                1,
                method_payload(
                    50, 10, b"\x00\x00\x01q\x00" + struct.pack(">I", 6) + b"\x01kZ\x00\x00\x00"
                ),
            )
        ),
        502,
        (50, 10),
    ),
    (
        "bytes-after-the-arguments",  # Basic.Qos: 7 bytes of arguments, then 2 more
        _send_raw(raw_frame(1, 1, method_payload(60, 10, bytes(7) + b"xx"))),
        502,
        (60, 10),
    ),
    (
        "bad-properties",
        lambda c: c.send_bytes(
            frame.marshal(commands.Basic.Publish(routing_key="q"), 1)
            + raw_frame(2, 1, struct.pack(">HHQH", 60, 0, 0, 0x8000))
        ),
        502,
        None,
    ),
    # 503 COMMAND_INVALID: a method the client may not send here
    (
        "server-method-from-client",
        _send(
            1,
            commands.Basic.Deliver(consumer_tag="x", delivery_tag=1, exchange="", routing_key="q"),
        ),
        503,
        None,
    ),
    ("start-from-client", _send(0, commands.Connection.Start()), 503, None),
    ("channel-method-on-channel-0", _send(0, commands.Queue.Declare(queue="q")), 503, None),
    (
        "unknown-exchange-type",
        _send(1, commands.Exchange.Declare(exchange="x", exchange_type="nope")),
        503,
        (40, 10),
    ),
    # 504 CHANNEL_ERROR: channel state
    ("method-on-unopened-channel", _send(7, commands.Queue.Declare(queue="q")), 504, None),
    ("second-channel-open", _send(1, commands.Channel.Open()), 504, None),
    ("publish-on-unopened-channel", lambda c: c.send(7, *publish_frames(7)), 504, None),
    ("open-after-open", _send(0, commands.Connection.Open(virtual_host="/")), 504, None),
    (
        "start-ok-after-open",
        _send(0, commands.Connection.StartOk(response="\x00guest\x00guest")),
        504,
        None,
    ),
    ("tune-ok-after-open", _send(0, commands.Connection.TuneOk(0, 4096, 0)), 504, None),
    # 505 UNEXPECTED_FRAME: frames out of order
    ("body-without-header", _send_raw(raw_frame(3, 1, b"orphan")), 505, None),
    ("header-without-method", _send_raw(raw_frame(2, 1, EMPTY_PROPS)), 505, None),
    (
        "method-inside-content",
        lambda c: c.send(
            1, commands.Basic.Publish(routing_key="q"), commands.Queue.Declare(queue="q")
        ),
        505,
        None,
    ),
    # 530 NOT_ALLOWED
    ("reuse-consumer-tag", _reuse_tag, 530, (60, 20)),
    # 540 NOT_IMPLEMENTED
    ("unknown-method", _send_raw(raw_frame(1, 1, method_payload(60, 99))), 540, None),
    ("unknown-class", _send_raw(raw_frame(1, 1, method_payload(99, 10))), 540, None),
    ("prefetch-size", _send(1, commands.Basic.Qos(prefetch_size=10)), 540, (60, 10)),
]

CODE_NAMES = {
    501: "FRAME_ERROR",
    502: "SYNTAX_ERROR",
    503: "COMMAND_INVALID",
    504: "CHANNEL_ERROR",
    505: "UNEXPECTED_FRAME",
    530: "NOT_ALLOWED",
    540: "NOT_IMPLEMENTED",
}


@pytest.mark.parametrize(
    ("name", "send", "code", "method"), HARD_ERRORS, ids=[e[0] for e in HARD_ERRORS]
)
def test_hard_error_closes_connection(
    broker: BrokerThread,
    bystander: Bystander,
    caplog: pytest.LogCaptureFixture,
    name: str,
    send: Send,
    code: int,
    method: tuple[int, int] | None,
) -> None:
    caplog.set_level(logging.INFO, logger="lavinmq")
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        send(c)
        close = c.expect(commands.Connection.Close)
        assert close.reply_code == code, close.reply_text
        assert close.reply_text.startswith(CODE_NAMES[code])
        if method is not None:
            assert (close.class_id, close.method_id) == method
        try:
            c.send(0, commands.Connection.CloseOk())
        except OSError:
            pass
        c.wait_eof(timeout=2)  # the server closes promptly, not after a timeout
    wait_for(
        lambda: any(
            CODE_NAMES[code] in r.getMessage() and r.levelno >= logging.WARNING
            for r in caplog.records
        ),
        what="a log line",
    )
    wait_for(lambda: connection_count(broker) == 1)  # only the bystander is left
    bystander.check()
    assert_broker_alive(broker)


def test_hard_error_with_pika_client(broker: BrokerThread, bystander: Bystander) -> None:
    conn = pika_connect(broker)
    ch = conn.channel()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker, match=r"530.*reuse consumer tag"):
        ch.queue_declare("q")
        impl = ch._impl
        # pika refuses duplicate tags itself, so send the second Basic.Consume below it.
        impl._send_method(pika.spec.Basic.Consume(queue="q", consumer_tag="t"))
        impl._send_method(pika.spec.Basic.Consume(queue="q", consumer_tag="t"))
        conn.process_data_events(time_limit=2)
        ch.queue_declare("q")
    assert conn.is_closed
    bystander.check()


def test_data_after_hard_error_is_ignored(broker: BrokerThread, bystander: Bystander) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send_bytes(raw_frame(9, 0, b"junk"))
        c.expect(commands.Connection.Close)
        c.send_bytes(b"\xff" * 10_000)
        c.send(1, commands.Queue.Declare(queue="after-close"))
        assert b"DeclareOk" not in c.wait_eof(timeout=2)
    bystander.check()


# -- soft errors: Channel.Close ---------------------------------------------------------------------


def _declare_amq_queue(c: RawClient) -> None:
    c.send(1, commands.Queue.Declare(queue="amq.reserved"))


def _passive_missing(c: RawClient) -> None:
    c.send(1, commands.Queue.Declare(queue="missing", passive=True))


def _locked(c: RawClient) -> None:
    owner = RawClient(c.sock.getpeername()[1])
    owner.handshake()
    owner.open_channel(1)
    owner.send(1, commands.Queue.Declare(queue="locked", exclusive=True))
    owner.expect(commands.Queue.DeclareOk)
    c.send(1, commands.Queue.Declare(queue="locked", passive=True))
    c.owner = owner  # type: ignore[attr-defined]  # kept open until the test ends


def _unknown_tag(c: RawClient) -> None:
    c.send(1, commands.Basic.Ack(delivery_tag=42))


SOFT_ERRORS: list[tuple[str, Send, int, tuple[int, int]]] = [
    ("access-refused", _declare_amq_queue, 403, (50, 10)),
    ("not-found", _passive_missing, 404, (50, 10)),
    ("resource-locked", _locked, 405, (50, 10)),
    ("precondition-failed", _unknown_tag, 406, (60, 80)),
    (
        "publish-to-missing-exchange",
        lambda c: c.send(
            1,
            commands.Basic.Publish(exchange="nox"),
            header.ContentHeader(0, 1, commands.Basic.Properties()),
            ContentBody(b"x"),
        ),
        404,
        (60, 40),
    ),
]
SOFT_NAMES = {
    403: "ACCESS_REFUSED",
    404: "NOT_FOUND",
    405: "RESOURCE_LOCKED",
    406: "PRECONDITION_FAILED",
}


@pytest.mark.parametrize(
    ("name", "send", "code", "method"), SOFT_ERRORS, ids=[e[0] for e in SOFT_ERRORS]
)
def test_soft_error_closes_channel_only(
    broker: BrokerThread,
    bystander: Bystander,
    caplog: pytest.LogCaptureFixture,
    name: str,
    send: Send,
    code: int,
    method: tuple[int, int],
) -> None:
    caplog.set_level(logging.INFO, logger="lavinmq")
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.open_channel(2)
        send(c)
        close = c.expect(commands.Channel.Close, channel=1)
        assert close.reply_code == code
        assert close.reply_text.startswith(SOFT_NAMES[code])
        assert (close.class_id, close.method_id) == method
        # Until Close-Ok, frames on the channel are dropped, not answered or fatal.
        c.send(1, commands.Queue.Declare(queue="dropped"), *publish_frames(1))
        c.send(1, commands.Basic.Ack(delivery_tag=1000))
        c.send(2, commands.Queue.Declare(queue="other-channel"))
        c.expect(commands.Queue.DeclareOk, channel=2)
        c.send(1, commands.Channel.CloseOk())
        c.open_channel(1)  # the number is free again
        c.send(1, commands.Queue.Declare(queue="reopened", exclusive=True))
        c.expect(commands.Queue.DeclareOk, channel=1)
        owner = getattr(c, "owner", None)
        if owner is not None:
            owner.close()
    wait_for(lambda: any(SOFT_NAMES[code] in r.getMessage() for r in caplog.records))
    bystander.check()
    assert_broker_alive(broker)


def test_channel_close_crossing(broker: BrokerThread) -> None:
    """The client closes a channel while the server's Channel.Close is on its way."""
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Basic.Ack(delivery_tag=5), commands.Channel.Close(200, "", 0, 0))
        c.expect(commands.Channel.Close, channel=1)
        c.expect(commands.Channel.CloseOk, channel=1)
        c.open_channel(1)


def test_client_channel_close(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Channel.Close(200, "done", 0, 0))
        c.expect(commands.Channel.CloseOk, channel=1)
        c.send(1, commands.Queue.Declare(queue="q"))  # the channel is gone: 504
        close = c.expect(commands.Connection.Close)
    assert close.reply_code == 504


# -- permissions (403) with real clients ------------------------------------------------------------


@pytest.fixture
def limited(broker: BrokerThread) -> Iterator[pika.BlockingConnection]:
    def add() -> None:
        broker.broker.users.add("limited", "pw")
        broker.broker.users.set_permissions(
            "limited", "/", Permissions(configure="^own-", write="^$|^own-", read="^own-")
        )  # "" is the default exchange

    broker.call(add)
    conn = pika_connect(broker, user="limited", password="pw")
    yield conn
    if conn.is_open:
        conn.close()


def test_configure_permission(limited: pika.BlockingConnection) -> None:
    limited.channel().queue_declare("own-q")
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker,
        match=r"403.*configure access to queue 'other' in vhost '/' refused for "
        r"user 'limited'",
    ):
        limited.channel().queue_declare("other")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"403.*configure access"):
        limited.channel().exchange_declare("other-x", "direct")


def test_write_and_read_permissions(limited: pika.BlockingConnection, broker: BrokerThread) -> None:
    admin = pika_connect(broker)
    admin.channel().queue_declare("foreign")
    admin.close()
    ch = limited.channel()
    ch.queue_declare("own-q")
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker, match=r"403.*write access to exchange 'amq.direct'"
    ):
        ch.basic_publish("amq.direct", "k", b"x")
        ch.queue_declare("own-q", passive=True)
    with pytest.raises(
        pika.exceptions.ChannelClosedByBroker, match=r"403.*read access to queue 'foreign'"
    ):
        limited.channel().basic_get("foreign")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match=r"403.*read access"):
        limited.channel().basic_consume("foreign", lambda *a: None)
    ch = limited.channel()
    ch.basic_publish("", "own-q", b"allowed")
    assert drain(ch, "own-q") == [b"allowed"]


# -- errors as aiormq and aio-pika report them ------------------------------------------------


async def test_connection_error_aiormq(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    ch = await conn.channel()
    with pytest.raises(
        aiormq.exceptions.ConnectionCommandInvalid,
        match="COMMAND_INVALID - unknown exchange type 'bogus'",
    ):
        await ch.exchange_declare("x", exchange_type="bogus")
    assert conn.is_closed
    other = await aiormq.connect(broker.amqp_url)
    try:
        ch = await other.channel()
        await ch.queue_declare("still-serving")
    finally:
        await other.close()


async def test_channel_errors_aiormq(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    try:
        ch = await conn.channel()
        await ch.queue_declare("mine", exclusive=True)
        cases = [
            (
                aiormq.exceptions.ChannelNotFoundEntity,
                lambda c: c.queue_declare("nope", passive=True),
            ),
            (
                aiormq.exceptions.ChannelAccessRefused,
                lambda c: c.exchange_declare("amq.nope", exchange_type="direct"),
            ),
            (
                aiormq.exceptions.ChannelPreconditionFailed,
                lambda c: c.queue_declare("mine", durable=True, exclusive=True),
            ),
        ]
        for exc_type, op in cases:
            bad = await conn.channel()
            with pytest.raises(exc_type):
                await op(bad)
            assert bad.is_closed and not conn.is_closed
        ok = await ch.queue_declare("mine", exclusive=True)
        assert ok.queue == "mine"
    finally:
        await conn.close()


async def test_channel_error_aio_pika_robust_channel_recovers(broker: BrokerThread) -> None:
    conn = await aio_pika.connect_robust(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity):
            await ch.declare_queue("missing", passive=True)
        ch2 = await conn.channel()
        q = await ch2.declare_queue("", exclusive=True)
        await ch2.default_exchange.publish(aio_pika.Message(b"x"), q.name)
        assert (await q.get(no_ack=True)).body == b"x"
