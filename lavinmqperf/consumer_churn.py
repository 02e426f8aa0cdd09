"""consumer-churn: start and cancel consumers on one queue."""

from __future__ import annotations

from lavinmq.client import Message, connect
from lavinmqperf.ips import IpsReport, measure


def _ignore(msg: Message) -> None:
    """The queue stays empty; nothing to do with deliveries."""


async def run(uri: str, warmup: float, seconds: float) -> list[IpsReport]:
    """Measure ``open-close consumer`` (Basic.Consume then Basic.Cancel)."""
    async with connect(uri, name="lavinmqperf consumer-churn") as conn:
        ch = await conn.channel()
        queue, _, _ = await ch.queue_declare("", exclusive=True)

        async def churn() -> None:
            tag = await ch.basic_consume(queue, _ignore)
            await ch.basic_cancel(tag)

        return [await measure("open-close consumer", churn, warmup, seconds)]
