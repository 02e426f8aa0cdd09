"""/api/definitions: export and import in RabbitMQ's format (administrator only)."""

from __future__ import annotations

from aiohttp import web

from lavinmq.broker.definitions_json import (
    DefinitionsError,
    export_broker,
    export_vhost,
    import_broker,
    import_vhost,
)
from lavinmq.http.context import broker_of, require, vhost_of
from lavinmq.http.errors import bad_request
from lavinmq.http.json import json_response, no_content, read_body

routes = web.RouteTableDef()


def _attachment(request: web.Request, response: web.Response, name: str) -> web.Response:
    if request.query.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@routes.get("/api/definitions")
async def export_all(request: web.Request) -> web.Response:
    require(request, "administrator")
    return _attachment(
        request, json_response(export_broker(broker_of(request))), "definitions.json"
    )


@routes.post("/api/definitions")
async def import_all(request: web.Request) -> web.Response:
    require(request, "administrator")
    body = await read_body(request)
    try:
        import_broker(broker_of(request), body)
    except DefinitionsError as exc:
        raise bad_request(str(exc)) from None
    return no_content()


@routes.get("/api/definitions/{vhost}")
async def export_one(request: web.Request) -> web.Response:
    require(request, "administrator")
    vhost = vhost_of(request)
    return _attachment(request, json_response(export_vhost(vhost)), "definitions.json")


@routes.post("/api/definitions/{vhost}")
async def import_one(request: web.Request) -> web.Response:
    require(request, "administrator")
    vhost = vhost_of(request)
    body = await read_body(request)
    try:
        import_vhost(vhost, body)
    except DefinitionsError as exc:
        raise bad_request(str(exc)) from None
    return no_content()
