"""Reads the broker's counters into the ``Sampler`` every ``stats_interval`` ms.

Per queue, exchange, channel and connection the counters are the entity's own; per
vhost and for the whole broker they are running totals of the entities' increases, so
a deleted queue or a closed channel does not make a vhost's counters go backwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from lavinmq.stats import Counts, Sampler

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.queue.queue import Queue

log = logging.getLogger(__name__)
QUEUE_RATES = ("publish", "deliver", "ack", "get", "redeliver", "reject", "deliver_get")
QUEUE_LENGTHS = ("messages", "messages_ready", "messages_unacknowledged")
QUEUE_SERIES = QUEUE_RATES + QUEUE_LENGTHS
EXCHANGE_RATES = ("publish_in", "publish_out")
CHANNEL_RATES = (
    "publish",
    "deliver",
    "ack",
    "confirm",
    "return_unroutable",
    "get",
    "redeliver",
    "deliver_get",
)
CONNECTION_OCTETS = ("recv_oct", "send_oct")
VHOST_RATES = (
    "publish",
    "deliver",
    "ack",
    "get",
    "redeliver",
    "deliver_get",
    "confirm",
    "return_unroutable",
)
TOTAL = "broker"
# A vhost's publishes are counted where they enter (exchanges), not once per queue.
QUEUE_TO_VHOST = ("deliver", "ack", "get", "redeliver", "deliver_get")


def queue_counts(q: Queue) -> Counts:
    store = q.store
    return (
        q.stat_publish,
        q.stat_deliver,
        q.stat_ack,
        q.stat_get,
        q.stat_redeliver,
        q.stat_reject,
        q.stat_deliver + q.stat_get,
        store.count,
        store.ready,
        q.unacked,
    )


def exchange_counts(ex: Any) -> Counts:
    stats = ex.stats
    return (stats[0], stats[1]) if stats else (0, 0)


def channel_counts(ch: Any) -> Counts:
    return (
        ch.stat_publish,
        ch.stat_deliver,
        ch.stat_ack,
        ch.stat_confirm,
        ch.stat_return,
        ch.stat_get,
        ch.stat_redeliver,
        ch.stat_deliver + ch.stat_get,
    )


def channels_of(conn: Any) -> list[Any]:
    return list(getattr(conn, "channels", {}).values())


def connection_key(conn: Any) -> tuple[str, str]:
    return ("connection", str(conn.name))


def connection_counts(sampler: Sampler, conn: Any) -> Counts:
    """Channel counters accumulated over the connection's life, then octets."""
    total = list(sampler.total(connection_key(conn)) or [0] * len(CHANNEL_RATES))
    for ch in channels_of(conn):
        for i, d in enumerate(sampler.pending(ch, channel_counts(ch))):
            total[i] += d
    return (*total, int(getattr(conn, "stat_recv_oct", 0)), int(getattr(conn, "stat_send_oct", 0)))


def _add(acc: list[int], names: tuple[str, ...], deltas: Counts, columns: tuple[str, ...]) -> None:
    for name, d in zip(names, deltas, strict=False):
        if name in columns:
            acc[VHOST_RATES.index(name)] += d


def collect(broker: Broker, sampler: Sampler, now_ms: int | None = None) -> None:
    """Take one sample of every entity and update the running totals."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    overall = [0] * len(VHOST_RATES)
    per_vhost: dict[str, list[int]] = {name: [0] * len(VHOST_RATES) for name in broker.vhosts}
    for vhost in broker.vhosts.values():
        acc = per_vhost[vhost.name]
        for q in list(vhost.queues.values()):
            deltas = sampler.observe(q, QUEUE_SERIES, queue_counts(q), now)
            _add(acc, QUEUE_RATES, deltas, QUEUE_TO_VHOST)
        for ex in list(vhost.exchanges.values()):
            deltas = sampler.observe(ex, EXCHANGE_RATES, exchange_counts(ex), now)
            acc[0] += deltas[0]
    for conn in list(broker.connections.values()):
        acc = per_vhost.get(conn.vhost_name, overall)
        conn_deltas = [0] * len(CHANNEL_RATES)
        for ch in channels_of(conn):
            deltas = sampler.observe(ch, CHANNEL_RATES, channel_counts(ch), now)
            conn_deltas = [a + d for a, d in zip(conn_deltas, deltas, strict=True)]
            _add(acc, CHANNEL_RATES, deltas, ("confirm", "return_unroutable"))
        sampler.add_total(connection_key(conn), CHANNEL_RATES, conn_deltas)
        sampler.observe(
            conn, CHANNEL_RATES + CONNECTION_OCTETS, connection_counts(sampler, conn), now
        )
    _retain_connections(broker, sampler)
    for name, acc in per_vhost.items():
        sampler.add_total(("vhost", name), VHOST_RATES, acc)
        sampler.record_total(("vhost", name), VHOST_RATES, now)
        overall = [a + d for a, d in zip(overall, acc, strict=True)]
    sampler.add_total(TOTAL, VHOST_RATES, overall)
    sampler.record_total(TOTAL, VHOST_RATES, now)


def _retain_connections(broker: Broker, sampler: Sampler) -> None:
    live = {connection_key(c) for c in broker.connections.values()}
    vhosts = {("vhost", name) for name in broker.vhosts}
    for key in sampler.total_keys():
        if isinstance(key, tuple) and key not in live and key not in vhosts:
            sampler.drop_total(key)


async def run_sampler(broker: Broker, sampler: Sampler) -> None:
    """Sample forever, every ``sampler.interval_ms``."""
    interval = max(sampler.interval_ms, 10) / 1000
    while True:
        await asyncio.sleep(interval)
        try:
            collect(broker, sampler)
        except Exception:  # a bad sample must not stop the rates for good
            log.exception("sampling message rates failed")
