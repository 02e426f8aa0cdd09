"""Building the management API's aiohttp runner on the broker's event loop.

The launcher owns the listening sockets (see ``lavinmq.lazy_http``) and asks for the
runner when the first HTTP connection arrives; ``runner.server`` is the protocol factory
for every connection, HTTP and HTTPS alike.
"""

from __future__ import annotations

from aiohttp import web

from lavinmq.broker.broker import Broker
from lavinmq.http.app import make_app
from lavinmq.http.routes.websocket import SessionFactory


async def make_runner(
    broker: Broker, *, websocket_factory: SessionFactory | None = None
) -> web.AppRunner:
    """Set up the app (its rate sampler starts now); ``runner.cleanup()`` stops it."""
    app = make_app(broker, websocket_factory=websocket_factory)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    return runner
