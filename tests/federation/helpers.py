"""Federation test helpers: set up an upstream + policy, wait for links."""

from __future__ import annotations

from typing import Any

from lavinmq.client import connect
from tests.broker_thread import BrokerThread
from tests.shovel.helpers import Api, wait_for


async def federate(
    downstream: BrokerThread,
    upstream_url: str,
    pattern: str,
    *,
    name: str = "up",
    apply_to: str = "exchanges",
    settings: dict[str, Any] | None = None,
) -> Api:
    api = Api(downstream)
    await api.put_parameter(
        "federation-upstream",
        name,
        {"uri": upstream_url, "reconnect-delay": 0.1, **(settings or {})},
    )
    await api.put_policy(f"fed-{name}", pattern, {"federation-upstream": name}, apply_to)
    return api


async def links_running(api: Api, count: int = 1) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = await api.get("/api/federation-links")
        return rows if len(rows) == count and all(r["status"] == "running" for r in rows) else None

    rows: list[dict[str, Any]] = await wait_for(check, what=f"{count} running federation link(s)")
    return rows


async def setup_exchange(
    url: str, exchange: str, queue: str, key: str, kind: str = "topic"
) -> None:
    async with connect(url) as conn:
        ch = await conn.channel()
        await ch.exchange_declare(exchange, kind, durable=True)
        await ch.queue_declare(queue, durable=True)
        await ch.queue_bind(queue, exchange, key)


def upstream_queue(bt: BrokerThread, prefix: str = "federation: ") -> list[str]:
    return bt.call(lambda: [q for q in bt.broker.vhosts["/"].queues if q.startswith(prefix)])
