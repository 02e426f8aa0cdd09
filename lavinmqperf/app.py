"""The ``lavinmqperf`` command line (Typer): one command per scenario.

``lavinmqperf [amqp] SCENARIO [options]``; options, defaults and output follow LavinMQ's
``lavinmqperf`` so that scripts written for it keep working.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer

from lavinmqperf import __version__
from lavinmqperf.cli_options import (
    Ack,
    AckTx,
    CMessages,
    Confirm,
    ConsumerArgs,
    ConsumeRate,
    Consumers,
    Exchange,
    Histogram,
    Json,
    Latency,
    PatternFrom,
    PatternTo,
    Persistent,
    Plot,
    PMessages,
    Poll,
    Prefetch,
    Processes,
    Properties,
    Publishers,
    PubTx,
    Queue,
    QueueArgs,
    QueuePattern,
    Quiet,
    RandomBodies,
    Rate,
    RoutingKey,
    Size,
    Time,
    Uri,
    Verify,
    json_object,
    validate,
)  # fmt: skip
from lavinmqperf.ips import IpsReport
from lavinmqperf.options import DEFAULT_URI, ThroughputOptions

BANNER = (
    "Usage: lavinmqperf [protocol] [throughput | latency | bind-churn | queue-churn | "
    "connection-churn | channel-churn | consumer-churn | connection-count | queue-count] "
    "[arguments]"
)
LATENCY_RATE = 10_000
"""Default publish rate of the latency scenario: latency is measured below saturation."""

app = typer.Typer(name="lavinmqperf", help=BANNER, no_args_is_help=True, add_completion=False)


def _version(value: bool) -> None:
    if value:
        print(__version__)  # noqa: T201 - the user asked for it
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("-v", "--version", callback=_version, is_eager=True, help="Show version")
    ] = False,
) -> None:
    """Benchmark an AMQP 0-9-1 broker (LavinMQ, RabbitMQ, ...)."""


def fail(message: str) -> typer.Exit:
    """Print ``lavinmqperf: message`` to stderr; return the exit to raise."""
    print(f"lavinmqperf: {message}", file=sys.stderr)  # noqa: T201
    return typer.Exit(1)


@app.command(
    "latency", help="Throughput run measuring end-to-end latency (-l), at -r 10000 by default."
)
@app.command("throughput", help="Publish and consume throughput (and latency with -l).")
def throughput(
    ctx: typer.Context, uri: Uri = DEFAULT_URI, publishers: Publishers = 1,
    consumers: Consumers = 1, size: Size = 16, verify: Verify = False, ack: Ack = 0,
    confirm: Confirm = 0, transaction: PubTx = 0, ack_transaction: AckTx = 0,
    queue: Queue = "perf-test", routing_key: RoutingKey = None, exchange: Exchange = "",
    rate: Rate = 0, consumer_rate: ConsumeRate = 0, persistent: Persistent = False,
    prefetch: Prefetch = None, poll: Poll = False, json: Json = False, time: Time = 0.0,
    quiet: Quiet = False, pmessages: PMessages = 0, cmessages: CMessages = 0,
    queue_args: QueueArgs = None, consumer_args: ConsumerArgs = None,
    properties: Properties = None, random_bodies: RandomBodies = False,
    queue_pattern: QueuePattern = None, queue_pattern_from: PatternFrom = 1,
    queue_pattern_to: PatternTo = 1, measure_latency: Latency = False,
    processes: Processes = 0, histogram: Histogram = False, plot: Plot = None,
) -> None:  # fmt: skip
    latency = ctx.info_name == "latency"
    opts = ThroughputOptions(
        uri, publishers, consumers, size, verify, ack, confirm, transaction, ack_transaction,
        queue, queue if routing_key is None else routing_key, exchange,
        rate or (LATENCY_RATE if latency else 0), consumer_rate, persistent, prefetch, poll,
        json, time, quiet, pmessages, cmessages, json_object(queue_args, "--queue-args"),
        json_object(consumer_args, "--consumer-args"), json_object(properties, "--properties"),
        random_bodies, queue_pattern, queue_pattern_from, queue_pattern_to,
        measure_latency or latency, processes, histogram, plot,
    )  # fmt: skip
    validate(opts)
    from lavinmqperf.errors import PerfError
    from lavinmqperf.throughput import ThroughputRun

    try:
        ThroughputRun(opts).run()
    except PerfError as exc:
        raise fail(str(exc)) from None


Warmup = Annotated[float, typer.Option("--warmup", help="Warmup seconds before measuring")]
IpsTime = Annotated[float, typer.Option("-z", "--time", help="Seconds to measure each operation")]
Scenario = Callable[[str, float, float], Coroutine[Any, Any, list[IpsReport]]]


def _churn(scenario: Scenario, uri: str, warmup: float, seconds: float, as_json: bool) -> None:
    import orjson
    import uvloop

    from lavinmqperf.errors import describe
    from lavinmqperf.ips import format_reports

    try:
        reports = uvloop.run(scenario(uri, warmup, seconds))
    except Exception as exc:  # noqa: BLE001 - the CLI edge: any failure becomes one line
        raise fail(describe(exc)) from None
    if as_json:
        print(orjson.dumps([r.to_json() for r in reports]).decode())  # noqa: T201
    else:
        print("\n".join(format_reports(reports)))  # noqa: T201


def _churn_command(name: str, module: str, help_text: str) -> None:
    def command(
        uri: Uri = DEFAULT_URI, warmup: Warmup = 2.0, time: IpsTime = 5.0, json: Json = False
    ) -> None:
        import importlib

        _churn(importlib.import_module(f"lavinmqperf.{module}").run, uri, warmup, time, json)

    app.command(name, help=help_text)(command)


_churn_command("queue-churn", "queue_churn", "Create/delete rate of transient and durable queues.")
_churn_command("bind-churn", "bind_churn", "Queue bind rate (amq.direct).")
_churn_command("connection-churn", "connection_churn", "Connection open/close rate.")
_churn_command("channel-churn", "channel_churn", "Channel open/close rate on one connection.")
_churn_command("consumer-churn", "consumer_churn", "Consumer subscribe/cancel rate.")

from lavinmqperf import app_counts as _app_counts  # noqa: E402 - registers two commands

_app_counts.register(app, fail)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``lavinmqperf [amqp] SCENARIO [options]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "amqp":
        args.pop(0)
    elif args and args[0] == "mqtt":
        raise SystemExit("lavinmqperf: the mqtt protocol is not supported by this port")
    app(args=args, prog_name="lavinmqperf")


__all__ = ["app", "main"]
