"""/api/bindings in all four path forms, and the bindings of one queue or exchange.

A binding is addressed by its ``properties_key`` (the routing key, plus a digest of the
arguments when there are any), as RabbitMQ does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from lavinmq.broker.vhost import VHost
from lavinmq.http.context import check_perm, user_of, vhost_of, visible_vhosts
from lavinmq.http.errors import ApiError, not_found
from lavinmq.http.json import field, json_response, no_content, read_body
from lavinmq.http.pagination import page
from lavinmq.http.routes.exchanges import get_exchange
from lavinmq.http.routes.queues import get_queue
from lavinmq.http.views import binding_view, vhost_bindings

routes = web.RouteTableDef()


@routes.get("/api/bindings")
async def list_bindings(request: web.Request) -> web.Response:
    return page(request, [b for v in visible_vhosts(request) for b in vhost_bindings(v)])


@routes.get("/api/bindings/{vhost}")
async def vhost_binding_list(request: web.Request) -> web.Response:
    return page(request, vhost_bindings(vhost_of(request)))


def _destination(vhost: VHost, kind: str, name: str) -> Any:
    return get_queue(vhost, name) if kind == "q" else get_exchange(vhost, name)


def _between(request: web.Request) -> tuple[VHost, Any, Any, list[dict[str, Any]]]:
    vhost = vhost_of(request)
    info = request.match_info
    source = get_exchange(vhost, info["source"])
    dest = _destination(vhost, info["kind"], info["destination"])
    rows = [
        binding_view(vhost.name, source.name, d, rk, args)
        for d, rk, args in source.bindings()
        if d is dest
    ]
    return vhost, source, dest, rows


@routes.get(r"/api/bindings/{vhost}/e/{source}/{kind:[qe]}/{destination}")
async def list_between(request: web.Request) -> web.Response:
    return page(request, _between(request)[3])


@routes.post(r"/api/bindings/{vhost}/e/{source}/{kind:[qe]}/{destination}")
async def create_binding(request: web.Request) -> web.Response:
    vhost, source, dest, _ = _between(request)
    body = await read_body(request)
    routing_key = field(body, "routing_key", str, "")
    arguments = field(body, "arguments", dict, {})
    what = "queue" if dest.IS_QUEUE else "exchange"
    check_perm(request, vhost.name, "write", what, dest.name)
    check_perm(request, vhost.name, "read", "exchange", source.name)
    user = user_of(request)
    if source.TYPE == "topic" and not user.can_topic("read", vhost.name, source.name, routing_key):
        raise ApiError(403, "access_refused", f"read access to topic '{routing_key}' refused")
    if dest.IS_QUEUE:
        vhost.bind_queue(dest, source.name, routing_key, arguments)
    else:
        vhost.bind_exchange(dest.name, source.name, routing_key, arguments)
    key = binding_view(vhost.name, source.name, dest, routing_key, arguments)["properties_key"]
    response = web.Response(status=201)
    response.headers["Location"] = quote(key, safe="~")
    return response


def _one(request: web.Request) -> tuple[VHost, Any, Any, dict[str, Any]]:
    vhost, source, dest, rows = _between(request)
    props = request.match_info["props"]
    for row in rows:
        if row["properties_key"] == props:
            return vhost, source, dest, row
    raise not_found("binding not found")


@routes.get(r"/api/bindings/{vhost}/e/{source}/{kind:[qe]}/{destination}/{props}")
async def get_binding(request: web.Request) -> web.Response:
    return json_response(_one(request)[3])


@routes.delete(r"/api/bindings/{vhost}/e/{source}/{kind:[qe]}/{destination}/{props}")
async def delete_binding(request: web.Request) -> web.Response:
    vhost, source, dest, row = _one(request)
    what = "queue" if dest.IS_QUEUE else "exchange"
    check_perm(request, vhost.name, "write", what, dest.name)
    check_perm(request, vhost.name, "read", "exchange", source.name)
    arguments = next(
        args
        for d, rk, args in source.bindings()
        if d is dest
        and rk == row["routing_key"]
        and binding_view(vhost.name, source.name, d, rk, args) == row
    )
    if dest.IS_QUEUE:
        vhost.unbind_queue(dest, source.name, row["routing_key"], arguments)
    else:
        vhost.unbind_exchange(dest.name, source.name, row["routing_key"], arguments)
    return no_content()


@routes.get("/api/queues/{vhost}/{name}/bindings")
async def queue_bindings(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    q = get_queue(vhost, request.match_info["name"])
    rows = [
        b
        for b in vhost_bindings(vhost)
        if b["destination_type"] == "queue" and b["destination"] == q.name
    ]
    return page(request, rows)


@routes.get("/api/exchanges/{vhost}/{name}/bindings/{direction:source|destination}")
async def exchange_bindings(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    ex = get_exchange(vhost, request.match_info["name"])
    if request.match_info["direction"] == "source":
        rows = [binding_view(vhost.name, ex.name, d, rk, args) for d, rk, args in ex.bindings()]
    else:
        rows = [
            b
            for b in vhost_bindings(vhost)
            if b["destination_type"] == "exchange" and b["destination"] == ex.name
        ]
    return page(request, rows)
