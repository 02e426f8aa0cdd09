"""Serving the management API on the broker's event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import web

from lavinmq.broker.broker import Broker
from lavinmq.config import Config
from lavinmq.http.app import make_app

log = logging.getLogger(__name__)


async def start_http(broker: Broker, config: Config) -> tuple[int, Callable[[], Awaitable[None]]]:
    """Listen on ``config.http_host``:``config.http_port`` (0 picks a free port).

    Returns:
        The bound port and a coroutine function that stops the server.
    """
    runner = web.AppRunner(make_app(broker), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.http_host, config.http_port, reuse_address=True)
    await site.start()
    port = config.http_port
    server = cast(asyncio.Server | None, site._server)  # private in aiohttp; we need the port
    if server is not None and server.sockets:
        port = server.sockets[0].getsockname()[1]
    log.info("management API listening on %s:%d", config.http_host, port)
    return port, runner.cleanup
