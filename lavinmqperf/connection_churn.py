"""connection-churn: open a connection and a channel, close the connection."""

from __future__ import annotations

from lavinmq.client import connect
from lavinmqperf.ips import IpsReport, measure


async def run(uri: str, warmup: float, seconds: float) -> list[IpsReport]:
    """Measure ``open-close connection and channel``."""

    async def churn() -> None:
        conn = await connect(uri, name="lavinmqperf connection-churn")
        await conn.channel()
        await conn.close()

    return [await measure("open-close connection and channel", churn, warmup, seconds)]
