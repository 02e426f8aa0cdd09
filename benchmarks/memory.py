"""Memory benchmark: resident memory (VmRSS) of a real broker process in four states.

- idle: started, nothing connected;
- N queued messages: N 16-byte persistent messages in one durable queue, published as fast
  as possible by a raw publisher (pre-encoded frames, no confirms), then settled;
- C idle connections: opened from a few client processes (handshake done, heartbeats off);
- Q queues: Q transient queues (declared with nowait, pipelined).

Each state is measured on a fresh broker process, after a short settle time. The numbers
for the same states of RabbitMQ come from the same code run against a private RabbitMQ
node (see ``brokers.py``). LavinMQ's published figures are quoted from its README.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.amqp_raw import RawClient
from benchmarks.brokers import BrokerUnderTest, LavinMQPy, RabbitMQ, raise_nofile, status_kb

BODY = b"0123456789abcdef"  # 16 bytes
SETTLE = 3.0
CLIENT_PROCESSES = 4
QUEUE = "bench-memory"

# From LavinMQ's README ("Performance"): measured on their hardware with the Crystal broker.
PUBLISHED = {
    "messages": "100M msgs in 25 MB",
    "connections": "8000 conns in 400 MB",
    "queues": "100k queues in 100 MB",
}


@dataclass
class Sample:
    """One measured state of one broker."""

    broker: str
    scenario: str
    rss_kb: int
    idle_kb: int
    peak_kb: int
    seconds: float
    units: int = 0  # messages, connections or queues
    notes: list[str] = field(default_factory=list)

    @property
    def per_unit_bytes(self) -> float:
        return (self.rss_kb - self.idle_kb) * 1024 / self.units if self.units else 0.0


def _settled(broker: BrokerUnderTest) -> tuple[int, int]:
    time.sleep(SETTLE)
    pid = broker.pid()
    return status_kb(pid), status_kb(pid, "VmHWM")


def idle(broker: BrokerUnderTest) -> Sample:
    started = time.monotonic()
    rss, peak = _settled(broker)
    return Sample(broker.name, "idle", rss, rss, peak, time.monotonic() - started)


def queued_messages(count: int) -> Callable[[BrokerUnderTest], Sample]:
    def run(broker: BrokerUnderTest) -> Sample:
        idle_kb, _ = _settled(broker)
        client = RawClient(broker.port, timeout=600)
        client.declare_queue(QUEUE, durable=True)
        started = time.monotonic()
        client.publish(QUEUE, BODY, count)
        client.wait_for_count(QUEUE, count)
        seconds = time.monotonic() - started
        rss, peak = _settled(broker)
        assert client.message_count(QUEUE) == count
        client.close()
        return Sample(
            broker.name,
            f"{count:,} queued 16-byte msgs",
            rss,
            idle_kb,
            peak,
            seconds,
            count,
            [f"published at {count / seconds:,.0f} msg/s"],
        )

    return run


def recovered(count: int) -> Callable[[BrokerUnderTest], Sample]:
    """``count`` queued, half of them consumed (acked), kill -9, restart: what recovery
    keeps in RAM (the acked offsets of partly consumed segments)."""

    def run(broker: BrokerUnderTest) -> Sample:
        restartable = getattr(broker, "kill", None)
        if restartable is None:
            raise NotImplementedError("n/a")
        idle_kb, _ = _settled(broker)
        client = RawClient(broker.port, timeout=600)
        client.declare_queue(QUEUE, durable=True)
        client.publish(QUEUE, BODY, count)
        client.wait_for_count(QUEUE, count)
        client.consume(QUEUE, count // 2)
        left = client.message_count(QUEUE)
        client.sock.close()
        restartable()
        started = time.monotonic()
        broker.start()
        seconds = time.monotonic() - started
        rss, peak = _settled(broker)
        again = RawClient(broker.port, timeout=600)
        assert again.message_count(QUEUE) >= left
        again.close()
        return Sample(
            broker.name,
            f"{count:,} queued, half consumed, kill -9, restart",
            rss,
            idle_kb,
            peak,
            seconds,
            count,
            [f"restarted in {seconds:.2f} s"],
        )

    return run


_CONNECT = """
import sys
from benchmarks.brokers import raise_nofile
from benchmarks.amqp_raw import RawClient
raise_nofile()
clients = [RawClient({port}, timeout=120) for _ in range({count})]
print("ready", flush=True)
sys.stdin.read()
"""


def idle_connections(count: int) -> Callable[[BrokerUnderTest], Sample]:
    def run(broker: BrokerUnderTest) -> Sample:
        idle_kb, _ = _settled(broker)
        started = time.monotonic()
        share = [
            count // CLIENT_PROCESSES + (i < count % CLIENT_PROCESSES)
            for i in range(CLIENT_PROCESSES)
        ]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _CONNECT.format(port=broker.port, count=n)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for n in share
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise RuntimeError("a client process failed to connect")
            seconds = time.monotonic() - started
            rss, peak = _settled(broker)
        finally:
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.close()
            for proc in procs:
                proc.wait(120)
        return Sample(
            broker.name,
            f"{count:,} idle connections",
            rss,
            idle_kb,
            peak,
            seconds,
            count,
            [f"connected in {seconds:.1f} s"],
        )

    return run


def queues(count: int) -> Callable[[BrokerUnderTest], Sample]:
    def run(broker: BrokerUnderTest) -> Sample:
        idle_kb, _ = _settled(broker)
        client = RawClient(broker.port, timeout=600)
        started = time.monotonic()
        for i in range(count - 1):
            client.declare_queue(f"q{i:07d}", durable=False, nowait=True)
        client.declare_queue(f"q{count - 1:07d}", durable=False)  # waits for all before it
        seconds = time.monotonic() - started
        rss, peak = _settled(broker)
        client.close()
        return Sample(
            broker.name,
            f"{count:,} queues",
            rss,
            idle_kb,
            peak,
            seconds,
            count,
            [f"declared in {seconds:.1f} s"],
        )

    return run


def _measure(
    make: Callable[[], BrokerUnderTest],
    scenario: Callable[[BrokerUnderTest], Sample],
    log: Callable[[str], None],
) -> Sample:
    broker = make()
    broker.start()
    try:
        sample = scenario(broker)
    finally:
        broker.stop()
    log(
        f"  {sample.broker:<26} {sample.scenario:<30} RSS {sample.rss_kb / 1024:8.1f} MB "
        f"(peak {sample.peak_kb / 1024:.1f} MB) {'; '.join(sample.notes)}"
    )
    return sample


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("memory")
    group.add_argument(
        "--messages",
        type=int,
        nargs="*",
        default=[1_000_000, 10_000_000],
        help="queued-message counts to measure (default: 1M 10M)",
    )
    group.add_argument(
        "--connections", type=int, default=10_000, help="idle connections (default: 10000; 0 skips)"
    )
    group.add_argument(
        "--queues", type=int, default=100_000, help="queues (default: 100000; 0 skips)"
    )


def run(args: argparse.Namespace, log: Callable[[str], None]) -> str:
    """Run every scenario on every broker; return the Markdown section."""
    raise_nofile()
    if getattr(args, "quick", False):  # smoke test: small counts
        args.messages = [min(n, 100_000) for n in args.messages][:1]
        args.connections = min(args.connections, 200)
        args.queues = min(args.queues, 2_000)
    scenarios: list[tuple[str, Callable[[BrokerUnderTest], Sample]]] = [("idle", idle)]
    scenarios += [("messages", queued_messages(n)) for n in args.messages]
    if args.messages:
        scenarios.append(("recovery", recovered(min(args.messages))))
    if args.connections:
        scenarios.append(("connections", idle_connections(args.connections)))
    if args.queues:
        scenarios.append(("queues", queues(args.queues)))
    makers: list[tuple[str, Callable[[], BrokerUnderTest]]] = [
        ("lavinmq-py", LavinMQPy),
        ("lavinmq-py (no HTTP API)", lambda: LavinMQPy(http=False)),
    ]
    rabbit = ""
    if args.rabbitmq == "yes" or (args.rabbitmq == "auto" and RabbitMQ.available()):
        makers.append((RabbitMQ.name, RabbitMQ))
        rabbit = RabbitMQ.installed_version()
    results: dict[tuple[str, str], Sample | str] = {}
    order: list[tuple[str, str]] = []
    for kind, scenario in scenarios:
        row: dict[str, Sample | str] = {}
        for name, make in makers:
            try:
                row[name] = _measure(make, scenario, log)
            except NotImplementedError:
                row[name] = "n/a"
            except Exception as exc:  # noqa: BLE001 - reported in the table instead
                row[name] = f"failed: {exc}"
                log(f"  {name:<26} failed: {exc}")
        label = next((s.scenario for s in row.values() if isinstance(s, Sample)), kind)
        order.append((kind, label))
        results.update(((name, label), sample) for name, sample in row.items())
    return _markdown(order, results, [name for name, _ in makers], rabbit)


def _mb(kb: int) -> str:
    return f"{kb / 1024:.1f} MB"


def _cell(sample: Sample | str | None, kind: str) -> str:
    if sample is None:
        return "n/a"
    if isinstance(sample, str):
        return sample
    text = _mb(sample.rss_kb)
    if kind == "connections":
        text += f" ({sample.per_unit_bytes / 1024:.1f} KB/conn)"
    elif kind == "queues":
        text += f" ({sample.per_unit_bytes / 1024:.2f} KB/queue)"
    elif kind == "messages":
        text += f" (peak {_mb(sample.peak_kb)})"
    return text


def _markdown(
    order: list[tuple[str, str]],
    results: dict[tuple[str, str], Sample | str],
    brokers: list[str],
    rabbit_version: str,
) -> str:
    titles = [f"RabbitMQ {rabbit_version}" if b == RabbitMQ.name else b for b in brokers]
    lines = [
        "| State | " + " | ".join(titles) + " | LavinMQ (published) |",
        "|---" * (len(brokers) + 2) + "|",
    ]
    for kind, scenario in order:
        cells = [_cell(results.get((b, scenario)), kind) for b in brokers]
        lines.append(f"| {scenario} | " + " | ".join(cells) + f" | {PUBLISHED.get(kind, '')} |")
    notes = [
        f"- {s.broker}, {s.scenario}: {'; '.join(s.notes)}"
        for s in results.values()
        if isinstance(s, Sample) and s.notes
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"
