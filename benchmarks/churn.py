"""Churn: how fast each broker opens and closes connections, channels, queues, consumers
and bindings, measured with lavinmqperf's churn commands (as LavinMQ's own tool has them).

Applications that open a connection per request, or declare a queue per RPC call, are
bound by these rates rather than by message throughput.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from collections.abc import Callable

import orjson

from benchmarks.throughput import brokers_to_measure

COMMANDS = ("connection-churn", "channel-churn", "consumer-churn", "queue-churn", "bind-churn")


def measure(command: str, port: int, seconds: float) -> dict[str, float]:
    """One lavinmqperf churn run: operation label -> operations per second."""
    out = subprocess.run(
        [sys.executable, "-m", "lavinmqperf", command, "--uri",
         f"amqp://guest:guest@127.0.0.1:{port}", "-z", str(seconds),
         "--warmup", str(min(2.0, seconds / 2)), "-j"],
        capture_output=True, text=True, timeout=60 + 10 * seconds, check=True,
    ).stdout  # fmt: skip
    return {row["label"]: float(row["ips"]) for row in orjson.loads(out.splitlines()[-1])}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("churn")
    for flag, kind, default, what in (
        ("--churn-runs", int, 3, "runs per broker"),
        ("--churn-seconds", float, 3.0, "seconds per operation"),
    ):
        group.add_argument(flag, type=kind, default=default, help=f"{what} (default {default})")


def run(args: argparse.Namespace, log: Callable[[str], None]) -> str:
    """Every churn command on both brokers, alternating run by run; the Markdown section."""
    quick = getattr(args, "quick", False)
    runs, seconds = (1, 0.5) if quick else (args.churn_runs, args.churn_seconds)
    brokers, names = brokers_to_measure(args, log)
    rates: dict[str, dict[str, list[float]]] = {}  # operation -> broker -> runs
    try:
        for broker in brokers:
            broker.start()
        for command in COMMANDS:
            for _ in range(runs):
                for name, broker in zip(names, brokers, strict=True):
                    for label, ips in measure(command, broker.port, seconds).items():
                        rates.setdefault(label, {}).setdefault(name, []).append(ips)
                        log(f"  {label}: {name} {ips:,.0f}/s")
    finally:
        for broker in brokers:
            broker.stop()
    return _markdown(rates, names, runs, seconds)


def _markdown(
    rates: dict[str, dict[str, list[float]]], names: list[str], runs: int, seconds: float
) -> str:
    lines = [
        f"{runs} run(s) of {seconds:g} s per operation and broker, brokers alternating; "
        "medians, operations per second. Ratio: ours ÷ RabbitMQ.",
        "",
        "| operation | " + " | ".join(names) + " | ratio |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for label, by_broker in rates.items():
        medians = [statistics.median(by_broker[n]) if n in by_broker else 0.0 for n in names]
        ratio = f"{medians[0] / medians[1]:.2f}×" if len(medians) > 1 and medians[1] else "-"  # noqa: RUF001
        cells = " | ".join(f"{m:,.0f}" for m in medians)
        lines.append(f"| {label} | {cells} | {ratio} |")
    return "\n".join(lines) + "\n"
