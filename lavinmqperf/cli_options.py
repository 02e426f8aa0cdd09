"""Typer option declarations of the throughput scenario (flags as in LavinMQ's tool)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from lavinmqperf.options import DEFAULT_URI, PROPERTY_NAMES, ThroughputOptions

Uri = Annotated[str, typer.Option("--uri", help=f"URI to connect to (default {DEFAULT_URI})")]
Publishers = Annotated[int, typer.Option("-x", "--publishers", help="Number of publishers")]
Consumers = Annotated[int, typer.Option("-y", "--consumers", help="Number of consumers")]
Size = Annotated[int, typer.Option("-s", "--size", help="Size of each message (bytes)")]
Verify = Annotated[bool, typer.Option("-V", "--verify", help="Verify the message body")]
Ack = Annotated[int, typer.Option("-a", "--ack", help="Ack after X consumed messages")]
Confirm = Annotated[
    int, typer.Option("-c", "--confirm", help="Confirm publishes, at most X unconfirmed")
]
PubTx = Annotated[
    int, typer.Option("-t", "--transaction", help="Publish in transactions of X messages")
]
AckTx = Annotated[
    int, typer.Option("-T", "--ack-transaction", help="Ack in transactions of X messages")
]
Queue = Annotated[str, typer.Option("-u", "--queue", help="Queue name (also the routing key)")]
RoutingKey = Annotated[
    str | None, typer.Option("-k", "--routing-key", help="Routing key (default queue name)")
]
Exchange = Annotated[str, typer.Option("-e", "--exchange", help="Exchange to publish to")]
Rate = Annotated[int, typer.Option("-r", "--rate", help="Max publish rate per publisher")]
ConsumeRate = Annotated[
    int, typer.Option("-R", "--consumer-rate", help="Max consume rate per consumer")
]
Persistent = Annotated[bool, typer.Option("-p", "--persistent", help="Persistent messages")]
Prefetch = Annotated[
    int | None, typer.Option("-P", "--prefetch", help="Number of messages to prefetch")
]
Poll = Annotated[bool, typer.Option("-g", "--poll", help="Poll with basic.get, don't consume")]
Json = Annotated[bool, typer.Option("-j", "--json", help="Output the summary as JSON")]
Time = Annotated[float, typer.Option("-z", "--time", help="Only run for X seconds")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Quiet, only print the summary")]
PMessages = Annotated[int, typer.Option("-C", "--pmessages", help="Publish max X messages")]
CMessages = Annotated[int, typer.Option("-D", "--cmessages", help="Consume max X messages")]
QueueArgs = Annotated[str | None, typer.Option("--queue-args", help="Queue arguments (JSON)")]
ConsumerArgs = Annotated[
    str | None, typer.Option("--consumer-args", help="Consumer arguments (JSON)")
]
Properties = Annotated[str | None, typer.Option("--properties", help="Message properties (JSON)")]
RandomBodies = Annotated[bool, typer.Option("--random-bodies", help="Each message body is random")]
QueuePattern = Annotated[
    str | None, typer.Option("--queue-pattern", help="Queue name pattern, % is replaced")
]
PatternFrom = Annotated[int, typer.Option("--queue-pattern-from", help="Pattern start index")]
PatternTo = Annotated[int, typer.Option("--queue-pattern-to", help="Pattern end index")]
Latency = Annotated[
    bool, typer.Option("-l", "--measure-latency", help="Measure end-to-end latency")
]
Processes = Annotated[
    int, typer.Option("-w", "--processes", help="Max worker processes per role (default CPUs)")
]
Histogram = Annotated[
    bool, typer.Option("--histogram", help="Print an HDR-style latency histogram")
]
Plot = Annotated[str | None, typer.Option("--plot", help="Write a PNG plot of the rates to FILE")]


def json_object(value: str | None, flag: str) -> dict[str, Any]:
    """Parse a ``--*-args``/``--properties`` value; it must be a JSON object."""
    if value is None:
        return {}
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise typer.BadParameter(f"invalid JSON: {exc}", param_hint=flag) from exc
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=flag)
    return parsed


def validate(opts: ThroughputOptions) -> None:
    """LavinMQ's checks on the throughput options.

    Raises:
        typer.BadParameter: on an invalid combination.
    """
    if opts.measure_latency and opts.size < 8:
        raise typer.BadParameter("Message size must be at least 8 bytes when measuring latency")
    unknown = set(opts.properties) - PROPERTY_NAMES
    if unknown:
        raise typer.BadParameter(f"unknown properties: {', '.join(sorted(unknown))}")
    if opts.queue_pattern is not None:
        if "%" not in opts.queue_pattern:
            raise typer.BadParameter("Queue pattern must contain '%' placeholder")
        if opts.queue_pattern_from < 1 or opts.queue_pattern_to < 1:
            raise typer.BadParameter("Queue pattern from/to must be >= 1")
        if opts.queue_pattern_from > opts.queue_pattern_to:
            raise typer.BadParameter("Queue pattern from must be <= to")
    if min(opts.publishers, opts.consumers, opts.size) < 0:
        raise typer.BadParameter("publishers, consumers and size must not be negative")
