"""AMQP over WebSocket on the HTTP port, as LavinMQ's ``WebsocketProxy``.

Any request with ``Upgrade: websocket`` (the path does not matter; clients use ``/ws`` or
``/``) becomes an AMQP connection whose bytes travel as binary messages. The sub-protocol
the client offers that starts with ``amqp`` (case-insensitive) is echoed back. There is no
HTTP authentication: the AMQP handshake inside authenticates, as on the AMQP port, and a
browser can't send Basic credentials with a WebSocket anyway.

The HTTP layer does not import the AMQP server: the launcher hands ``make_app`` a factory
that wraps an accepted WebSocket in a transport (``lavinmq.server.websocket``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)
MAX_MESSAGE = 8 * 1024 * 1024
MQTT_PATHS = ("/mqtt", "/ws/mqtt")


class WebSocketSession(Protocol):
    """The AMQP side of one WebSocket (``lavinmq.server.websocket.WebSocketTransport``)."""

    def feed(self, data: bytes) -> None: ...

    async def readable(self) -> None: ...

    def connection_lost(self, exc: Exception | None = None) -> None: ...

    def abort(self) -> None: ...


SessionFactory = Callable[[web.WebSocketResponse, dict[str, Any]], WebSocketSession]
SESSIONS: web.AppKey[set[WebSocketSession]] = web.AppKey("websocket_sessions")


def _is_upgrade(request: web.Request) -> bool:
    connection = request.headers.get("Connection", "").lower()
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() == "websocket"
        and "upgrade" in connection
        and request.path not in MQTT_PATHS
    )


def _subprotocol(request: web.Request) -> tuple[str, ...]:
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    for token in (t.strip() for t in offered.split(",")):
        if token.lower().startswith("amqp"):
            return (token,)
    return ()


def _extra(request: web.Request) -> dict[str, Any]:
    transport = request.transport
    if transport is None:
        return {}
    return {
        key: transport.get_extra_info(key)
        for key in ("peername", "sockname", "peercert", "sslcontext")
    }


async def serve(request: web.Request, factory: SessionFactory) -> web.WebSocketResponse:
    """Run one AMQP connection over the WebSocket ``request`` asks for."""
    ws = web.WebSocketResponse(
        protocols=_subprotocol(request), max_msg_size=MAX_MESSAGE, autoping=True
    )
    await ws.prepare(request)
    session = factory(ws, _extra(request))
    sessions = request.app[SESSIONS]
    sessions.add(session)
    try:
        while not ws.closed:
            await session.readable()
            msg = await ws.receive()
            if msg.type == WSMsgType.BINARY:
                session.feed(msg.data)
            elif msg.type in (
                WSMsgType.CLOSE,
                WSMsgType.CLOSING,
                WSMsgType.CLOSED,
                WSMsgType.ERROR,
            ):
                break
            # text messages carry no AMQP: ignored, as LavinMQ does
    finally:
        sessions.discard(session)
        session.connection_lost(None)
    return ws


async def _close_all(app: web.Application) -> None:
    """Shutdown: drop every AMQP WebSocket so the server does not wait on them."""
    sessions: set[WebSocketSession] = app[SESSIONS]
    for session in list(sessions):
        session.abort()


def install(app: web.Application, factory: SessionFactory) -> None:
    """Serve AMQP WebSockets on ``app``: outermost middleware, before authentication."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_upgrade(request):
            return await serve(request, factory)
        return await handler(request)

    sessions: set[WebSocketSession] = set()
    app[SESSIONS] = sessions
    app.middlewares.insert(0, middleware)
    app.on_shutdown.append(_close_all)
