"""Throughput benchmark: lavinmqperf against our broker and RabbitMQ, alternating.

Both brokers run at once (each idle while the other is measured); every target is run
``--throughput-runs`` times per broker, alternating brokers run by run, for
``--throughput-seconds`` each, and the table shows medians. Queues are deleted after
every run so that no backlog carries over. The tool's own ceiling is measured against
``benchmarks.amqp_peer``, a fake server that drops publishes and blasts deliveries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.brokers import BrokerUnderTest, LavinMQPy, RabbitMQ, free_port, wait_for_amqp
from lavinmq.client import connect

PERF = [sys.executable, "-m", "lavinmqperf", "throughput"]
QUEUES_10 = ["--queue-pattern", "perf-test-%", "--queue-pattern-to", "10"]
FANOUT_10 = ["-e", "amq.fanout", "--queue-pattern", "fanout-%", "--queue-pattern-to", "10"]
TOPIC = ["-e", "amq.topic", "-u", "topic-perf", "-k", "perf.test.key"]
TTL_QUEUE = ["--queue-args", '{"x-message-ttl": 60000}', "-u", "ttl-perf"]
BENCH_QUEUES = ["perf-test", "topic-perf", "topic-other", "nowhere", "ttl-perf"]
BENCH_QUEUES += [f"perf-test-{i}" for i in range(1, 11)] + [f"fanout-{i}" for i in range(1, 11)]


@dataclass(frozen=True)
class Target:
    """One row of the table: lavinmqperf arguments and what to report."""

    label: str
    args: list[str]
    kind: str = "rate"  # rate | bytes | latency
    size: int = 16
    setup: Callable[[str], Any] | None = None


async def _declare(url: str, queue: str, bindings: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
    async with connect(url) as conn:
        ch = await conn.channel()
        await ch.queue_declare(queue, durable=True)
        for exchange, key in bindings:
            await ch.queue_bind(queue, exchange, key)


def publish_only_setup(url: str) -> None:
    asyncio.run(_declare(url, "perf-test"))


def topic_setup(url: str) -> None:
    """10,000 bindings on amq.topic: 9,999 patterns that never match, plus the consumer's."""
    keys = [("amq.topic", f"stock.{i}.*") for i in range(9_999)]
    asyncio.run(_declare(url, "topic-other", keys))


TARGETS = [
    Target("1 pub + 1 con, 16 B, no acks", ["-x", "1", "-y", "1", "-s", "16"]),
    Target("confirm + ack every message (-c 1 -a 1)", ["-x", "1", "-y", "1", "-c", "1", "-a", "1"]),
    Target("publish only (queue, no consumer)", ["-x", "1", "-y", "0"], setup=publish_only_setup),
    Target("publish only, unroutable (dropped)", ["-x", "1", "-y", "0", "-u", "nowhere"]),
    Target("persistent, durable queue, confirms (-p -c 1000)", ["-x", "1", "-y", "1", "-p", "-c", "1000"]),
    Target("consumer acks each message, prefetch 1000 (-a 1 -P 1000)", ["-x", "1", "-y", "1", "-a", "1", "-P", "1000"]),
    Target("queue with a message TTL (x-message-ttl)", ["-x", "1", "-y", "1", *TTL_QUEUE]),
    Target("Basic.Get polling, ack each (-g -a 1)", ["-x", "1", "-y", "1", "-g", "-a", "1"]),
    Target("10 pubs + 10 cons on 10 queues", ["-x", "10", "-y", "10", *QUEUES_10]),
    Target("fanout to 10 queues (1 pub)", ["-x", "1", "-y", "10", *FANOUT_10]),
    Target("topic exchange, 10,000 bindings", ["-x", "1", "-y", "1", *TOPIC], setup=topic_setup),
    Target("16 KiB bodies", ["-x", "1", "-y", "1", "-s", "16384"], "bytes", 16384),
    Target("1 MiB bodies", ["-x", "1", "-y", "1", "-s", "1048576"], "bytes", 1048576),
    Target("latency at 10k msgs/s (-l -r 10000)", ["-x", "1", "-y", "1", "-l", "-r", "10000"], "latency"),
]  # fmt: skip
CEILINGS = {
    "benchmarks.amqp_peer": [
        ("tool ceiling: publish only (fake sink server)", ["-x", "1", "-y", "0"]),
        ("tool ceiling: consume only, no acks (fake server)", ["-x", "0", "-y", "1"]),
        ("tool ceiling: consume only, -a 1 (fake server)", ["-x", "0", "-y", "1", "-a", "1"]),
    ],
    "benchmarks.amqp_relay": [
        (
            "relay ceiling: 16 KiB bodies (fake broker passing messages on)",
            ["-x", "1", "-y", "1", "-s", "16384"],
        ),
        (
            "relay ceiling: 1 MiB bodies (fake broker passing messages on)",
            ["-x", "1", "-y", "1", "-s", "1048576"],
        ),
    ],
}
"""lavinmqperf against the fake servers, by server module: the ceilings the tool and the
machine set, whatever the broker."""


@dataclass
class Sample:
    """One run: lavinmqperf's JSON plus the CPU seconds used by broker and tool."""

    result: dict[str, Any]
    broker_cpu: float
    tool_cpu: float


@dataclass
class Cell:
    samples: list[Sample] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(float(s.result.get(key, 0)) for s in self.samples)

    def cpu(self) -> tuple[float, float]:
        return (statistics.median(s.broker_cpu for s in self.samples),
                statistics.median(s.tool_cpu for s in self.samples))  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its threads (RabbitMQ's beam.smp is multi-threaded)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def perf_run(url: str, args: list[str], seconds: float, pid: int | None) -> Sample:
    """Run lavinmqperf once; return its JSON summary and the CPU it and the broker used."""
    cmd = [*PERF, "--uri", url, *args, "-z", str(seconds), "-j", "-q"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    broker_before = _cpu_seconds(pid) if pid else 0.0
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    broker_cpu = (_cpu_seconds(pid) - broker_before) if pid else 0.0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    tool = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    elapsed = result["elapsed_seconds"] or seconds
    return Sample(result, broker_cpu / elapsed, tool / elapsed)


def cleanup(url: str) -> None:
    """Delete every queue the targets use (a backlog must not carry over to the next run)."""

    async def drop() -> None:
        async with connect(url) as conn:
            for queue in BENCH_QUEUES:
                ch = await conn.channel()
                try:
                    await ch.queue_delete(queue)
                except Exception:  # noqa: BLE001 - RabbitMQ closes the channel for a missing queue
                    pass

    asyncio.run(drop())


def _url(port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}/%2f"


def _broker_pid(broker: BrokerUnderTest) -> int | None:
    try:
        return broker.pid()
    except (RuntimeError, AssertionError):
        return None


def measure_target(
    target: Target, brokers: list[BrokerUnderTest], args: argparse.Namespace,
    log: Callable[[str], None],
) -> dict[str, Cell | str]:  # fmt: skip
    """Alternate the brokers run by run; collect every sample per broker."""
    cells: dict[str, Cell | str] = {b.name: Cell() for b in brokers}
    for run in range(args.throughput_runs):
        for broker in brokers:
            cell = cells[broker.name]
            if not isinstance(cell, Cell):
                continue
            url = _url(broker.port)
            try:
                if target.setup is not None:
                    target.setup(url)
                sample = perf_run(url, target.args, args.throughput_seconds, _broker_pid(broker))
            except Exception as exc:  # noqa: BLE001 - shown in the table
                cells[broker.name] = f"failed: {exc}"
                log(f"    {broker.name:<12} run {run + 1}: failed: {exc}")
                continue
            finally:
                cleanup(url)
            cell.samples.append(sample)
            log(f"    {broker.name:<12} run {run + 1}: {_brief(target, sample)}")
    return cells


def _brief(target: Target, sample: Sample) -> str:
    r = sample.result
    text = f"pub {r['avg_pub_rate']:,}/s con {r['avg_consume_rate']:,}/s"
    if target.kind == "latency":
        text += f" p50 {r.get('latency_median_ms')} ms p99 {r.get('latency_p99_ms')} ms"
    return f"{text} (CPU broker {sample.broker_cpu:.0%}, tool {sample.tool_cpu:.0%})"


def measure_ceilings(
    args: argparse.Namespace, log: Callable[[str], None]
) -> list[tuple[str, float]]:
    """lavinmqperf against the fake servers: what the tool and the machine can do."""
    rows = []
    for module, ceilings in CEILINGS.items():
        rows += _measure_against(module, ceilings, args, log)
    return rows


def _measure_against(
    module: str, ceilings: list[tuple[str, list[str]]], args: argparse.Namespace,
    log: Callable[[str], None],
) -> list[tuple[str, float]]:  # fmt: skip
    port = free_port()
    peer = subprocess.Popen([sys.executable, "-m", module, "--port", str(port)])
    rows = []
    try:
        wait_for_amqp(port, 30)
        for label, perf_args in ceilings:
            rates = []
            for _ in range(args.throughput_runs):
                r = perf_run(_url(port), perf_args, args.throughput_seconds, None).result
                rates.append(max(r["avg_pub_rate"], r["avg_consume_rate"]))
            rows.append((label, statistics.median(rates)))
            log(f"  {label}: {statistics.median(rates):,.0f} msgs/s")
    finally:
        peer.terminate()
        peer.wait(10)
    return rows


def _k(value: float) -> str:
    return f"{value / 1000:,.0f}k" if value >= 10_000 else f"{value:,.0f}"


def _headline(target: Target, cell: Cell) -> float:
    """The number the ratio compares: consume rate (publish rate without consumers),
    MB/s for large bodies, p99 latency for the latency target."""
    if target.kind == "latency":
        return cell.median("latency_p99_ms")
    consumed = cell.median("avg_consume_rate")
    rate = consumed if consumed else cell.median("avg_pub_rate")
    return rate * target.size / 1e6 if target.kind == "bytes" else rate


def _cell_text(target: Target, cell: Cell | str) -> str:
    if not isinstance(cell, Cell):
        return cell
    if not cell.samples:
        return "-"
    broker_cpu, tool_cpu = cell.cpu()
    cpu = f" <sub>CPU {broker_cpu:.0%} / {tool_cpu:.0%}</sub>"
    pub, con = cell.median("avg_pub_rate"), cell.median("avg_consume_rate")
    if target.kind == "latency":
        p50, p99 = cell.median("latency_median_ms"), cell.median("latency_p99_ms")
        return f"p50 {p50:.3f} ms, p99 {p99:.3f} ms{cpu}"
    if target.kind == "bytes":
        return f"{_headline(target, cell):,.0f} MB/s ({_k(con)} msgs/s){cpu}"
    return f"{_k(pub)} / {_k(con)}{cpu}"


def _ratio(target: Target, ours: Cell | str, theirs: Cell | str) -> str:
    if not (
        isinstance(ours, Cell) and isinstance(theirs, Cell) and ours.samples and theirs.samples
    ):
        return "-"
    a, b = _headline(target, ours), _headline(target, theirs)
    return f"{a / b:.2f}×" if b else "-"  # noqa: RUF001


def markdown(
    targets: list[Target], results: list[dict[str, Cell | str]], names: list[str],
    ceilings: list[tuple[str, float]], args: argparse.Namespace,
) -> str:  # fmt: skip
    """The section: settings, the table of medians and ratios, the tool's ceilings."""
    runs, seconds = args.throughput_runs, args.throughput_seconds
    lines = [
        f"{runs} run(s) of {seconds:g} s per target and broker, brokers alternating run by run; "
        "medians. Cells: publish / consume msgs/s (MB/s for large bodies, latency for the "
        "latency row), then the CPU used by the broker and by lavinmqperf (100% = one core). "
        "Ratio: ours ÷ RabbitMQ on the consume rate (publish rate without consumers, MB/s, "
        "p99 latency: lower is better there).",
        "",
        f"| target | lavinmqperf arguments | {' | '.join(names)} | ratio |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    for target, cells in zip(targets, results, strict=True):
        texts = [_cell_text(target, cells.get(n, "-")) for n in names]
        ratio = _ratio(target, cells.get(names[0], "-"), cells.get(names[-1], "-"))
        lines.append(
            f"| {target.label} | `{' '.join(target.args)}` | {' | '.join(texts)} | {ratio} |"
        )
    if ceilings:
        lines += ["", "Ceilings: the tool alone (against `benchmarks/amqp_peer.py`, a fake server "
                  "that drops publishes and sends pre-encoded deliveries), and the machine "
                  "(against `benchmarks/amqp_relay.py`, a fake broker that stores nothing and "
                  "passes each message's frames on as they are read):", "",
                  "| measurement | msgs/s |", "|---|---|"]  # fmt: skip
        lines += [f"| {label} | {rate:,.0f} |" for label, rate in ceilings]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("throughput")
    group.add_argument(
        "--throughput-runs", type=int, default=3, help="runs per target and broker (default 3)"
    )
    group.add_argument(
        "--throughput-seconds", type=float, default=10.0, help="seconds per run (default 10)"
    )
    group.add_argument(
        "--throughput-targets",
        nargs="*",
        metavar="WORD",
        help="only the targets whose label contains one of these words",
    )


def ensure_rabbitmq(log: Callable[[str], None]) -> bool:
    """Install Debian's rabbitmq-server when missing (as root); True when usable."""
    if RabbitMQ.available():
        return True
    if os.geteuid() != 0:
        log("  rabbitmq-server is not installed (run: apt-get install -y rabbitmq-server)")
        return False
    log("  installing rabbitmq-server (apt-get install -y rabbitmq-server)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "rabbitmq-server"], env=env, check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return RabbitMQ.available()


def brokers_to_measure(
    args: argparse.Namespace, log: Callable[[str], None]
) -> tuple[list[BrokerUnderTest], list[str]]:
    """Our broker, and RabbitMQ unless ``--rabbitmq no`` (installed when missing); their
    names for table headers."""
    brokers: list[BrokerUnderTest] = [LavinMQPy(http=False)]
    names = ["lavinmq-py"]
    if getattr(args, "rabbitmq", "auto") != "no" and ensure_rabbitmq(log):
        brokers.append(RabbitMQ())
        names.append(f"RabbitMQ {RabbitMQ.installed_version()}")
    return brokers, names


def run(args: argparse.Namespace, log: Callable[[str], None]) -> str:
    """Measure every target on both brokers; return the Markdown section."""
    if getattr(args, "quick", False):
        args.throughput_runs, args.throughput_seconds = 1, 2.0
    brokers, names = brokers_to_measure(args, log)
    results: list[dict[str, Cell | str]] = []
    targets = [t for t in TARGETS if not args.throughput_targets or any(
        word.lower() in t.label.lower() for word in args.throughput_targets)]  # fmt: skip
    try:
        for broker in brokers:
            broker.start()
            log(f"  started {broker.name} on port {broker.port}")
        for target in targets:
            log(f"  {target.label}: lavinmqperf throughput {' '.join(target.args)}")
            cells = measure_target(target, brokers, args, log)
            results.append({name: cells[b.name] for name, b in zip(names, brokers, strict=True)})
    finally:
        for broker in brokers:
            broker.stop()
    ceilings = measure_ceilings(args, log) if not args.throughput_targets else []
    return markdown(targets, results, names, ceilings, args)
