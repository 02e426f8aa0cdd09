"""queue-churn: create/delete rate of transient and durable queues (LavinMQ's scenario)."""

from __future__ import annotations

import secrets

from lavinmq.client import connect
from lavinmqperf.ips import IpsReport, measure


async def run(uri: str, warmup: float, seconds: float) -> list[IpsReport]:
    """Measure ``create/delete transient queue`` and ``create/delete durable queue``."""
    async with connect(uri, name="lavinmqperf queue-churn") as conn:
        ch = await conn.channel()

        async def transient() -> None:
            name, _, _ = await ch.queue_declare("")
            await ch.queue_delete(name)

        async def durable() -> None:
            name, _, _ = await ch.queue_declare(f"queue-churn-durable-{secrets.token_hex(4)}")
            await ch.queue_delete(name)

        return [
            await measure("create/delete transient queue", transient, warmup, seconds),
            await measure("create/delete durable queue", durable, warmup, seconds),
        ]
