"""Round trips: one publish, wait for its confirm, repeat (the core of ``-c 1 -a 1``).

A publisher that waits for every confirm can go no faster than one network round trip
per message, whatever the broker does. This benchmark measures that bound on the
machine itself: the same blocking client (``benchmarks/amqp_raw.py``, no asyncio)
against each broker, and against ``echo_server``, a uvloop server that echoes every read
back at once (a broker that takes no time at all). The ratio a broker could possibly
reach over RabbitMQ with ``-c 1`` is ``echo / RabbitMQ``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import cast

from benchmarks.amqp_raw import RawClient
from benchmarks.brokers import BrokerUnderTest, LavinMQPy, RabbitMQ, free_port
from benchmarks.throughput import ensure_rabbitmq
from lavinmq.amqp import spec
from lavinmq.amqp.frames import content_frames, method_frame
from lavinmq.amqp.properties import BasicProperties

QUEUE = "roundtrip"


def confirm_round_trips(port: int, seconds: float) -> float:
    """Publish a 16-byte message and wait for its Basic.Ack, for ``seconds``: msgs/s."""
    client = RawClient(port)
    try:
        client.declare_queue(QUEUE, durable=False)
        client.send(1, spec.ConfirmSelect(False))
        client.expect(spec.ConfirmSelectOk)
        one = method_frame(1, spec.BasicPublish(0, "", QUEUE, False, False)) + b"".join(
            content_frames(1, b"x" * 16, BasicProperties().encode(), client.frame_max)
        )
        done, started = 0, time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            for _ in range(100):
                client.sock.sendall(one)
                client.expect(spec.BasicAck)
            done += 100
        client.send(1, spec.QueueDelete(0, QUEUE, False, False, False))
        client.expect(spec.QueueDeleteOk)
        return done / elapsed
    finally:
        client.close()


def echo_round_trips(port: int, seconds: float) -> float:
    """The same loop against the echo server: a 40-byte write, wait for the echo."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = b"x" * 40
    try:
        done, started = 0, time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            for _ in range(100):
                sock.sendall(payload)
                got = 0
                while got < len(payload):
                    got += len(sock.recv(4096))
            done += 100
        return done / elapsed
    finally:
        sock.close()


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _serve_echo(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def echo_server(port: int) -> None:
    """Run the echo server on ``port`` until killed (``python -m benchmarks.roundtrip``)."""
    import uvloop

    uvloop.run(_serve_echo(port))


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("roundtrip")
    group.add_argument("--roundtrip-runs", type=int, default=3, help="runs per server (default 3)")
    group.add_argument(
        "--roundtrip-seconds", type=float, default=5.0, help="seconds per run (default 5)"
    )


def run(args: argparse.Namespace, log: Callable[[str], None]) -> str:
    """Measure echo, our broker and RabbitMQ, alternating; return the Markdown section."""
    runs, seconds = args.roundtrip_runs, args.roundtrip_seconds
    if getattr(args, "quick", False):
        runs, seconds = 1, 1.0
    brokers: list[BrokerUnderTest] = [LavinMQPy(http=False)]
    if getattr(args, "rabbitmq", "auto") != "no" and ensure_rabbitmq(log):
        brokers.append(RabbitMQ())
    port = free_port()
    echo = subprocess.Popen([sys.executable, "-m", "benchmarks.roundtrip", str(port)])
    rates: dict[str, list[float]] = {"echo": [], **{b.name: [] for b in brokers}}
    try:
        _wait_for_port(port, 30)
        for broker in brokers:
            broker.start()
        for _ in range(runs):
            rates["echo"].append(echo_round_trips(port, seconds))
            for broker in brokers:
                rates[broker.name].append(confirm_round_trips(broker.port, seconds))
            log("  " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()))
    finally:
        echo.terminate()
        echo.wait(10)
        for broker in brokers:
            broker.stop()
    return _markdown({k: statistics.median(v) for k, v in rates.items()}, runs, seconds)


def _markdown(rates: dict[str, float], runs: int, seconds: float) -> str:
    echo = rates.pop("echo")
    rabbit = rates.get(RabbitMQ.name)
    lines = [
        f"{runs} run(s) of {seconds:g} s per server, alternating; medians. One 16-byte "
        "publish, then wait for its confirm, by a blocking client (no asyncio).",
        "",
        "| server | round trips/s | µs per round trip | ÷ RabbitMQ |",
        "|---|---|---|---|",
    ]
    for name, rate in [("uvloop echo server (the floor)", echo), *rates.items()]:
        ratio = f"{rate / rabbit:.2f}×" if rabbit else "-"  # noqa: RUF001
        lines.append(f"| {name} | {rate:,.0f} | {1e6 / rate:.0f} | {ratio} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    echo_server(int(sys.argv[1]))
