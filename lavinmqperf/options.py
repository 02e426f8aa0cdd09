"""Options of the throughput scenario, shared by the parent and its worker processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lavinmq.amqp.properties import BasicProperties
from lavinmq.amqp.types import FieldTable

DEFAULT_URI = "amqp://guest:guest@localhost"
PROPERTY_NAMES = frozenset(BasicProperties.__dataclass_fields__)


@dataclass(slots=True)
class ThroughputOptions:
    """Everything a throughput run needs; pickled to each worker process.

    Names and defaults follow LavinMQ's ``src/lavinmqperf/amqp/throughput.cr``. Counts
    (``pmessages``, ``cmessages``) are totals over all publishers/consumers, and rates
    (``rate``, ``consume_rate``) apply to each publisher/consumer, as there.
    """

    uri: str = DEFAULT_URI
    publishers: int = 1
    consumers: int = 1
    size: int = 16
    verify: bool = False
    ack: int = 0
    max_unconfirm: int = 0
    pub_in_transaction: int = 0
    ack_in_transaction: int = 0
    queue: str = "perf-test"
    routing_key: str = "perf-test"
    exchange: str = ""
    rate: int = 0
    consume_rate: int = 0
    persistent: bool = False
    prefetch: int | None = None
    poll: bool = False
    json_output: bool = False
    timeout: float = 0.0
    quiet: bool = False
    pmessages: int = 0
    cmessages: int = 0
    queue_args: FieldTable = field(default_factory=dict)
    consumer_args: FieldTable = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    random_bodies: bool = False
    queue_pattern: str | None = None
    queue_pattern_from: int = 1
    queue_pattern_to: int = 1
    measure_latency: bool = False
    processes: int = 0
    histogram: bool = False
    plot: str | None = None

    def queue_names(self) -> list[str]:
        """The queues consumers use: ``--queue``, or each name of ``--queue-pattern``."""
        if self.queue_pattern is None:
            return [self.queue]
        return [
            self.queue_pattern.replace("%", str(i), 1)
            for i in range(self.queue_pattern_from, self.queue_pattern_to + 1)
        ]

    def encoded_properties(self) -> BasicProperties:
        """The properties every published message carries (``--properties``, ``-p``)."""
        props = BasicProperties(**self.properties)
        if self.persistent:
            props.delivery_mode = 2
        return props

    def fast_consumers(self) -> bool:
        """Whether consumers may count deliveries from frame headers alone (no bodies
        looked at): not when verifying, measuring latency, polling or acking in a tx."""
        return not (self.verify or self.measure_latency or self.poll or self.ack_in_transaction)


def body_pattern(size: int) -> bytes:
    """LavinMQ's message body: byte ``i`` is ``i % 27 + 64`` (``@ABC...Z``)."""
    return bytes(i % 27 + 64 for i in range(size))


def split(total: int, parts: int) -> list[int | None]:
    """Share ``total`` out over ``parts``; a ``total`` of 0 (unlimited) gives ``None`` each."""
    if total <= 0:
        return [None] * parts
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


__all__ = ["DEFAULT_URI", "PROPERTY_NAMES", "ThroughputOptions", "body_pattern", "split"]
