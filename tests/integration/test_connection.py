"""Connection level: protocol header, Start/Tune/Open, authentication, vhosts, heartbeats,
channel_max, frame_max, Connection.Close and what the server advertises."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aio_pika
import aiormq
import aiormq.exceptions
import pika
import pika.exceptions
import pytest
from pamqp import body, commands, header, heartbeat

from lavinmq.server import handshake
from tests.broker_thread import BrokerThread
from tests.integration.helpers import (
    PROTOCOL_HEADER,
    RawClient,
    amqplain_response,
    assert_broker_alive,
    async_wait_for,
    connection_count,
    pika_connect,
    queue_exists,
    raw_frame,
    wait_for,
)

# -- protocol header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "greeting",
    [
        b"AMQP\x00\x00\x08\x00",  # AMQP 0-8
        b"AMQP\x03\x01\x00\x00",  # AMQP 1.0 SASL
        b"AMQP\x01\x01\x00\x09",  # the 0-9-1 header in the old 0-9 layout
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
def test_wrong_protocol_header_gets_our_header_and_close(
    broker: BrokerThread, greeting: bytes
) -> None:
    with RawClient(broker.amqp_port) as c:
        c.send_bytes(greeting)
        assert c.wait_eof() == PROTOCOL_HEADER
    assert_broker_alive(broker)


def test_protocol_header_in_pieces(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        for byte in PROTOCOL_HEADER:
            c.send_bytes(bytes((byte,)))
        start = c.expect(commands.Connection.Start)
        assert (start.version_major, start.version_minor) == (0, 9)


def test_start_advertises_mechanisms_and_locales(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        start = c.start()
    assert set(start.mechanisms.split()) == {"PLAIN", "AMQPLAIN"}
    assert "en_US" in start.locales.split()
    props = start.server_properties
    assert props["product"] == "LavinMQ"
    assert props["version"]
    assert props["platform"]


# -- server properties and capabilities ----------------------------------------------------

EXPECTED_CAPABILITIES = (
    "publisher_confirms",
    "exchange_exchange_bindings",
    "basic.nack",
    "consumer_cancel_notify",
    "connection.blocked",
    "consumer_priorities",
    "authentication_failure_close",
    "per_consumer_qos",
)


def test_capabilities_seen_by_pika(conn: pika.BlockingConnection) -> None:
    caps = conn._impl.server_capabilities
    for name in EXPECTED_CAPABILITIES:
        assert caps.get(name) is True, name
    assert conn.basic_nack_supported
    assert conn.consumer_cancel_notify_supported
    assert conn.exchange_exchange_bindings_supported
    assert conn.publisher_confirms_supported


async def test_capabilities_seen_by_aiormq(broker: BrokerThread) -> None:
    conn = await aiormq.connect(broker.amqp_url)
    try:
        assert conn.server_properties["product"] == "LavinMQ"
        for name in EXPECTED_CAPABILITIES:
            assert conn.server_capabilities.get(name) is True, name
        assert conn.publisher_confirms and conn.basic_nack and conn.consumer_cancel_notify
    finally:
        await conn.close()


def test_client_properties_recorded(broker: BrokerThread) -> None:
    conn = pika_connect(broker, client_properties={"connection_name": "my-app"})
    try:
        details = broker.call(lambda: [c.details() for c in broker.broker.connections.values()])
        assert len(details) == 1
        assert details[0]["client_properties"]["connection_name"] == "my-app"
        assert details[0]["user"] == "guest"
        assert details[0]["vhost"] == "/"
    finally:
        conn.close()


# -- authentication -------------------------------------------------------------------------


def test_default_user_guest_with_pika(broker: BrokerThread) -> None:
    conn = pika_connect(broker)
    assert conn.is_open
    conn.channel().queue_declare("", exclusive=True)
    conn.close()


async def test_default_user_guest_with_aio_pika(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    async with conn:
        ch = await conn.channel()
        q = await ch.declare_queue(exclusive=True)
        assert q.name.startswith("amq.gen-")


def test_amqplain_handshake(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(mechanism="AMQPLAIN")
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="amqplain-q"))
        ok = c.expect(commands.Queue.DeclareOk, channel=1)
        assert ok.queue == "amqplain-q"
    assert queue_exists(broker, "amqplain-q")


def test_amqplain_wrong_password(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.start()
        response = amqplain_response("guest", "nope").decode("latin-1")
        c.send(0, commands.Connection.StartOk(mechanism="AMQPLAIN", response=response))
        close = c.expect_connection_close()
    assert close.reply_code == 403
    assert close.reply_text.startswith("ACCESS_REFUSED")
    assert (close.class_id, close.method_id) == (10, 11)


def test_unknown_mechanism_is_refused(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.start()
        c.send(0, commands.Connection.StartOk(mechanism="CRAM-MD5", response="x"))
        close = c.expect_connection_close()
    assert close.reply_code in (403, 503)
    assert "mechanism" in close.reply_text


def test_malformed_plain_response_is_refused(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.start()
        c.send(0, commands.Connection.StartOk(mechanism="PLAIN", response="guest"))
        close = c.expect_connection_close()
    assert close.reply_code == 403


def test_wrong_password_pika(broker: BrokerThread, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lavinmq")
    with pytest.raises(pika.exceptions.ProbableAuthenticationError, match=r"403.*ACCESS_REFUSED"):
        pika_connect(broker, password="wrong")
    assert any("authentication failure" in r.getMessage() for r in caplog.records)
    assert_broker_alive(broker)


def test_unknown_user_pika(broker: BrokerThread) -> None:
    with pytest.raises(pika.exceptions.ProbableAuthenticationError, match="ACCESS_REFUSED"):
        pika_connect(broker, user="nobody", password="guest")


async def test_wrong_password_aiormq(broker: BrokerThread) -> None:
    url = broker.amqp_url.replace("guest:guest", "guest:wrong")
    with pytest.raises(aiormq.exceptions.ProbableAuthenticationError, match="ACCESS_REFUSED"):
        await aiormq.connect(url)


def test_guest_refused_from_non_loopback(
    broker: BrokerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handshake, "is_loopback", lambda host: False)
    with pytest.raises(
        pika.exceptions.ProbableAuthenticationError, match=r"403.*can only connect via localhost"
    ):
        pika_connect(broker)


def test_other_user_allowed_from_non_loopback(
    broker: BrokerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lavinmq.auth import Permissions

    def add_user() -> None:
        broker.broker.users.add("bob", "secret")
        broker.broker.users.set_permissions("bob", "/", Permissions())

    broker.call(add_user)
    monkeypatch.setattr(handshake, "is_loopback", lambda host: False)
    conn = pika_connect(broker, user="bob", password="secret")
    conn.channel().queue_declare("", exclusive=True)
    conn.close()


def test_guest_from_non_loopback_when_allowed(
    make_broker: Callable[..., BrokerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = make_broker(guest_only_loopback=False)
    monkeypatch.setattr(handshake, "is_loopback", lambda host: False)
    pika_connect(broker).close()


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 9))  # no packet is sent for a UDP connect
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_guest_refused_over_a_real_non_loopback_address(
    make_broker: Callable[..., BrokerThread],
) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    broker = make_broker(bind="0.0.0.0")
    params = pika.ConnectionParameters(
        host=address,
        port=broker.amqp_port,
        credentials=pika.PlainCredentials("guest", "guest"),
        connection_attempts=1,
    )
    with pytest.raises(pika.exceptions.ProbableAuthenticationError, match="localhost"):
        pika.BlockingConnection(params)
    pika_connect(broker).close()  # over loopback it is fine


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("192.168.1.2", False),
        ("::ffff:10.0.0.1", False),
        ("unix", True),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert handshake.is_loopback(host) is loopback


# -- vhosts ---------------------------------------------------------------------------------


def test_unknown_vhost_pika(broker: BrokerThread) -> None:
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError, match=r"530.*NOT_ALLOWED"):
        pika_connect(broker, virtual_host="no-such-vhost")
    assert_broker_alive(broker)


async def test_unknown_vhost_aiormq(broker: BrokerThread) -> None:
    url = broker.amqp_url.replace("%2f", "no-such-vhost")
    # aiormq reports a Close in place of Open-Ok as an unexpected frame.
    with pytest.raises(aiormq.exceptions.AMQPError, match=r"NOT_ALLOWED|Connection\.Close"):
        await aiormq.connect(url)


def test_vhost_without_permission(broker: BrokerThread) -> None:
    broker.call(lambda: broker.broker.add_vhost("other"))
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError, match=r"530.*refused"):
        pika_connect(broker, virtual_host="other")


def test_vhost_with_permission(broker: BrokerThread) -> None:
    broker.call(lambda: broker.broker.add_vhost("other", grant_to="guest"))
    conn = pika_connect(broker, virtual_host="other")
    conn.channel().queue_declare("in-other")
    conn.close()
    assert queue_exists(broker, "in-other", vhost="other")
    assert not queue_exists(broker, "in-other", vhost="/")


def test_empty_vhost_means_default(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(vhost="")
        c.open_channel(1)


def test_open_close_reply_names_the_method(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.start()
        c.send(0, commands.Connection.StartOk(response="\x00guest\x00guest"))
        tune = c.expect(commands.Connection.Tune)
        c.send(
            0,
            commands.Connection.TuneOk(tune.channel_max, tune.frame_max, 0),
            commands.Connection.Open(virtual_host="nope"),
        )
        close = c.expect_connection_close()
    assert close.reply_code == 530
    assert (close.class_id, close.method_id) == (10, 40)


# -- tune: heartbeats, channel_max, frame_max ---------------------------------------------


def test_tune_proposes_server_limits(make_broker: Callable[..., BrokerThread]) -> None:
    broker = make_broker(heartbeat=17, channel_max=99, frame_max=65536)
    with RawClient(broker.amqp_port) as c:
        tune = c.handshake()
    assert (tune.heartbeat, tune.channel_max, tune.frame_max) == (17, 99, 65536)


def test_heartbeat_negotiated_with_pika(broker: BrokerThread) -> None:
    conn = pika_connect(broker, heartbeat=7)
    try:
        assert conn._impl.params.heartbeat == 7
        timeouts = broker.call(lambda: [c.heartbeat for c in broker.broker.connections.values()])
        assert timeouts == [7]
    finally:
        conn.close()


def test_heartbeat_disabled_sends_nothing(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(heartbeat=0)
        with pytest.raises(TimeoutError):
            c.recv_frame(timeout=1.2)


def test_silent_client_is_closed_after_two_heartbeat_intervals(
    broker: BrokerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lavinmq")
    with RawClient(broker.amqp_port) as c:
        c.handshake(heartbeat=1)
        started = time.monotonic()
        # Keep talking for longer than the deadline: the connection must stay up.
        got_heartbeat = False
        while time.monotonic() - started < 2.7:
            c.send_bytes(raw_frame(8, 0, b""))
            try:
                _, value = c.recv_frame(timeout=0.3)
                got_heartbeat |= isinstance(value, heartbeat.Heartbeat)
            except TimeoutError:
                pass
        assert got_heartbeat, "the server sends heartbeats when it has nothing else to send"
        assert connection_count(broker) == 1
        # Now go silent: closed after two missed intervals, not much later.
        silent_at = time.monotonic()
        c.wait_eof(timeout=6)
        elapsed = time.monotonic() - silent_at
    assert 1.4 <= elapsed <= 4.0, elapsed
    assert any("missed heartbeats" in r.getMessage() for r in caplog.records)
    wait_for(lambda: connection_count(broker) == 0)
    assert_broker_alive(broker)


def test_heartbeat_keeps_pika_connection_alive(broker: BrokerThread) -> None:
    conn = pika_connect(broker, heartbeat=1)
    try:
        ch = conn.channel()
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)
        ch.queue_declare("", exclusive=True)
        assert conn.is_open
    finally:
        conn.close()


def test_channel_max_reached(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(channel_max=2)
        c.open_channel(1)
        c.open_channel(2)
        c.send(3, commands.Channel.Open())
        close = c.expect_connection_close()
    assert close.reply_code == 530
    assert "channel_max" in close.reply_text
    assert_broker_alive(broker)


def test_channel_max_with_pika(broker: BrokerThread) -> None:
    conn = pika_connect(broker, channel_max=3)
    try:
        assert conn._impl.params.channel_max == 3
        channels = [conn.channel() for _ in range(3)]
        assert [c.channel_number for c in channels] == [1, 2, 3]
        with pytest.raises(pika.exceptions.NoFreeChannels):
            conn.channel()
        channels[0].close()
        conn.channel().queue_declare("", exclusive=True)
    finally:
        conn.close()


def test_channel_number_reused_after_close(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(channel_max=1)
        for _ in range(3):
            c.open_channel(1)
            c.close_channel(1)


@pytest.mark.parametrize(
    ("tune", "text"),
    [
        ({"channel_max": 5000}, "channel_max"),
        ({"channel_max": 0}, "channel_max"),
        ({"frame_max": 1024}, "frame_max"),
        ({"frame_max": 10_000_000}, "frame_max"),
        ({"frame_max": 0}, "frame_max"),
    ],
)
def test_tune_ok_outside_server_limits(
    broker: BrokerThread, tune: dict[str, int], text: str
) -> None:
    with RawClient(broker.amqp_port) as c:
        c.start()
        c.send(0, commands.Connection.StartOk(response="\x00guest\x00guest"))
        server = c.expect(commands.Connection.Tune)
        values = {"channel_max": server.channel_max, "frame_max": server.frame_max, **tune}
        c.send(0, commands.Connection.TuneOk(heartbeat=0, **values))
        close = c.expect_connection_close()
    assert close.reply_code == 530
    assert text in close.reply_text


def test_unlimited_tune_values_when_server_has_no_limit(
    make_broker: Callable[..., BrokerThread],
) -> None:
    broker = make_broker(channel_max=0)
    with RawClient(broker.amqp_port) as c:
        tune = c.handshake(channel_max=0)
        assert tune.channel_max in (0, 65535)
        for n in (1, 2, 3000):
            c.open_channel(n)


def test_frame_larger_than_negotiated_frame_max(
    broker: BrokerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lavinmq")
    with RawClient(broker.amqp_port) as c:
        c.handshake(frame_max=4096)
        c.open_channel(1)
        c.send(
            1,
            commands.Basic.Publish(exchange="", routing_key="q"),
            header.ContentHeader(0, 5000, commands.Basic.Properties()),
            body.ContentBody(b"x" * 5000),
        )
        close = c.expect_connection_close()
    assert close.reply_code == 501
    assert close.reply_text.startswith("FRAME_ERROR")
    assert any("FRAME_ERROR" in r.getMessage() for r in caplog.records)
    assert_broker_alive(broker)


def test_deliveries_respect_negotiated_frame_max(broker: BrokerThread) -> None:
    body_size = 100_000
    with RawClient(broker.amqp_port) as c:
        c.handshake(frame_max=4096)
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="fm", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        c.publish(1, "", "fm", b"y" * body_size)
        c.send(1, commands.Basic.Get(queue="fm", no_ack=True))
        c.expect(commands.Basic.GetOk)
        c.expect(header.ContentHeader)
        received = 0
        while received < body_size:
            size_before = len(c.buf)
            _, part = c.recv_frame()
            assert isinstance(part, body.ContentBody)
            assert len(part.value) <= 4096 - 8, (size_before, len(part.value))
            received += len(part.value)
        assert received == body_size


def test_pika_small_frame_max_round_trip(broker: BrokerThread) -> None:
    conn = pika_connect(broker, frame_max=4096)
    try:
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        payload = bytes(range(256)) * 200
        ch.basic_publish("", q, payload)
        _, _, got = ch.basic_get(q, auto_ack=True)
        assert got == payload
    finally:
        conn.close()


# -- Connection.Close, Blocked/Unblocked, Update-Secret -------------------------------------


def test_client_close_gets_close_ok_and_cleans_up(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="excl", exclusive=True))
        c.expect(commands.Queue.DeclareOk)
        assert connection_count(broker) == 1
        c.send(0, commands.Connection.Close(200, "bye", 0, 0))
        c.expect(commands.Connection.CloseOk)
        assert c.wait_eof() == b""
    wait_for(lambda: connection_count(broker) == 0)
    assert not queue_exists(broker, "excl")


def test_pika_close_unregisters_connection(broker: BrokerThread) -> None:
    conns = [pika_connect(broker) for _ in range(3)]
    assert connection_count(broker) == 3
    for conn in conns:
        conn.close()
    wait_for(lambda: connection_count(broker) == 0)


def test_socket_dropped_without_close(broker: BrokerThread) -> None:
    c = RawClient(broker.amqp_port)
    c.handshake()
    c.open_channel(1)
    c.send(1, commands.Queue.Declare(queue="dropped", exclusive=True))
    c.expect(commands.Queue.DeclareOk)
    c.close()
    wait_for(lambda: connection_count(broker) == 0 and not queue_exists(broker, "dropped"))


def test_connection_blocked_unblocked_from_client_accepted(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake(capabilities={"connection.blocked": True})
        c.send(
            0, commands.Connection.Blocked(reason="low on memory"), commands.Connection.Unblocked()
        )
        c.open_channel(1)
        c.send(1, commands.Queue.Declare(queue="", exclusive=True))
        c.expect(commands.Queue.DeclareOk)


def test_update_secret(broker: BrokerThread) -> None:
    with RawClient(broker.amqp_port) as c:
        c.handshake()
        c.send(0, commands.Connection.UpdateSecret(new_secret="guest", reason="refresh"))
        c.expect(commands.Connection.UpdateSecretOk, channel=0)


def test_server_shutdown_closes_clients_with_320(broker: BrokerThread) -> None:
    c = RawClient(broker.amqp_port)
    try:
        c.handshake()
        broker.stop()
        close = c.expect(commands.Connection.Close)
        assert close.reply_code == 320
        assert "CONNECTION_FORCED" in close.reply_text
    finally:
        c.close()
        broker.start()


async def test_aio_pika_connection_close_callback(broker: BrokerThread) -> None:
    conn = await aio_pika.connect(broker.amqp_url)
    ch = await conn.channel()
    await ch.declare_queue("aio-excl", exclusive=True)
    await conn.close()
    assert conn.is_closed
    await async_wait_for(lambda: not queue_exists(broker, "aio-excl"))
