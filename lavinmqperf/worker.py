"""Entry point of a worker process: a few publishers or consumers on one uvloop."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any

import uvloop

from lavinmqperf.consumer import Consumer
from lavinmqperf.context import WorkerContext
from lavinmqperf.errors import describe
from lavinmqperf.options import ThroughputOptions
from lavinmqperf.publisher import Publisher

SHIP_INTERVAL = 0.25
"""How often latency samples go to the parent."""


@dataclass(slots=True)
class WorkerPlan:
    """What one worker process runs.

    Attributes:
        consume: consumers (True) or publishers (False).
        slot: the worker's index in the shared counters.
        quotas: one entry per client: how many messages it handles (None: unlimited).
        queues: consumers only: the queue of each client.
    """

    consume: bool
    slot: int
    quotas: list[int | None] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)


def worker_main(
    plan: WorkerPlan, opts: ThroughputOptions, counts: Any, control: Any, pipe: Pipe
) -> None:
    """Run the plan's clients until the parent sets STOP or all are done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    ctx = WorkerContext(opts, plan.slot, counts, control, pipe)
    try:
        uvloop.run(_serve(ctx, plan))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which stops the run
        pipe.send(("error", describe(exc)))
    finally:
        pipe.send(("done",))
        pipe.close()


async def _serve(ctx: WorkerContext, plan: WorkerPlan) -> None:
    clients: list[Publisher | Consumer]
    if plan.consume:
        clients = [Consumer(ctx, q, n) for q, n in zip(plan.queues, plan.quotas, strict=True)]
    else:
        clients = [Publisher(ctx, n) for n in plan.quotas]
    await asyncio.gather(*(client.open() for client in clients))
    ctx.send("ready")
    await ctx.wait_go()
    shipper = asyncio.ensure_future(_ship_latencies(ctx))
    try:
        await asyncio.gather(*(client.run() for client in clients))
    finally:
        shipper.cancel()
        ctx.ship_latencies()


async def _ship_latencies(ctx: WorkerContext) -> None:
    while True:
        await asyncio.sleep(SHIP_INTERVAL)
        ctx.ship_latencies()


__all__ = ["WorkerPlan", "worker_main"]
