"""Serving the management API on the broker's event loop."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import web

from lavinmq.broker.broker import Broker
from lavinmq.config import Config
from lavinmq.http.app import make_app
from lavinmq.http.routes.websocket import SessionFactory

log = logging.getLogger(__name__)


async def start_http(
    broker: Broker,
    config: Config,
    *,
    ssl_context: ssl.SSLContext | None = None,
    websocket_factory: SessionFactory | None = None,
) -> tuple[int, int, Callable[[], Awaitable[None]]]:
    """Listen on ``config.http_host``:``config.http_port`` (0 picks a free port), and with
    ``ssl_context`` also on ``config.https_port`` (HTTPS, same app).

    Returns:
        The bound HTTP and HTTPS ports (0 when not listening) and a coroutine function
        that stops the server.
    """
    app = make_app(broker, websocket_factory=websocket_factory)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    port = tls_port = 0
    if config.http_port >= 0:
        port = await _listen(
            web.TCPSite(runner, config.http_host, config.http_port, reuse_address=True),
            config.http_port,
        )
        log.info("management API listening on %s:%d", config.http_host, port)
    if ssl_context is not None and config.https_port >= 0:
        tls_port = await _listen(
            web.TCPSite(
                runner,
                config.http_host,
                config.https_port,
                ssl_context=ssl_context,
                reuse_address=True,
            ),
            config.https_port,
        )
        log.info("management API listening on %s:%d (HTTPS)", config.http_host, tls_port)
    return port, tls_port, runner.cleanup


async def _listen(site: web.TCPSite, port: int) -> int:
    await site.start()
    server = cast(asyncio.Server | None, site._server)  # private in aiohttp; we need the port
    if server is not None and server.sockets:
        return int(server.sockets[0].getsockname()[1])
    return port
