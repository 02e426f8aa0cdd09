"""A federation link: one federated exchange or queue and one of its upstreams.

A link runs as a task in the broker process with two client connections: one to the
upstream (it consumes there) and one to this broker as the direct user (it publishes
here). With ``ack-mode`` ``on-confirm`` an upstream message is acked only once this
broker confirmed it, so a restart of either side or a dropped link loses nothing (a
message may arrive twice). Connection failures are retried with backoff.

Every message a link republishes gets an ``x-received-from`` header entry (uri, exchange
or queue, redelivered, the upstream's ``cluster-name``), as RabbitMQ: exchange links use
it for ``max-hops`` and to drop messages that already passed through this broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar

from lavinmq.amqp.errors import AMQPError
from lavinmq.amqp.properties import BasicProperties
from lavinmq.client import Channel, ClientError, Connection, Message, connect
from lavinmq.client.url import ssl_context_for
from lavinmq.federation.upstream import (
    Upstream,
    UpstreamError,
    local_vhost,
    scrub,
)

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10.0
MAX_DELAY = 60.0
FAILURES = (ClientError, AMQPError, OSError, TimeoutError, UpstreamError)


class LinkDown(Exception):
    """A connection of the link closed; the link reconnects."""


def text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def received_from(props: BasicProperties) -> list[Any]:
    value = (props.headers or {}).get("x-received-from")
    return list(value) if isinstance(value, list) else []


class Link:
    """Base of :class:`ExchangeLink` and :class:`QueueLink`: lifecycle, status, forwarding."""

    KIND: ClassVar[str] = ""

    def __init__(self, broker: Broker, vhost: str, resource: str, upstream: Upstream) -> None:
        self.broker = broker
        self.vhost = vhost
        self.resource = resource
        self.upstream = upstream
        self.status = "starting"
        self.error: str | None = None
        self.timestamp = time.time()
        self.upstream_cluster = ""
        self.id = hashlib.sha1(
            f"{vhost}/{self.KIND}/{resource}/{upstream.name}".encode(), usedforsecurity=False
        ).hexdigest()[:8]
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def upstream_name(self) -> str:
        """The exchange or queue on the upstream (default: the same name)."""
        return (
            self.upstream.exchange if self.KIND == "exchange" else self.upstream.queue
        ) or self.resource

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, cleanup: bool = False) -> None:
        """Stop; ``cleanup`` also removes what the link created upstream (it is deleted,
        not merely shut down with the broker)."""
        self._stop.set()
        task = self._task
        if task is not None:
            if self.status != "running":
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if cleanup:
            with contextlib.suppress(*FAILURES):
                await asyncio.wait_for(self._cleanup(), CONNECT_TIMEOUT)
        self._set_status("terminated", None)

    async def _cleanup(self) -> None:
        """Remove upstream resources of a deleted link (exchange links: their queue)."""

    def _set_status(self, status: str, error: str | None) -> None:
        if (status, error) != (self.status, self.error):
            self.timestamp = time.time()
        self.status, self.error = status, error

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._set_status("starting", self.error)
            try:
                await self._session()
                continue
            except FAILURES as exc:
                failures = 1 if self.status == "running" else failures + 1
                reason = str(exc) or type(exc).__name__
            except LinkDown as exc:
                failures, reason = 1, str(exc)
            except Exception as exc:  # a bug: keep retrying, loudly
                log.exception("federation link %s failed", self.label)
                failures, reason = failures + 1, f"internal error: {exc!r}"
            if self._stop.is_set():
                return
            log.warning("federation link %s: %s", self.label, reason)
            self._set_status("error", reason)
            delay = max(self.upstream.reconnect_delay, 0.1) * (1 << min(max(failures - 3, 0), 10))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop.wait(), min(delay, max(MAX_DELAY, self.upstream.reconnect_delay))
                )

    @property
    def label(self) -> str:
        return f"{self.vhost}/{self.resource} <- {self.upstream.name}"

    # -- connections --------------------------------------------------------------------

    def _uri(self, uri: str) -> str:
        vhost = local_vhost(uri)
        if vhost is None:
            return uri
        local = self.broker.direct_uri(vhost)
        if not local:
            raise UpstreamError("no local AMQP listener for a URI without a host")
        query = uri.partition("?")[2]
        return f"{local}?{query}" if query else local

    async def _connect(self, uri: str, name: str) -> Connection:
        return await connect(uri, name=name, ssl=ssl_context_for(uri), timeout=CONNECT_TIMEOUT)

    async def _session(self) -> None:
        name = f"Federation link: {self.upstream.name}/{self.resource}"
        upstream = await self._connect(self._uri(self.upstream.uri), name)
        local: Connection | None = None
        try:
            self.upstream_cluster = text(upstream.server_properties.get("cluster_name", ""))
            local = await self._connect(self._uri(f"amqp:///{self.vhost}"), name)
            channel = await local.channel()
            if self.upstream.ack_mode == "on-confirm":
                await channel.confirm_select()
            await self._link(upstream, local, channel)
        finally:
            for conn in (local, upstream):
                if conn is not None:
                    with contextlib.suppress(*FAILURES):
                        await conn.close()

    async def _link(self, upstream: Connection, local: Connection, channel: Channel) -> None:
        raise NotImplementedError

    async def _until_stopped(
        self, upstream: Connection, local: Connection, *tasks: asyncio.Future[Any]
    ) -> None:
        """Wait until the link is stopped (return) or a connection or task ends (raise)."""
        waiters: dict[asyncio.Future[Any], str] = {
            asyncio.ensure_future(self._stop.wait()): "stop",
            asyncio.ensure_future(upstream.wait_closed()): "upstream",
            asyncio.ensure_future(local.wait_closed()): "local",
        }
        try:
            done, _ = await asyncio.wait({*waiters, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (*waiters, *tasks):
                waiter.cancel()
            await asyncio.gather(*waiters, *tasks, return_exceptions=True)
        ended = next(iter(done))
        kind = waiters.get(ended)
        if kind == "stop":
            return
        if kind is None:  # one of ``tasks``
            error = None if ended.cancelled() else ended.exception()
            if error is not None:
                raise error
            raise LinkDown("the upstream consumer was cancelled")
        raise LinkDown(f"{kind} connection closed: {ended.result()}")

    # -- forwarding ---------------------------------------------------------------------

    def _entry(self, msg: Message) -> dict[str, Any]:
        return {
            "uri": scrub(self.upstream.uri),
            self.KIND: self.upstream_name,
            "redelivered": msg.redelivered,
            "cluster-name": self.upstream_cluster,
        }

    def forward(
        self,
        channel: Channel,
        msg: Message,
        exchange: str,
        routing_key: str,
        props: BasicProperties,
    ) -> None:
        """Publish ``msg`` here and settle it upstream according to the ack mode."""
        props.user_id = None  # republished as another user: the broker would refuse it (406)
        props.headers = {
            **(props.headers or {}),
            "x-received-from": [*received_from(props), self._entry(msg)],
        }
        mode = self.upstream.ack_mode
        if mode == "on-confirm":
            fut = channel.publish_confirmed(msg.body, exchange, routing_key, props)
            fut.add_done_callback(functools.partial(_settle, msg))
            return
        channel.basic_publish(msg.body, exchange, routing_key, props)
        if mode == "on-publish":
            _ack(msg)

    # -- status -------------------------------------------------------------------------

    def details(self) -> dict[str, Any]:
        """RabbitMQ's /api/federation-links shape (plus LavinMQ's ``resource``)."""
        out: dict[str, Any] = {
            "id": self.id,
            "vhost": self.vhost,
            "type": self.KIND,
            "upstream": self.upstream.name,
            self.KIND: self.resource,
            f"upstream_{self.KIND}": self.upstream_name,
            "resource": self.resource,
            "uri": scrub(self.upstream.uri),
            "status": self.status,
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.timestamp)),
            "consumer-tag": self.upstream.tag,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def _ack(msg: Message) -> None:
    with contextlib.suppress(ClientError, AMQPError):
        msg.ack()  # the channel may be gone: the upstream redelivers the message then


def _settle(msg: Message, fut: asyncio.Future[bool]) -> None:
    if fut.cancelled() or fut.exception() is not None:
        return  # the local connection is gone: the upstream redelivers the message
    if fut.result():
        _ack(msg)
    else:
        with contextlib.suppress(ClientError, AMQPError):
            msg.nack(requeue=True)
