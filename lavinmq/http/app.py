"""``make_app(broker)``: the management API as an aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from lavinmq.broker.broker import Broker
from lavinmq.http import prometheus, ui
from lavinmq.http.context import BROKER, SAMPLER
from lavinmq.http.middlewares import Authenticator, auth_middleware, error_middleware
from lavinmq.http.rates import run_sampler
from lavinmq.http.routes import ALL, websocket
from lavinmq.stats import Sampler

OPENAPI = Path(__file__).with_name("openapi.json")
MAX_BODY = 64 * 1024 * 1024


async def _sampling(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.ensure_future(run_sampler(app[BROKER], app[SAMPLER]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def openapi(request: web.Request) -> web.FileResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/json"})


def make_app(
    broker: Broker,
    *,
    sample: bool = True,
    websocket_factory: websocket.SessionFactory | None = None,
) -> web.Application:
    """The API for ``broker``; ``sample`` starts the periodic rate sampler with the app;
    ``websocket_factory`` serves AMQP over WebSocket (the launcher passes the server's)."""
    app = web.Application(
        middlewares=[error_middleware, auth_middleware(Authenticator())], client_max_size=MAX_BODY
    )
    app[BROKER] = broker
    app[SAMPLER] = Sampler(broker.config.stats_log_size, broker.config.stats_interval)
    for table in ALL:
        app.add_routes(table)
    if websocket_factory is not None:
        websocket.install(app, websocket_factory)
    app.add_routes(prometheus.routes)
    app.router.add_get("/api/openapi.json", openapi)
    ui.setup(app)
    if sample:
        app.cleanup_ctx.append(_sampling)
    return app
