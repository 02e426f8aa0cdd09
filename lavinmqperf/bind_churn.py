"""bind-churn: queue.bind rate to amq.direct for a transient and a durable queue."""

from __future__ import annotations

import secrets

from lavinmq.client import connect
from lavinmqperf.ips import IpsReport, measure


async def run(uri: str, warmup: float, seconds: float) -> list[IpsReport]:
    """Measure ``bind non-durable queue`` and ``bind durable queue`` (new keys each time)."""
    async with connect(uri, name="lavinmqperf bind-churn") as conn:
        ch = await conn.channel()
        temp, _, _ = await ch.queue_declare("")
        durable, _, _ = await ch.queue_declare(f"bind-churn-durable-{secrets.token_hex(4)}")
        try:

            async def bind_temp() -> None:
                await ch.queue_bind(temp, "amq.direct", secrets.token_hex(16))

            async def bind_durable() -> None:
                await ch.queue_bind(durable, "amq.direct", secrets.token_hex(10))

            return [
                await measure("bind non-durable queue", bind_temp, warmup, seconds),
                await measure("bind durable queue", bind_durable, warmup, seconds),
            ]
        finally:
            await ch.queue_delete(durable)
