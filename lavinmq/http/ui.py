"""The management web UI: one HTML page at ``/`` and its assets under ``/static/``.

Everything is rendered in the browser by ES modules that call the API with fetch and
HTTP Basic credentials, so nothing here needs authentication or templates.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).with_name("static")
INDEX = STATIC / "index.html"
PREFIX = "/static/"
# The UI loads nothing from elsewhere; scripts and styles only come from files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(INDEX, headers={"Content-Security-Policy": CSP})


async def _revalidate(request: web.Request, response: web.StreamResponse) -> None:
    # Assets keep their names across upgrades: browsers must ask again (ETag makes it cheap).
    if request.path == "/" or request.path.startswith(PREFIX):
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"


def setup(app: web.Application) -> None:
    """Serve the UI from ``app``: the page at ``/``, its files under ``/static/``."""
    app.router.add_get("/", index)
    app.router.add_static(PREFIX, STATIC)
    app.on_response_prepare.append(_revalidate)
