"""Where a shovel publishes: an AMQP exchange or queue, or an HTTP(S) endpoint (LavinMQ's).

``push`` returns how the message is settled: ``True`` (done: ack the source now),
``False`` (refused for good: reject it without requeue) or a future that resolves when
the destination confirms it (``on-confirm``): True acks the source, False (a nack)
requeues it there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from lavinmq.amqp.errors import AMQPError
from lavinmq.amqp.properties import BasicProperties, peek_user_id
from lavinmq.client import Channel, ClientError, Connection, ConnectionClosed, Message
from lavinmq.shovel.config import ShovelConfig, scrub
from lavinmq.shovel.source import declare_passive_or_durable, open_connection

if TYPE_CHECKING:
    import aiohttp

Settlement = bool | asyncio.Future[bool]
DRAIN_EVERY = 256
HTTP_TIMEOUT = 30.0


class DestinationError(Exception):
    """The destination failed in a way worth a reconnect (the message is requeued)."""


class Destination(Protocol):
    async def start(self) -> None: ...

    async def push(self, msg: Message) -> Settlement: ...

    async def settle(self, within: float) -> None: ...

    async def wait_closed(self) -> object: ...

    async def close(self) -> None: ...


class AMQPDestination:
    """Publishes to ``dest-exchange`` (key: ``dest-exchange-key`` or the message's) or, with
    ``dest-queue``, through the default exchange."""

    def __init__(self, name: str, vhost: str, uri: str, cfg: ShovelConfig) -> None:
        self.name = name
        self.vhost = vhost
        self.uri = uri
        self.cfg = cfg
        self.conn: Connection | None = None
        self.channel: Channel | None = None
        self._published = 0
        self._login = unquote(urlsplit(uri).username or "guest")

    async def start(self) -> None:
        self.conn = conn = await open_connection(self.uri, f"Shovel {self.name} sink")
        channel = await conn.channel()
        if self.cfg.dest_queue:
            channel, _ = await declare_passive_or_durable(conn, channel, self.cfg.dest_queue)
        if self.cfg.ack_mode == "on-confirm":
            await channel.confirm_select()
        self.channel = channel

    def _target(self, msg: Message) -> tuple[str, str]:
        cfg = self.cfg
        if cfg.dest_queue is not None:  # wins over dest-exchange, as in LavinMQ
            return "", cfg.dest_queue
        if cfg.dest_exchange is not None:
            return cfg.dest_exchange, cfg.dest_exchange_key or msg.routing_key
        return msg.exchange, msg.routing_key

    def _properties(self, msg: Message) -> bytes | BasicProperties:
        cfg = self.cfg
        user_id = peek_user_id(msg.raw_properties)
        foreign_user = user_id is not None and user_id != self._login
        if not (
            cfg.add_forward_headers
            or cfg.add_timestamp_header
            or cfg.publish_properties
            or foreign_user
        ):
            return msg.raw_properties  # forwarded byte for byte
        props = BasicProperties.decode(msg.raw_properties)
        if foreign_user:  # the destination would refuse it (406) and the shovel would loop
            props.user_id = None
        for key, value in cfg.publish_properties.items():
            if key in BasicProperties.__slots__:
                setattr(props, key, value)
        headers = dict(props.headers or {})
        if cfg.add_forward_headers:
            headers["x-shovelled"] = [self._forward_header()]
        if cfg.add_timestamp_header:
            headers["x-shovelled-timestamp"] = int(time.time())
        props.headers = headers
        return props

    def _forward_header(self) -> dict[str, Any]:
        cfg = self.cfg
        header: dict[str, Any] = {
            "shovel-type": "dynamic",
            "shovel-name": self.name,
            "shovel-vhost": self.vhost,
            "src-uri": scrub(cfg.src_uris[0]),
            "dest-uri": scrub(self.uri),
        }
        for key, value in (
            ("src-queue", cfg.src_queue),
            ("src-exchange", cfg.src_exchange),
            ("dest-queue", cfg.dest_queue),
            ("dest-exchange", cfg.dest_exchange),
        ):
            if value is not None:
                header[key] = value
        return header

    async def push(self, msg: Message) -> Settlement:
        channel = self.channel
        assert channel is not None and self.conn is not None
        exchange, routing_key = self._target(msg)
        props = self._properties(msg)
        if self.cfg.ack_mode == "on-confirm":
            return channel.publish_confirmed(msg.body, exchange, routing_key, props)
        channel.basic_publish(msg.body, exchange, routing_key, props)
        self._published += 1
        if self._published % DRAIN_EVERY == 0:
            await self.conn.drain()  # nothing else bounds what is in flight in these modes
        return True

    async def settle(self, within: float) -> None:
        """Wait (up to ``within`` seconds) for the confirms of what was published."""
        channel = self.channel
        if channel is None or not channel.is_open or self.cfg.ack_mode != "on-confirm":
            return
        with contextlib.suppress(TimeoutError, ClientError, AMQPError):
            await asyncio.wait_for(channel.wait_for_confirms(), within)

    async def wait_closed(self) -> ConnectionClosed:
        assert self.conn is not None
        return await self.conn.wait_closed()

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(ClientError, AMQPError, OSError):
                await self.conn.close()


class HTTPDestination:
    """POSTs each message body to ``dest-uri`` (its path, else the ``uri_path`` header, else
    ``/``), with the properties as headers, as LavinMQ. 2xx acks the message, 4xx rejects it
    (dead-lettering it if the queue says so), 5xx and network errors reconnect."""

    def __init__(self, name: str, uri: str) -> None:
        self.name = name
        self.uri = uri
        self._session: aiohttp.ClientSession | None = None
        self._closed: asyncio.Event = asyncio.Event()

    async def start(self) -> None:
        import aiohttp  # only shovels with HTTP destinations need it

        parts = urlsplit(self.uri)
        headers = (
            {
                "Authorization": aiohttp.encode_basic_auth(
                    unquote(parts.username), unquote(parts.password or "")
                )
            }
            if parts.username
            else None
        )
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT, connect=10)
        )

    def _request(self, msg: Message) -> tuple[str, dict[str, str]]:
        props = msg.properties
        headers = {"User-Agent": "LavinMQ", "X-Shovel": self.name}
        if props.content_type:
            headers["Content-Type"] = props.content_type
        if props.message_id:
            headers["X-Message-Id"] = props.message_id
        for key, value in (props.headers or {}).items():
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            if text.isprintable():
                headers[f"X-{key}"] = text
        parts = urlsplit(self.uri)
        path = parts.path or str((props.headers or {}).get("uri_path") or "/")
        netloc = parts.hostname or ""
        netloc = f"[{netloc}]" if ":" in netloc else netloc
        netloc += f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, netloc, path, parts.query, "")), headers

    async def push(self, msg: Message) -> Settlement:
        import aiohttp

        assert self._session is not None
        url, headers = self._request(msg)
        try:
            async with self._session.post(url, data=msg.body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DestinationError(f"POST {scrub(self.uri)} failed: {exc}") from exc
        if status >= 500:
            raise DestinationError(f"POST {scrub(self.uri)} answered {status}")
        return 200 <= status < 300

    async def settle(self, within: float) -> None:
        """Pushes are synchronous: nothing is in flight."""

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()
        if self._session is not None:
            await self._session.close()


def make_destination(name: str, vhost: str, uri: str, cfg: ShovelConfig) -> Destination:
    if urlsplit(uri).scheme in ("http", "https"):
        return HTTPDestination(name, uri)
    return AMQPDestination(name, vhost, uri, cfg)
