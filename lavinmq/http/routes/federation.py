"""/api/federation-links: the status of federation links (RabbitMQ's
federation_management shapes).

Upstreams are ``federation-upstream`` parameters and policies pick what is federated; these
endpoints show the resulting links and restart them. The HTTP layer does not import
``lavinmq.federation``: the launcher registers the store as ``broker.services["federation"]``.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from aiohttp import web

from lavinmq.http.context import broker_of, require, vhost_of, visible_vhosts
from lavinmq.http.errors import not_found
from lavinmq.http.json import no_content
from lavinmq.http.pagination import page

routes = web.RouteTableDef()


class FederationStatus(Protocol):
    """What the API needs of ``lavinmq.federation.FederationStore``."""

    def details(self, vhost: str | None = None) -> list[dict[str, Any]]: ...

    def restart(self, vhost: str, link_id: str) -> bool: ...


def _store(request: web.Request) -> FederationStatus | None:
    return cast(FederationStatus | None, broker_of(request).services.get("federation"))


def _rows(request: web.Request, vhost: str | None) -> list[dict[str, Any]]:
    store = _store(request)
    if store is None:
        return []
    names = {v.name for v in visible_vhosts(request)}
    return [row for row in store.details(vhost) if row["vhost"] in names]


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
