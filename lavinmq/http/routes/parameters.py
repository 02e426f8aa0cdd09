"""/api/parameters (policymaker) and /api/global-parameters (administrator)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lavinmq.broker.parameters import InvalidParameter, check_parameter
from lavinmq.http.context import broker_of, require, vhost_of, visible_vhosts
from lavinmq.http.errors import bad_request, not_found
from lavinmq.http.json import created, json_response, no_content, read_body
from lavinmq.http.pagination import page

routes = web.RouteTableDef()
# Components whose data has a home of its own (policies, vhost limits).
RESERVED = ("policy", "operator_policy", "vhost-limits")


def _rows(request: web.Request, component: str | None) -> list[dict[str, Any]]:
    return [row for v in visible_vhosts(request) for row in v.parameters.parameter_list(component)]


def _value(body: dict[str, Any]) -> Any:
    if "value" not in body:
        raise bad_request("Field 'value' is required")
    return body["value"]


@routes.get("/api/parameters")
async def list_parameters(request: web.Request) -> web.Response:
    require(request, "policymaker")
    return page(request, _rows(request, None))


@routes.get("/api/parameters/{component}")
async def component_parameters(request: web.Request) -> web.Response:
    require(request, "policymaker")
    return page(request, _rows(request, request.match_info["component"]))


@routes.get("/api/parameters/{component}/{vhost}")
async def vhost_parameters(request: web.Request) -> web.Response:
    require(request, "policymaker")
    vhost = vhost_of(request)
    return page(request, vhost.parameters.parameter_list(request.match_info["component"]))


def _key(request: web.Request) -> tuple[str, str]:
    return request.match_info["component"], request.match_info["name"]


@routes.get("/api/parameters/{component}/{vhost}/{name}")
async def get_parameter(request: web.Request) -> web.Response:
    require(request, "policymaker")
    vhost = vhost_of(request)
    key = _key(request)
    if key not in vhost.parameters.parameters:
        raise not_found("parameter not found")
    return json_response(
        {
            "vhost": vhost.name,
            "component": key[0],
            "name": key[1],
            "value": vhost.parameters.parameters[key],
        }
    )


@routes.put("/api/parameters/{component}/{vhost}/{name}")
async def put_parameter(request: web.Request) -> web.Response:
    require(request, "policymaker")
    vhost = vhost_of(request)
    key = _key(request)
    if key[0] in RESERVED:
        raise bad_request(f"component '{key[0]}' is managed through its own endpoint")
    value = _value(await read_body(request))
    try:
        check_parameter(key[0], key[1], value)
    except InvalidParameter as exc:
        raise bad_request(str(exc)) from None
    existed = key in vhost.parameters.parameters
    vhost.parameters.parameters[key] = value
    vhost.parameters.save()
    return no_content() if existed else created()


@routes.delete("/api/parameters/{component}/{vhost}/{name}")
async def delete_parameter(request: web.Request) -> web.Response:
    require(request, "policymaker")
    vhost = vhost_of(request)
    if vhost.parameters.parameters.pop(_key(request), None) is None:
        raise not_found("parameter not found")
    vhost.parameters.save()
    return no_content()


@routes.get("/api/global-parameters")
async def list_global(request: web.Request) -> web.Response:
    require(request, "administrator")
    return page(request, broker_of(request).global_parameters.as_list())


@routes.get("/api/global-parameters/{name}")
async def get_global(request: web.Request) -> web.Response:
    require(request, "administrator")
    name = request.match_info["name"]
    values = broker_of(request).global_parameters.values
    if name not in values:
        raise not_found("parameter not found")
    return json_response({"name": name, "value": values[name]})


@routes.put("/api/global-parameters/{name}")
async def put_global(request: web.Request) -> web.Response:
    require(request, "administrator")
    store = broker_of(request).global_parameters
    name = request.match_info["name"]
    existed = name in store.values
    store.set(name, _value(await read_body(request)))
    return no_content() if existed else created()


@routes.delete("/api/global-parameters/{name}")
async def delete_global(request: web.Request) -> web.Response:
    require(request, "administrator")
    if not broker_of(request).global_parameters.delete(request.match_info["name"]):
        raise not_found("parameter not found")
    return no_content()
