"""``benchmarks/amqp_relay.py``, the fake broker whose rate is the machine's ceiling in
BENCHMARKS.md: it must pass every message on whole, whatever the frame and read sizes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest

from benchmarks.brokers import free_port, wait_for_amqp
from lavinmq.amqp.properties import BasicProperties
from lavinmq.client import connect
from lavinmq.client.message import Message
from tests.perf.conftest import perf


@pytest.fixture
def relay_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.amqp_relay", "--port", str(port)])
    try:
        wait_for_amqp(port, 30, proc)
        yield f"amqp://guest:guest@127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_messages_pass_whole(relay_url: str) -> None:
    # bodies spanning several 128 KiB frames and several reads, and empty ones
    bodies = [b"", b"x" * 16, bytes(range(256)) * 1200, b"y" * 2_000_000, b"z" * 131_064]
    got: list[Message] = []
    done = asyncio.Event()

    def on_message(message: Message) -> None:
        got.append(message)
        if len(got) == len(bodies):
            done.set()

    async with connect(relay_url) as consumer_conn, connect(relay_url) as publisher_conn:
        consumer = await consumer_conn.channel()
        await consumer.basic_consume("q", on_message, no_ack=True)
        publisher = await publisher_conn.channel()
        for body in bodies:
            publisher.basic_publish(
                body, routing_key="q", properties=BasicProperties(message_id="m")
            )
        await asyncio.wait_for(done.wait(), 10)
    assert [m.body for m in got] == bodies
    assert [m.delivery_tag for m in got] == [1, 2, 3, 4, 5]
    assert all(m.properties.message_id == "m" for m in got)


def test_lavinmqperf_runs_through_it(relay_url: str) -> None:
    proc = perf("throughput", "--uri", relay_url, "-x", "1", "-y", "1", "-s", "200000",
                "-z", "1", "-j", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"consumed":0,' not in proc.stdout, proc.stdout
