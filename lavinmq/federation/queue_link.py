"""Queue federation: a local queue takes messages from the upstream queue of the same name
(or the upstream's ``queue``) when it has run out of its own, as RabbitMQ.

The link consumes upstream only while the local queue has a consumer ready for more and
no messages ready; it cancels that consumer when the local consumers are gone or can't
keep up. Messages are republished to the local queue through the default exchange and
acked upstream once confirmed here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lavinmq.amqp.errors import NotFound
from lavinmq.client import Channel, Connection, Message
from lavinmq.federation.link import Link

if TYPE_CHECKING:
    from lavinmq.broker.queue.queue import Queue

POLL_INTERVAL = 0.05
"""Seconds between looks at the local queue's consumers (demand)."""


class QueueLink(Link):
    KIND = "queue"

    def _queue(self) -> Queue | None:
        vhost = self.broker.vhosts.get(self.vhost)
        return vhost.queues.get(self.resource) if vhost is not None else None

    async def _link(self, upstream: Connection, local: Connection, channel: Channel) -> None:
        uch = await upstream.channel()
        try:
            await uch.queue_declare(self.upstream_name, passive=True)
        except NotFound:
            uch = await upstream.channel()
            await uch.queue_declare(self.upstream_name, durable=True)
        if self.upstream.ack_mode != "no-ack":
            await uch.basic_qos(self.upstream.prefetch)
        self._set_status("running", None)
        await self._until_stopped(
            upstream, local, asyncio.ensure_future(self._follow_demand(uch, channel))
        )

    @staticmethod
    def _wanted(q: Queue) -> bool:
        """Start consuming upstream: a local consumer can take more and nothing is ready."""
        return q.message_count == 0 and any(c.ready() for c in q.consumers)

    @staticmethod
    def _saturated(q: Queue) -> bool:
        """Stop: no local consumers, or messages pile up that none of them can take."""
        return not q.consumers or (q.message_count > 0 and not any(c.ready() for c in q.consumers))

    async def _follow_demand(self, uch: Channel, channel: Channel) -> None:
        tag: str | None = None
        while True:
            q = self._queue()
            if tag is None and q is not None and self._wanted(q):
                tag = await uch.basic_consume(
                    self.upstream_name,
                    lambda m: self._on_message(channel, m),
                    no_ack=self.upstream.ack_mode == "no-ack",
                    consumer_tag=self.upstream.tag,
                )
            elif tag is not None and (q is None or self._saturated(q)):
                await uch.basic_cancel(tag)
                tag = None
            await asyncio.sleep(POLL_INTERVAL)

    def _on_message(self, channel: Channel, msg: Message) -> None:
        self.forward(channel, msg, "", self.resource, msg.properties)


__all__ = ["QueueLink"]
