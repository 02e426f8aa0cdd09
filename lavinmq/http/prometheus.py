"""Prometheus exporter: ``/metrics`` (aggregates) and ``/metrics/detailed?family=...``.

Metric names follow LavinMQ's (``lavinmq_`` prefix, overridable with ``?prefix=``).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from lavinmq import __version__
from lavinmq.http import rates
from lavinmq.http.context import broker_of, sampler_of
from lavinmq.http.errors import bad_request

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.queue.queue import Queue

routes = web.RouteTableDef()
Labels = dict[str, str]
Sample = tuple[Labels, float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Writer:
    """Accumulates the text exposition format."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_: str, samples: Iterable[Sample]) -> None:
        full = f"{self.prefix}_{name}"
        self.lines.append(f"# HELP {full} {help_}")
        self.lines.append(f"# TYPE {full} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            shown = int(value) if float(value).is_integer() else value
            self.lines.append(f"{full}{{{label_text}}} {shown}" if labels else f"{full} {shown}")

    def one(self, name: str, kind: str, help_: str, value: float) -> None:
        self.metric(name, kind, help_, [({}, value)])

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _prefix(request: web.Request) -> str:
    prefix = request.query.get("prefix", "lavinmq")
    if len(prefix) > 20 or not prefix.replace("_", "").isalnum():
        raise bad_request("Prefix must be at most 20 letters, digits or underscores")
    return prefix


def _process(w: Writer, broker: Broker) -> None:
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    w.one("process_open_fds", "gauge", "Open file descriptors", fds)
    w.one(
        "process_max_fds",
        "gauge",
        "Open file descriptors limit",
        resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    )
    w.one("process_open_tcp_sockets", "gauge", "Open TCP sockets", len(broker.connections))
    w.one("process_resident_memory_bytes", "gauge", "Memory used in bytes", _rss())
    disk = os.statvfs(broker.data_dir)
    w.one(
        "disk_space_available_bytes",
        "gauge",
        "Disk space available in bytes",
        disk.f_bavail * disk.f_frsize,
    )


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_GLOBAL_COUNTERS = (
    ("global_messages_delivered_total", "deliver_get", "Total number of messages delivered"),
    ("global_messages_redelivered_total", "redeliver", "Total number of messages redelivered"),
    ("global_messages_acknowledged_total", "ack", "Total number of messages acknowledged"),
    ("global_messages_confirmed_total", "confirm", "Total number of messages confirmed"),
    (
        "global_messages_unroutable_dropped_total",
        "return_unroutable",
        "Total number of unroutable messages returned",
    ),
    (
        "global_publishers_messages_received_total",
        "publish",
        "Total number of messages received from publishers",
    ),
)
"""(metric, the rates key it reports, help) of the broker-wide message counters."""


def overview(w: Writer, broker: Broker, totals: list[int]) -> None:
    w.metric(
        "identity_info",
        "gauge",
        "System information",
        [({f"{w.prefix}_version": __version__, f"{w.prefix}_cluster": "lavinmq@localhost"}, 1)],
    )
    w.one("connections", "gauge", "Connections currently open", len(broker.connections))
    w.one(
        "channels",
        "gauge",
        "Channels currently open",
        sum(len(rates.channels_of(c)) for c in broker.connections.values()),
    )
    _queue_totals(w, [q for v in broker.vhosts.values() for q in v.queues.values()])
    by_name = dict(zip(rates.VHOST_RATES, totals, strict=True))
    for metric, key, help_ in _GLOBAL_COUNTERS:
        w.one(metric, "counter", help_, by_name[key])
    _process(w, broker)


def _queue_totals(w: Writer, queues: list[Queue]) -> None:
    w.one(
        "consumers", "gauge", "Consumers currently connected", sum(q.consumer_count for q in queues)
    )
    w.one("queues", "gauge", "Queues available", len(queues))
    ready = sum(q.store.ready for q in queues)
    unacked = sum(q.unacked for q in queues)
    w.one("queue_messages_ready", "gauge", "Messages ready to be delivered to consumers", ready)
    w.one(
        "queue_messages_unacked",
        "gauge",
        "Messages delivered to consumers but not yet acknowledged",
        unacked,
    )
    w.one("queue_messages", "gauge", "Sum of ready and unacknowledged messages", ready + unacked)


def _queue_coarse(w: Writer, broker: Broker) -> None:
    qs = [(v.name, q) for v in broker.vhosts.values() for q in v.queues.values()]
    for name, help_, fn in (
        ("detailed_queue_messages_ready", "Messages ready", 0),
        ("detailed_queue_messages_unacked", "Messages not yet acknowledged", 1),
        ("detailed_queue_messages", "Total queue depth", 2),
    ):
        w.metric(
            name, "gauge", help_, [({"queue": q.name, "vhost": v}, _depth(q)[fn]) for v, q in qs]
        )


def _queue_consumers(w: Writer, broker: Broker) -> None:
    w.metric(
        "detailed_queue_consumers",
        "gauge",
        "Consumers on a queue",
        [
            ({"queue": q.name, "vhost": v.name}, q.consumer_count)
            for v in broker.vhosts.values()
            for q in v.queues.values()
        ],
    )


def _connection_coarse(w: Writer, broker: Broker) -> None:
    conns = list(broker.connections.values())
    for name, attr in (
        ("detailed_connection_incoming_bytes_total", "stat_recv_oct"),
        ("detailed_connection_outgoing_bytes_total", "stat_send_oct"),
    ):
        w.metric(
            name,
            "counter",
            "Bytes on the connection",
            [({"channel": c.name}, getattr(c, attr, 0)) for c in conns],
        )
    w.metric(
        "detailed_connection_channels",
        "gauge",
        "Channels on a connection",
        [({"channel": c.name}, len(rates.channels_of(c))) for c in conns],
    )


def _exchange_metrics(w: Writer, broker: Broker) -> None:
    w.metric(
        "detailed_exchange_messages_published_in_total",
        "counter",
        "Messages published into an exchange",
        [
            ({"exchange": ex.name, "vhost": v.name}, rates.exchange_counts(ex)[0])
            for v in broker.vhosts.values()
            for ex in v.exchanges.values()
        ],
    )


FAMILIES: dict[str, Callable[[Writer, Broker], None]] = {
    "queue_coarse_metrics": _queue_coarse,
    "queue_consumer_count": _queue_consumers,
    "connection_coarse_metrics": _connection_coarse,
    "exchange_metrics": _exchange_metrics,
}
"""The ``family`` values of /metrics/detailed and what writes each."""


def _depth(q: Queue) -> tuple[int, int, int]:
    return q.store.ready, q.unacked, q.store.ready + q.unacked


def _response(text: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    w = Writer(_prefix(request))
    broker = broker_of(request)
    totals = sampler_of(request).total(rates.TOTAL) or [0] * len(rates.VHOST_RATES)
    overview(w, broker, totals)
    return _response(w.text())


@routes.get("/metrics/detailed")
async def metrics_detailed(request: web.Request) -> web.Response:
    w = Writer(_prefix(request))
    families: list[Any] = request.query.getall("family", [])
    for family in families:
        if family not in FAMILIES:
            raise bad_request(f"unknown family '{family}', expected one of {', '.join(FAMILIES)}")
        FAMILIES[family](w, broker_of(request))
    return _response(w.text())
