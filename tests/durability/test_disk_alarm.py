"""Free-disk-space alarm: publishers are blocked (Connection.Blocked + no more reads) while
free space is below ``free_disk_min``, and unblocked when it returns."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pika
import pytest
from pamqp import commands
from pamqp.heartbeat import Heartbeat

from lavinmq.config import Config, load
from tests.broker_thread import BrokerThread
from tests.integration.helpers import RawClient, pika_connect, queue_state, wait_for

BLOCKING = {"connection.blocked": True}


def set_free(broker: BrokerThread, free: int) -> None:
    """Make the alarm see ``free`` bytes and run a check now (in the broker's loop)."""

    def apply() -> None:
        alarm = broker.broker.disk_alarm
        alarm.statvfs = lambda path: SimpleNamespace(f_bavail=free, f_frsize=1)
        alarm.check()

    broker.call(apply)


def ready(broker: BrokerThread, queue: str) -> int:
    return queue_state(broker, queue)[0]


def no_frame(client: RawClient, within: float = 0.3) -> None:
    """Nothing but heartbeats arrives for ``within`` seconds."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            ch, value = client.recv_frame(left)
        except TimeoutError:
            return
        assert isinstance(value, Heartbeat), f"unexpected {value!r} on channel {ch}"


def publisher(broker: BrokerThread, capabilities: dict[str, bool] | None) -> RawClient:
    client = RawClient(broker.amqp_port)
    client.handshake(capabilities=capabilities)
    client.open_channel(1)
    return client


def test_config_key_and_default() -> None:
    assert Config().free_disk_min == 0
    cfg = load(["-D", "/tmp/x"], environ={})
    assert cfg.free_disk_min == 0


def test_free_disk_min_in_ini(tmp_path: Path) -> None:
    ini = tmp_path / "lavinmq.ini"
    ini.write_text("[main]\nfree_disk_min = 123456789\n")
    assert load(["-c", str(ini)], environ={}).free_disk_min == 123456789


def test_alarm_blocks_publishing_connections_until_space_returns(broker: BrokerThread) -> None:
    admin = pika_connect(broker)
    admin.channel().queue_declare("alarm-q")
    loud = publisher(broker, BLOCKING)
    silent = publisher(broker, None)  # did not announce connection.blocked
    reader = publisher(broker, BLOCKING)  # never publishes: a consumer
    loud.publish(1, "", "alarm-q", b"before")
    silent.publish(1, "", "alarm-q", b"before")
    wait_for(lambda: ready(broker, "alarm-q") == 2, what="2 messages")

    set_free(broker, 0)
    assert broker.call(lambda: broker.broker.disk_alarm.active)
    blocked = loud.expect(commands.Connection.Blocked, channel=0)
    assert blocked.reason == "low on disk"
    no_frame(silent)
    no_frame(reader)
    # Blocked connections are not read: their publishes wait in the socket.
    for i in range(5):
        loud.publish(1, "", "alarm-q", b"held %d" % i)
        silent.publish(1, "", "alarm-q", b"held %d" % i)
    time.sleep(0.3)
    assert ready(broker, "alarm-q") == 2
    # Connections that don't publish keep working: consumers can drain and free space.
    reader.send(1, commands.Basic.Get(queue="alarm-q", no_ack=True))
    reader.expect(commands.Basic.GetOk, channel=1)
    # A connection that starts publishing during the alarm is blocked by its first
    # publish (which is stored: it came in the same read), as RabbitMQ does.
    late = publisher(broker, BLOCKING)
    late.publish(1, "", "alarm-q", b"late")
    late.expect(commands.Connection.Blocked, channel=0)
    late.publish(1, "", "alarm-q", b"late, held")
    time.sleep(0.2)
    assert ready(broker, "alarm-q") == 2
    assert admin.channel().queue_declare("alarm-q", passive=True).method.message_count == 2

    set_free(broker, 10**15)
    assert not broker.call(lambda: broker.broker.disk_alarm.active)
    loud.expect(commands.Connection.Unblocked, channel=0)
    late.expect(commands.Connection.Unblocked, channel=0)
    no_frame(silent, 0.1)
    wait_for(lambda: ready(broker, "alarm-q") == 2 + 5 + 5 + 1, what="held publishes stored")
    loud.publish(1, "", "alarm-q", b"after")
    wait_for(lambda: ready(broker, "alarm-q") == 14, what="publishing works again")
    for client in (loud, silent, late):
        client.close(graceful=True)
    reader.close()
    admin.close()


def test_blocked_connection_is_not_closed_for_missed_heartbeats(broker: BrokerThread) -> None:
    """While its socket is not read, the client's heartbeats can't be seen: no timeout."""
    admin = pika_connect(broker)
    admin.channel().queue_declare("hb-q")
    client = RawClient(broker.amqp_port)
    client.handshake(capabilities=BLOCKING, heartbeat=1)
    client.open_channel(1)
    client.publish(1, "", "hb-q", b"x")
    set_free(broker, 0)
    client.expect(commands.Connection.Blocked)
    time.sleep(3.2)  # more than two heartbeat intervals without reading the client
    set_free(broker, 10**15)
    client.expect(commands.Connection.Unblocked)
    client.close(graceful=True)
    admin.close()


def test_real_statvfs_and_free_disk_min(make_broker) -> None:  # type: ignore[no-untyped-def]
    """The limit is compared with the data dir's real free space (statvfs)."""
    free = os.statvfs("/tmp").f_bavail * os.statvfs("/tmp").f_frsize
    broker = make_broker(free_disk_min=free * 1000 + 2**40)
    assert broker.call(lambda: broker.broker.disk_alarm.active)
    assert broker.call(lambda: broker.broker.disk_alarm.free) > 0
    conn = pika.BlockingConnection(
        pika.ConnectionParameters("127.0.0.1", broker.amqp_port, blocked_connection_timeout=None)
    )
    events: list[str] = []
    conn.add_on_connection_blocked_callback(lambda c, m: events.append(m.method.reason))
    conn.add_on_connection_unblocked_callback(lambda c, m: events.append("unblocked"))
    ch = conn.channel()
    ch.queue_declare("real-q")
    ch.basic_publish("", "real-q", b"x")
    wait_for(lambda: (conn.process_data_events(0.01), events)[1], what="Connection.Blocked")
    assert events == ["low on disk"]

    def lower() -> None:
        broker.broker.config.free_disk_min = 0
        broker.broker.disk_alarm.check()

    broker.call(lower)
    wait_for(lambda: (conn.process_data_events(0.01), len(events) == 2)[1], what="Unblocked")
    assert events[1] == "unblocked"
    wait_for(lambda: ready(broker, "real-q") == 1)
    conn.close()


@pytest.fixture
def small_fs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 16 MiB tmpfs; skipped where mounting is not allowed (not root, containers)."""

    def mount(size: str) -> Path:
        target = tmp_path / f"fs-{size}"
        target.mkdir()
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        import subprocess

        res = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {res.stderr.strip()}")
        mounted.append(target)
        return target

    mounted: list[Path] = []
    yield mount
    import subprocess

    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_alarm_on_a_real_small_filesystem(small_fs) -> None:  # type: ignore[no-untyped-def]
    fs = small_fs("16m")
    broker = BrokerThread(fs / "data", segment_size=256 * 1024, free_disk_min=8 * 1024 * 1024)
    broker.start()
    try:
        alarm = broker.broker.disk_alarm

        def check_often() -> None:
            alarm.interval = 0.05
            alarm.check()  # re-armed at the new interval, not after the default 1 s

        broker.call(check_often)
        admin = pika_connect(broker)
        admin.channel().queue_declare("fill", durable=True)
        client = publisher(broker, BLOCKING)
        client.send(1, commands.Confirm.Select())
        client.expect(commands.Confirm.SelectOk)
        props = commands.Basic.Properties(delivery_mode=2)
        body = os.urandom(32 * 1024)
        confirmed = 0
        blocked = False
        while not blocked:
            client.publish(1, "", "fill", body, props)
            while True:
                _, frame = client.recv_frame(10)
                if isinstance(frame, commands.Basic.Ack):
                    confirmed += 1
                    break
                if isinstance(frame, commands.Connection.Blocked):
                    blocked = True
                    break
                assert not isinstance(frame, commands.Basic.Nack), "the disk filled up"
            time.sleep(0.002)
            assert confirmed < 1000, "never blocked"
        st = os.statvfs(fs)
        assert st.f_bavail * st.f_frsize < 9 * 1024 * 1024
        # The publish in flight (if not acked yet) is not read while blocked.
        time.sleep(0.3)
        stored = ready(broker, "fill")
        assert stored <= confirmed + 1
        client.publish(1, "", "fill", body, props)
        time.sleep(0.3)
        assert ready(broker, "fill") == stored
        # A consumer frees the space: whole segments are deleted, the alarm clears.
        admin.channel().queue_purge("fill")
        frames = []  # confirms of publishes read before the block may come first
        while not isinstance(frames[-1:] and frames[-1], commands.Connection.Unblocked):
            frames.append(client.recv_frame(5)[1])
        assert all(isinstance(f, commands.Basic.Ack | Heartbeat) for f in frames[:-1])
        # The held publish is read, stored and confirmed now.
        client.expect(commands.Basic.Ack, timeout=5)
        wait_for(lambda: ready(broker, "fill") >= 1, what="held publishes stored")
        client.close()
        admin.close()
    finally:
        broker.stop()
    assert not broker.errors


@contextmanager
def filling_disk(
    small_fs: Callable[[str], Path], size: str
) -> Iterator[tuple[BrokerThread, pika.BlockingConnection, RawClient]]:
    """A broker on a ``size`` tmpfs with its disk alarm off (the disk fills up for real),
    a durable queue "full", and a raw publisher in confirm mode on channel 1."""
    broker = BrokerThread(small_fs(size) / "data", segment_size=64 * 1024)
    broker.start()
    try:
        broker.call(broker.broker.disk_alarm.stop)
        admin = pika_connect(broker)
        admin.channel().queue_declare("full", durable=True)
        client = publisher(broker, BLOCKING)
        client.send(1, commands.Confirm.Select())
        client.expect(commands.Confirm.SelectOk)
        yield broker, admin, client
    finally:
        broker.stop()


def test_full_disk_nacks_and_keeps_the_store_intact(small_fs) -> None:  # type: ignore[no-untyped-def]
    """ENOSPC when a segment is allocated: nack in confirm mode, channel error otherwise;
    the broker keeps serving and what was confirmed survives a restart intact."""
    with filling_disk(small_fs, "2m") as (broker, admin, client):
        props = commands.Basic.Properties(delivery_mode=2)
        acked: list[bytes] = []
        nacks = 0
        for i in range(1000):
            body = b"%06d" % i + os.urandom(16 * 1024)
            client.publish(1, "", "full", body, props)
            frame = client.expect(commands.Basic.Ack | commands.Basic.Nack, channel=1)  # type: ignore[arg-type]
            if isinstance(frame, commands.Basic.Nack):
                nacks += 1
                if nacks == 3:
                    break
            else:
                assert nacks == 0, "acked after a nack with the disk still full"
                acked.append(body)
        assert nacks == 3 and len(acked) > 10
        # Without confirms the message can't be reported lost: the channel is closed.
        client.open_channel(2)
        client.publish(2, "", "full", b"x" * 70_000, props)
        close = client.expect(commands.Channel.Close, channel=2)
        assert close.reply_code == 406
        assert "disk" in close.reply_text
        client.send(2, commands.Channel.CloseOk())
        assert ready(broker, "full") == len(acked)
        # Space comes back: publishing works again on the same channel.
        ch = admin.channel()
        method, _, first = ch.basic_get("full", auto_ack=True)
        assert first == acked.pop(0)
        for _ in range(8):
            _, _, got = ch.basic_get("full", auto_ack=True)
            assert got == acked.pop(0)
        client.publish(1, "", "full", b"after", props)
        client.expect(commands.Basic.Ack, channel=1)
        acked.append(b"after")
        client.close(graceful=True)
        admin.close()
        broker.restart()
        conn = pika_connect(broker)
        ch = conn.channel()
        got = []
        while True:
            method, _, body = ch.basic_get("full", auto_ack=True)
            if method is None:
                break
            got.append(body)
        assert got == acked
        conn.close()
    assert not [e for e in broker.errors if "exception" in e]
    assert not list(Path(broker.config.data_dir).rglob("*.corrupt"))
