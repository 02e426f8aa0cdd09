"""Parse ``amqp://`` and ``amqps://`` URLs (RabbitMQ URI spec, plus its query parameters)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2f"


@dataclass(frozen=True, slots=True)
class ConnectionParameters:
    """Where and how to connect; see :func:`parse_url`.

    ``heartbeat`` is ``None`` to accept the server's suggestion; ``frame_max`` and
    ``channel_max`` are upper bounds (the server's Tune values lower them; 0 means no
    limit). ``connection_timeout`` is in seconds and covers TCP connect plus handshake.
    """

    host: str = "127.0.0.1"
    port: int = 5672
    vhost: str = "/"
    username: str = "guest"
    password: str = "guest"
    tls: bool = False
    heartbeat: int | None = None
    frame_max: int = 131072
    channel_max: int = 2047
    connection_timeout: float = 30.0


def parse_url(url: str) -> ConnectionParameters:
    """Parse an AMQP URL into :class:`ConnectionParameters`.

    ``amqp://user:pass@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=2047``.
    The vhost is percent-decoded (``%2f`` is ``/``); an absent or empty path means
    ``/``. ``connection_timeout`` is given in milliseconds, as in RabbitMQ's URI spec.
    Unknown query parameters are ignored, so URLs written for other clients work.

    Args:
        url: the URL; scheme ``amqp`` (default port 5672) or ``amqps`` (5671, TLS).

    Returns:
        The parsed parameters.

    Raises:
        ValueError: on an unknown scheme or a non-integer numeric parameter.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} (expected amqp or amqps)")
    tls = parts.scheme == "amqps"
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    query = dict(parse_qsl(parts.query))
    heartbeat = query.get("heartbeat")
    timeout_ms = query.get("connection_timeout")
    return ConnectionParameters(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (5671 if tls else 5672),
        vhost=vhost,
        username=unquote(parts.username) if parts.username is not None else "guest",
        password=unquote(parts.password) if parts.password is not None else "guest",
        tls=tls,
        heartbeat=int(heartbeat) if heartbeat is not None else None,
        frame_max=int(query.get("frame_max", 131072)),
        channel_max=int(query.get("channel_max", 2047)),
        connection_timeout=int(timeout_ms) / 1000 if timeout_ms is not None else 30.0,
    )


__all__ = ["DEFAULT_URL", "ConnectionParameters", "parse_url"]


def ssl_context_for(uri: str) -> ssl.SSLContext | None:
    """The TLS context for an ``amqps://`` URI, from RabbitMQ's URI query parameters
    ``cacertfile``, ``certfile``, ``keyfile`` and ``verify`` (``verify_none``)."""
    parts = urlsplit(uri)
    if parts.scheme != "amqps":
        return None
    query = dict(parse_qsl(parts.query))
    ctx = ssl.create_default_context(cafile=query.get("cacertfile"))
    if query.get("certfile"):
        ctx.load_cert_chain(query["certfile"], query.get("keyfile"))
    if query.get("verify") == "verify_none":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
