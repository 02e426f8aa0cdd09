"""Opening connections: :func:`connect` and the client properties it announces."""

from __future__ import annotations

import asyncio
import ssl
import sys
from ssl import SSLContext

from lavinmq.amqp.types import FieldTable
from lavinmq.client.connection import Connection
from lavinmq.client.errors import ConnectError
from lavinmq.client.opening import Opening
from lavinmq.client.url import DEFAULT_URL, ConnectionParameters, parse_url

CAPABILITIES: FieldTable = {
    "publisher_confirms": True,
    "consumer_cancel_notify": True,
    "exchange_exchange_bindings": True,
    "basic.nack": True,
    "connection.blocked": True,
    "authentication_failure_close": True,
    "per_consumer_qos": True,
}


def client_properties(name: str | None, extra: FieldTable | None = None) -> FieldTable:
    """The Connection.StartOk client properties, capabilities included."""
    props: FieldTable = {
        "product": "LavinMQ Python client",
        "version": "0.1.0",
        "platform": f"Python {sys.version.split()[0]}",
        "capabilities": dict(CAPABILITIES),
    }
    if name:
        props["connection_name"] = name
    if extra:
        props.update(extra)
    return props


def connect(
    url: str = DEFAULT_URL,
    *,
    name: str | None = None,
    ssl: SSLContext | None = None,
    timeout: float | None = None,
    properties: FieldTable | None = None,
    connection_class: type[Connection] = Connection,
) -> Opening[Connection]:
    """Connect to a broker: ``conn = await connect(url)`` or ``async with connect(url) as conn``.

    Args:
        url: ``amqp://user:pass@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=2047``
            or ``amqps://...`` (see :func:`~lavinmq.client.url.parse_url`).
        name: shown by the broker as the connection name (``connection_name`` property).
        ssl: the TLS context for ``amqps://`` (default: ``ssl.create_default_context()``);
            passing one with an ``amqp://`` URL turns TLS on as well.
        timeout: seconds allowed for TCP connect plus handshake (default: the URL's
            ``connection_timeout``, else 30).
        properties: extra client properties merged into the defaults.
        connection_class: the protocol class to instantiate: a :class:`Connection`
            subclass, e.g. one that handles received bytes itself (lavinmqperf).

    Returns:
        An awaitable that is also an async context manager closing the connection.

    Raises:
        ConnectError: the TCP/TLS connection failed (refused, unreachable, DNS).
        ConnectionClosed: the broker refused the handshake: 403 ACCESS_REFUSED for bad
            credentials, 530 NOT_ALLOWED for a missing vhost, reply code 0 when it
            dropped the socket.
        TimeoutError: ``timeout`` elapsed.
    """
    params = parse_url(url)
    props = client_properties(name, properties)
    return Opening(_connect(params, props, ssl, timeout, connection_class), Connection.close)


async def _connect(
    params: ConnectionParameters,
    props: FieldTable,
    ssl_context: SSLContext | None,
    time_limit: float | None,
    connection_class: type[Connection] = Connection,
) -> Connection:
    loop = asyncio.get_running_loop()
    if ssl_context is None and params.tls:
        ssl_context = ssl.create_default_context()
    async with asyncio.timeout(time_limit if time_limit is not None else params.connection_timeout):
        try:
            transport, conn = await loop.create_connection(
                lambda: connection_class(params, loop, props),
                params.host,
                params.port,
                ssl=ssl_context,
            )
        except OSError as exc:
            where = f"{params.host}:{params.port}"
            raise ConnectError(
                exc.errno, f"cannot connect to {where}: {exc.strerror or exc}"
            ) from exc
        try:
            await conn._opened
        except BaseException:
            transport.abort()
            raise
    return conn


__all__ = ["CAPABILITIES", "client_properties", "connect"]
