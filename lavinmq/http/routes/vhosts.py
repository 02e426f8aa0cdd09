"""/api/vhosts and /api/vhost-limits."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lavinmq.broker.equivalence import valid_name
from lavinmq.http.context import (
    age_params,
    broker_of,
    require,
    sampler_of,
    vhost_of,
    visible_vhosts,
)
from lavinmq.http.errors import bad_request, not_found
from lavinmq.http.json import created, json_response, no_content, optional, read_body
from lavinmq.http.pagination import page
from lavinmq.http.routes.connections import channel_rows, connection_rows
from lavinmq.http.routes.users import tags_field
from lavinmq.http.views import vhost_view

routes = web.RouteTableDef()


@routes.get("/api/vhosts")
async def list_vhosts(request: web.Request) -> web.Response:
    sampler, age = sampler_of(request), age_params(request)
    return page(request, [vhost_view(v, sampler, age) for v in visible_vhosts(request)])


@routes.get("/api/vhosts/{vhost}")
async def get_vhost(request: web.Request) -> web.Response:
    return json_response(vhost_view(vhost_of(request), sampler_of(request), age_params(request)))


def apply_metadata(metadata: dict[str, Any], body: dict[str, Any]) -> None:
    description = optional(body, "description", str)
    if description is not None:
        metadata["description"] = description
    tags = tags_field(body)
    if tags is not None:
        metadata["tags"] = tags
    queue_type = optional(body, "default_queue_type", str)
    if queue_type is not None:
        if queue_type not in ("classic", "quorum", "stream"):
            raise bad_request(f"invalid default_queue_type '{queue_type}'")
        metadata["default_queue_type"] = queue_type


@routes.put("/api/vhosts/{vhost}")
async def put_vhost(request: web.Request) -> web.Response:
    user = require(request, "administrator")
    body = await read_body(request)
    name = request.match_info["vhost"]
    if not name or not valid_name(name):
        raise bad_request(f"invalid vhost name '{name}'")
    broker = broker_of(request)
    exists = name in broker.vhosts
    nested = body.get("metadata")
    metadata_body = {**body, **(nested if isinstance(nested, dict) else {})}
    metadata: dict[str, Any] = {}
    apply_metadata(metadata, metadata_body)
    vhost = broker.add_vhost(name, grant_to=None if exists else user.name)
    vhost.parameters.metadata.update(metadata)
    vhost.parameters.save()
    return no_content() if exists else created()


@routes.delete("/api/vhosts/{vhost}")
async def delete_vhost(request: web.Request) -> web.Response:
    require(request, "administrator")
    name = request.match_info["vhost"]
    if not broker_of(request).delete_vhost(name):
        raise not_found(f"vhost '{name}' not found")
    return no_content()


@routes.get("/api/vhosts/{vhost}/connections")
async def vhost_connections(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    return page(request, [c for c in connection_rows(request) if c["vhost"] == vhost.name])


@routes.get("/api/vhosts/{vhost}/channels")
async def vhost_channels(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    return page(request, [c for c in channel_rows(request) if c["vhost"] == vhost.name])


def _limits_row(vhost: Any) -> dict[str, Any]:
    return {"vhost": vhost.name, "value": dict(vhost.parameters.limits)}


@routes.get("/api/vhost-limits")
async def list_vhost_limits(request: web.Request) -> web.Response:
    return json_response([_limits_row(v) for v in visible_vhosts(request) if v.parameters.limits])


@routes.get("/api/vhost-limits/{vhost}")
async def get_vhost_limits(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    return json_response([_limits_row(vhost)] if vhost.parameters.limits else [])


@routes.put("/api/vhost-limits/{vhost}/{name}")
async def put_vhost_limit(request: web.Request) -> web.Response:
    require(request, "administrator")
    vhost = vhost_of(request)
    body = await read_body(request)
    if "value" not in body:
        raise bad_request("Field 'value' is required")
    vhost.parameters.set_limits(
        {**vhost.parameters.limits, request.match_info["name"]: body["value"]}
    )
    return no_content()


@routes.delete("/api/vhost-limits/{vhost}/{name}")
async def delete_vhost_limit(request: web.Request) -> web.Response:
    require(request, "administrator")
    vhost = vhost_of(request)
    limits = dict(vhost.parameters.limits)
    if limits.pop(request.match_info["name"], None) is None:
        raise not_found("limit not set")
    vhost.parameters.set_limits(limits)
    return no_content()
