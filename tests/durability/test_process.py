"""The broker as a process: data-dir lock, SIGTERM, SIGHUP, restart recovery, layout."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pika
import pika.exceptions
import pytest

from tests.durability.helpers import BrokerProcess, wait_until

MakeProcess = Callable[..., BrokerProcess]


def connect(broker: BrokerProcess) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(broker.url))


def sha1(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def get_all(
    ch: pika.adapters.blocking_connection.BlockingChannel, queue: str
) -> list[tuple[bytes, bool]]:
    out = []
    while True:
        method, _, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((body, method.redelivered))


def test_second_broker_on_a_locked_data_dir_fails_with_one_line(
    broker_process: MakeProcess,
) -> None:
    first = broker_process().start()
    second = subprocess.run(
        first.command(), capture_output=True, text=True, timeout=30, check=False
    )
    assert second.returncode != 0
    assert second.stdout == ""
    lines = second.stderr.strip().splitlines()
    assert lines == [
        f"lavinmq: data directory {first.data_dir} is locked by another lavinmq "
        f"process (pid {first.pid})"
    ]
    conn = connect(first)  # the first one is unaffected
    conn.channel().queue_declare("still-here", durable=True)
    conn.close()
    assert first.terminate() == 0
    # Once the holder is gone, the data dir opens again.
    first.start()
    conn = connect(first)
    conn.channel().queue_declare("still-here", durable=True, passive=True)
    conn.close()
    assert first.terminate() == 0


def test_sigterm_closes_connections_with_320_and_flushes(broker_process: MakeProcess) -> None:
    broker = broker_process().start()
    conn = connect(broker)
    ch = conn.channel()
    ch.queue_declare("q", durable=True)
    ch.confirm_delivery()
    props = pika.BasicProperties(delivery_mode=2)
    for i in range(100):
        ch.basic_publish("", "q", b"m%03d" % i, props)
    tags = []
    for _ in range(10):
        method, _, _ = ch.basic_get("q", auto_ack=False)
        tags.append(method.delivery_tag)
    for tag in tags[:5]:
        ch.basic_ack(tag)
    ch.queue_declare("q", durable=True, passive=True)  # a round trip: the acks arrived

    broker.signal(signal.SIGTERM)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as info:
        while True:
            conn.process_data_events(time_limit=0.1)
    assert info.value.reply_code == 320
    assert "CONNECTION_FORCED" in info.value.reply_text
    assert broker.proc is not None and broker.proc.wait(15) == 0
    broker.close()
    assert "shutting down" in broker.log_text()
    # Stores were closed: the write segment is cut to its used size, acks are on disk.
    qdir = broker.data_dir / sha1("/") / sha1("q")
    segments = sorted(qdir.glob("msgs.*"))
    assert segments and all(p.stat().st_size < 64 * 1024 for p in segments)
    assert sorted(qdir.glob("acks.*"))

    broker.start()
    conn = connect(broker)
    got = get_all(conn.channel(), "q")
    conn.close()
    # The 5 unacked (requeued at close) come back flagged, in order, then the rest.
    assert got == [(b"m%03d" % i, True) for i in range(5, 10)] + [
        (b"m%03d" % i, False) for i in range(10, 100)
    ]
    assert broker.terminate() == 0


def test_sighup_reloads_the_log_level(broker_process: MakeProcess) -> None:
    broker = broker_process(ini={"main": {"log_level": "warn"}}).start()
    connect(broker).close()
    time.sleep(0.2)
    assert "connection" not in broker.log_text().replace("connection.blocked", "")
    broker.write_ini({"main": {"log_level": "info"}})
    broker.signal(signal.SIGHUP)
    wait_until(lambda: "configuration reloaded" in broker.log_text(), what="reload")
    connect(broker).close()
    wait_until(lambda: " opened (user guest" in broker.log_text(), what="info logging")
    # A bad file is reported and changes nothing; the broker keeps running.
    broker.ini_path.write_text("[main]\nlog_level = warn\nsegment_size = lots\n")
    broker.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in broker.log_text(), what="reload failure logged")
    connect(broker).close()
    assert broker.terminate() == 0


def test_sighup_reloads_free_disk_min(broker_process: MakeProcess) -> None:
    broker = broker_process(ini={"main": {"free_disk_min": 0}}).start()
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    events: list[str] = []
    conn.add_on_connection_blocked_callback(lambda c, m: events.append("blocked"))
    conn.add_on_connection_unblocked_callback(lambda c, m: events.append("unblocked"))
    ch = conn.channel()
    ch.queue_declare("q")
    ch.basic_publish("", "q", b"x")
    broker.write_ini({"main": {"free_disk_min": 2**62}})
    broker.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while events != ["blocked"] and time.monotonic() < deadline:
        conn.process_data_events(0.05)
    assert events == ["blocked"]
    broker.write_ini({"main": {"free_disk_min": 0}})
    broker.signal(signal.SIGHUP)
    while events != ["blocked", "unblocked"] and time.monotonic() < deadline:
        conn.process_data_events(0.05)
    assert events == ["blocked", "unblocked"]
    conn.close()
    assert broker.terminate() == 0


def test_data_dir_layout(broker_process: MakeProcess) -> None:
    broker = broker_process().start()
    conn = connect(broker)
    ch = conn.channel()
    ch.queue_declare("layout-q", durable=True)
    ch.basic_publish("", "layout-q", b"x", pika.BasicProperties(delivery_mode=2))
    ch.queue_declare("layout-q", durable=True, passive=True)
    conn.close()
    assert broker.terminate() == 0
    data = broker.data_dir
    assert {p.name for p in data.iterdir()} >= {".lock", "users.json", "vhosts.json", sha1("/")}
    vhost_dir = data / sha1("/")
    assert (vhost_dir / "definitions.amqp").is_file()
    qdir = vhost_dir / sha1("layout-q")
    assert [p.name for p in qdir.iterdir() if p.name.startswith("msgs.")] == ["msgs.0000000001"]


def test_corrupt_segment_is_reported_and_skipped(broker_process: MakeProcess) -> None:
    broker = broker_process(ini={"main": {"segment_size": 4096}}).start()
    conn = connect(broker)
    ch = conn.channel()
    ch.queue_declare("q", durable=True)
    ch.confirm_delivery()
    for i in range(40):
        ch.basic_publish("", "q", b"%03d" % i + b"." * 1000, pika.BasicProperties(delivery_mode=2))
    conn.close()
    broker.kill()
    qdir = broker.data_dir / sha1("/") / sha1("q")
    segments = sorted(qdir.glob("msgs.*"))
    assert len(segments) >= 5
    victim = segments[2]
    with open(victim, "r+b") as f:
        f.write(b"JUNK")
    # A torn last record (a length running past the end of the file), as a power cut in
    # the middle of a write can leave.
    last = bytearray(segments[-1].read_bytes())
    end = 4
    while (n := int.from_bytes(last[end : end + 4], "big")) != 0:
        end += 4 + n
    last[end : end + 11] = (5000).to_bytes(4, "big") + b"partial"
    segments[-1].write_bytes(last)
    broker.start()
    log = broker.log_text()
    assert "corrupt segment" in log and victim.name in log
    assert "torn record" in log
    assert Path(f"{victim}.corrupt").exists()
    conn = connect(broker)
    got = [body[:3] for body, _ in get_all(conn.channel(), "q")]
    conn.close()
    assert 30 <= len(got) < 40
    assert got == sorted(got)
    assert broker.terminate() == 0


@pytest.mark.parametrize("stop", ["kill", "term"])
def test_unconfirmed_state_never_corrupts_on_repeated_kills(
    broker_process: MakeProcess, stop: str
) -> None:
    """Kill right after declare-ok and publish-confirms: everything is there each time."""
    broker = broker_process()
    expected: list[bytes] = []
    for round_ in range(3):
        broker.start()
        conn = connect(broker)
        ch = conn.channel()
        ch.queue_declare("q", durable=True)
        ch.confirm_delivery()
        for i in range(20):
            body = b"%d-%d" % (round_, i)
            ch.basic_publish("", "q", body, pika.BasicProperties(delivery_mode=2))
            expected.append(body)
        if stop == "kill":
            broker.kill()
        else:
            conn.close()
            assert broker.terminate() == 0
    broker.start()
    conn = connect(broker)
    assert [b for b, _ in get_all(conn.channel(), "q")] == expected
    conn.close()
    assert broker.terminate() == 0
    assert os.listdir(broker.data_dir / sha1("/") / sha1("q"))


def test_unix_sockets_and_pidfile(broker_process: MakeProcess, tmp_path: Path) -> None:
    # Paths short enough for sun_path (108 bytes): pytest's tmp_path may not be.
    sockets = Path(tempfile.mkdtemp(prefix="lmq-"))
    amqp_path, http_path = sockets / "amqp.sock", sockets / "http.sock"
    pidfile = tmp_path / "lavinmq.pid"
    args = ["--amqp-unix-path", str(amqp_path), "--http-unix-path", str(http_path)]
    broker = broker_process(args=[*args, "--pidfile", str(pidfile)]).start()
    assert pidfile.read_text().strip() == str(broker.pid)
    wait_until(lambda: amqp_path.exists() and http_path.exists(), what="unix sockets")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(amqp_path))
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        start = sock.recv(4096)  # Connection.Start: a method frame, class 10 method 10
        assert start[0] == 1 and start[7:11] == b"\x00\x0a\x00\x0a", start[:16]
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(http_path))
        auth = base64.b64encode(b"guest:guest").decode()
        sock.sendall(
            f"GET /api/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200") and b'"name":"guest"' in reply
    assert broker.terminate() == 0
    assert not pidfile.exists()
    shutil.rmtree(sockets, ignore_errors=True)


def test_unknown_ini_settings_are_reported(broker_process: MakeProcess) -> None:
    broker = broker_process(ini={"main": {"log_levle": "debug"}, "clustering": {"enabled": "true"}})
    broker.start()
    wait_until(lambda: "ignoring unknown settings" in broker.log_text(), what="the warning")
    assert "clustering.enabled, main.log_levle" in broker.log_text()
    assert broker.terminate() == 0
