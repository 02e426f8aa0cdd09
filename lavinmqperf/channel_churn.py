"""channel-churn: open and close channels on one connection."""

from __future__ import annotations

from lavinmq.client import connect
from lavinmqperf.ips import IpsReport, measure


async def run(uri: str, warmup: float, seconds: float) -> list[IpsReport]:
    """Measure ``open-close channel``."""
    async with connect(uri, name="lavinmqperf channel-churn") as conn:

        async def churn() -> None:
            ch = await conn.channel()
            await ch.close()

        return [await measure("open-close channel", churn, warmup, seconds)]
