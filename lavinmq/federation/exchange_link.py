"""Exchange federation: messages published to the upstream exchange reach the local one.

On the upstream the link declares a durable queue ``federation: <exchange> -> <cluster
name>:<vhost>:<local exchange>`` and binds it to the upstream exchange with the routing
keys and arguments of the local exchange's bindings, kept in step as bindings come and go.
It consumes that queue and republishes here to the local exchange with the original
routing key. The queue keeps collecting while the link is down, so a restart of either
side or a dropped connection loses nothing; deleting the link deletes the queue.

Messages that went through ``max-hops`` links already, or through this broker (its
cluster name in ``x-received-from``), are dropped: that ends loops between brokers that
federate from each other.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from lavinmq.amqp.errors import NotFound
from lavinmq.amqp.types import FieldTable
from lavinmq.broker.exchange.base import args_key
from lavinmq.client import Channel, Connection, Message
from lavinmq.federation.link import Link, LinkDown, received_from, text
from lavinmq.federation.upstream import UpstreamError

if TYPE_CHECKING:
    from lavinmq.broker.exchange import Exchange

SYNC_INTERVAL = 0.25
"""Seconds between looks at the local exchange's binding count."""
FULL_SYNC_TICKS = 8
"""Every this many looks, compare all bindings even if the count did not change."""


class ExchangeLink(Link):
    KIND = "exchange"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # (routing key, arguments key) -> (routing key, arguments) bound upstream; kept across
        # reconnects so that bindings removed meanwhile are removed upstream too
        self._bound: dict[tuple[str, str], tuple[str, FieldTable]] = {}
        self._synced_count = -1

    @functools.cached_property
    def queue_name(self) -> str:
        """Named once: a later change of the cluster name must not orphan the queue."""
        return (
            f"federation: {self.upstream_name} -> "
            f"{self.broker.cluster_name}:{self.vhost}:{self.resource}"
        )

    def _exchange(self) -> Exchange | None:
        vhost = self.broker.vhosts.get(self.vhost)
        return vhost.exchanges.get(self.resource) if vhost is not None else None

    async def _link(self, upstream: Connection, local: Connection, channel: Channel) -> None:
        exchange = self._exchange()
        if exchange is None:
            raise UpstreamError(f"exchange '{self.resource}' not found")
        uch = await self._declare(upstream, exchange)
        await self._sync(uch)
        if self.upstream.ack_mode != "no-ack":
            await uch.basic_qos(self.upstream.prefetch)
        cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_cancel(tag: str) -> None:  # the upstream queue was deleted
            if not cancelled.done():
                cancelled.set_result(None)

        uch.on_cancel = on_cancel
        own = self.broker.cluster_name
        await uch.basic_consume(
            self.queue_name,
            lambda m: self._on_message(channel, m, own),
            no_ack=self.upstream.ack_mode == "no-ack",
            consumer_tag=self.upstream.tag,
        )
        self._set_status("running", None)
        await self._until_stopped(
            upstream, local, cancelled, asyncio.ensure_future(self._sync_loop(uch))
        )

    async def _declare(self, upstream: Connection, exchange: Exchange) -> Channel:
        """The upstream exchange (created like the local one when missing) and the queue."""
        uch = await upstream.channel()
        try:
            await uch.exchange_declare(self.upstream_name, exchange.TYPE, passive=True)
        except NotFound:
            uch = await upstream.channel()
            await uch.exchange_declare(
                self.upstream_name, exchange.TYPE, durable=True, arguments=dict(exchange.arguments)
            )
        try:
            await uch.queue_declare(self.queue_name, passive=True)
        except NotFound:
            uch = await upstream.channel()
            arguments: FieldTable = {"x-internal-purpose": "federation"}
            if self.upstream.expires is not None:
                arguments["x-expires"] = self.upstream.expires
            if self.upstream.message_ttl is not None:
                arguments["x-message-ttl"] = self.upstream.message_ttl
            await uch.queue_declare(self.queue_name, durable=True, arguments=arguments)
        return uch

    async def _sync(self, uch: Channel) -> None:
        """Bind/unbind upstream so the queue gets what the local bindings would route."""
        exchange = self._exchange()
        if exchange is None:
            return  # deleted: the store removes this link
        self._synced_count = exchange.binding_count
        wanted = {(rk, args_key(args)): (rk, dict(args)) for _, rk, args in exchange.bindings()}
        for key in wanted.keys() - self._bound.keys():
            rk, args = wanted[key]
            await uch.queue_bind(self.queue_name, self.upstream_name, rk, args)
            self._bound[key] = (rk, args)
        for key in self._bound.keys() - wanted.keys():
            rk, args = self._bound[key]
            await uch.queue_unbind(self.queue_name, self.upstream_name, rk, args)
            del self._bound[key]

    async def _sync_loop(self, uch: Channel) -> None:
        # Comparing every binding is O(bindings): do it when the count changed, and now
        # and then for changes that leave the count as it was (an unbind plus a bind).
        ticks = 0
        while True:
            await asyncio.sleep(SYNC_INTERVAL)
            ticks += 1
            exchange = self._exchange()
            count = exchange.binding_count if exchange is not None else 0
            if count != self._synced_count or ticks % FULL_SYNC_TICKS == 0:
                await self._sync(uch)

    def _on_message(self, channel: Channel, msg: Message, own_cluster: str) -> None:
        props = msg.properties
        hops = received_from(props)
        seen = any(
            isinstance(e, dict) and text(e.get("cluster-name", "")) == own_cluster for e in hops
        )
        if len(hops) >= self.upstream.max_hops or seen:
            if self.upstream.ack_mode != "no-ack":
                msg.ack()  # max-hops reached or a loop: dropped, as RabbitMQ
            return
        self.forward(channel, msg, self.resource, msg.routing_key, props)

    async def _cleanup(self) -> None:
        name = f"Federation link cleanup: {self.upstream.name}/{self.resource}"
        conn = await self._connect(self._uri(self.upstream.uri), name)
        try:
            channel = await conn.channel()
            await channel.queue_delete(self.queue_name)
        finally:
            await conn.close()


__all__ = ["ExchangeLink", "LinkDown"]
