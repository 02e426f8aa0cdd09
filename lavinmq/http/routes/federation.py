"""/api/federation-links: the status of federation links (RabbitMQ's
federation_management shapes).

Upstreams are ``federation-upstream`` parameters and policies pick what is federated; these
endpoints show the resulting links and restart them. The HTTP layer does not import
``lavinmq.federation``: the launcher registers the store as ``broker.services["federation"]``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lavinmq.http.context import require, vhost_of
from lavinmq.http.errors import not_found
from lavinmq.http.json import no_content
from lavinmq.http.pagination import page
from lavinmq.http.routes.services import ServiceStatus, service, service_rows

routes = web.RouteTableDef()


def _store(request: web.Request) -> ServiceStatus | None:
    return service(request, "federation")


def _rows(request: web.Request, vhost: str | None) -> list[dict[str, Any]]:
    return service_rows(request, "federation", vhost)


@routes.get("/api/federation-links")
async def list_links(request: web.Request) -> web.Response:
    require(request, "policymaker", "monitoring")
    return page(request, _rows(request, None))


@routes.get("/api/federation-links/{vhost}")
async def vhost_links(request: web.Request) -> web.Response:
    require(request, "policymaker", "monitoring")
    return page(request, _rows(request, vhost_of(request).name))


@routes.delete("/api/federation-links/vhost/{vhost}/{id}/{node}/restart")
@routes.delete("/api/federation-links/vhost/{vhost}/{id}/restart")
async def restart_link(request: web.Request) -> web.Response:
    require(request, "policymaker")
    vhost = vhost_of(request)
    store = _store(request)
    if store is None or not store.restart(vhost.name, request.match_info["id"]):
        raise not_found(f"federation link '{request.match_info['id']}' not found")
    return no_content()
