"""/api/shovels: the status of dynamic shovels (RabbitMQ's shovel_management shapes).

Shovels are defined as ``shovel`` parameters (``/api/parameters/shovel/{vhost}/{name}``);
these endpoints show how they are doing and restart them. The HTTP layer does not import
``lavinmq.shovel``: the launcher registers the store as ``broker.services["shovels"]``.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from aiohttp import web

from lavinmq.http.context import require, vhost_of
from lavinmq.http.errors import ApiError, not_found
from lavinmq.http.json import json_response, no_content
from lavinmq.http.pagination import page
from lavinmq.http.routes.services import ServiceStatus, service, service_rows

routes = web.RouteTableDef()


def _store(request: web.Request) -> ServiceStatus | None:
    return service(request, "shovels")


def _rows(request: web.Request, vhost: str | None) -> list[dict[str, Any]]:
    return service_rows(request, "shovels", vhost)


@routes.get("/api/shovels")
async def list_shovels(request: web.Request) -> web.Response:
    require(request, "policymaker", "monitoring")
    return page(request, _rows(request, None))


@routes.get("/api/shovels/{vhost}")
async def vhost_shovels(request: web.Request) -> web.Response:
    require(request, "policymaker", "monitoring")
    return page(request, _rows(request, vhost_of(request).name))


@routes.get("/api/shovels/vhost/{vhost}/{name}")
@routes.get("/api/shovels/{vhost}/{name}")
async def get_shovel(request: web.Request) -> web.Response:
    require(request, "policymaker", "monitoring")
    name = request.match_info["name"]
    for row in _rows(request, vhost_of(request).name):
        if row["name"] == name:
            return json_response(row)
    raise not_found(f"shovel '{name}' not found")


@routes.delete("/api/shovels/vhost/{vhost}/{name}")
async def delete_shovel(request: web.Request) -> web.Response:
    """Delete a shovel (its ``shovel`` parameter), as RabbitMQ."""
    require(request, "policymaker")
    vhost = vhost_of(request)
    if vhost.parameters.parameters.pop(("shovel", request.match_info["name"]), None) is None:
        raise not_found(f"shovel '{request.match_info['name']}' not found")
    vhost.parameters.save()
    return no_content()


class Pausable(Protocol):
    """What pausing needs of the ``ShovelStore``."""

    def pause(self, vhost: str, name: str) -> bool | None: ...

    def resume(self, vhost: str, name: str) -> bool | None: ...


@routes.put("/api/shovels/{vhost}/{name}/pause")
@routes.put("/api/shovels/{vhost}/{name}/resume")
async def pause_or_resume_shovel(request: web.Request) -> web.Response:
    """LavinMQ's shovel pause and resume: 204, 404 for no such shovel, 422 when it is
    paused already (pause) or not paused (resume)."""
    require(request, "policymaker")
    vhost = vhost_of(request)
    name = request.match_info["name"]
    store = cast(Pausable | None, _store(request))
    pausing = request.path.endswith("/pause")
    done = None if store is None else (store.pause if pausing else store.resume)(vhost.name, name)
    if done is None:
        raise not_found(f"shovel '{name}' not found")
    if not done:
        state = "paused already" if pausing else "not paused"
        raise ApiError(422, "unprocessable_entity", f"shovel '{name}' is {state}")
    return no_content()


@routes.delete("/api/shovels/vhost/{vhost}/{name}/restart")
async def restart_shovel(request: web.Request) -> web.Response:
    require(request, "policymaker")
    vhost = vhost_of(request)
    store = _store(request)
    if store is None or not store.restart(vhost.name, request.match_info["name"]):
        raise not_found(f"shovel '{request.match_info['name']}' not found")
    return no_content()
