"""Listening sockets: AMQP over TCP, TLS and UNIX sockets."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING

from lavinmq.server.protocol import AMQPProtocol

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker

log = logging.getLogger(__name__)


def bind_hosts(host: str) -> str | list[str]:
    """``::`` means every address, IPv4 included (uvloop sets IPV6_V6ONLY on IPv6 sockets)."""
    return ["::", "0.0.0.0"] if host == "::" else host


async def listen_tcp(
    broker: Broker, host: str, port: int, ssl_context: ssl.SSLContext | None = None
) -> asyncio.Server:
    """Serve AMQP (or AMQPS when ``ssl_context`` is given) on host:port (0: any port)."""
    tls = ssl_context is not None
    server = await broker.loop.create_server(
        lambda: AMQPProtocol(broker, tls=tls),
        bind_hosts(host),
        port,
        ssl=ssl_context,
        reuse_address=True,
        backlog=1024,
    )
    for sock in server.sockets:
        log.info("listening for %s on %s", "AMQPS" if tls else "AMQP", sock.getsockname())
    return server


async def listen_unix(broker: Broker, path: str) -> asyncio.Server:
    server = await broker.loop.create_unix_server(lambda: AMQPProtocol(broker), path)
    log.info("listening for AMQP on unix:%s", path)
    return server
