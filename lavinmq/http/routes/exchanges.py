"""/api/exchanges, including publishing a message through an exchange.

Declares and deletes go through ``VHost`` exactly as Exchange.Declare/Delete do (the
definitions log, equivalence checks, ``amq.*`` protection); publishing goes through the
same routing and storage as Basic.Publish.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from lavinmq.amqp.errors import SyntaxError_
from lavinmq.amqp.properties import FIELDS, BasicProperties
from lavinmq.broker.exchange import Exchange
from lavinmq.broker.message import shortstr
from lavinmq.broker.vhost import VHost
from lavinmq.http.context import (
    age_params,
    check_perm,
    sampler_of,
    user_of,
    vhost_of,
    visible_vhosts,
)
from lavinmq.http.errors import ApiError, bad_request, not_found
from lavinmq.http.json import created, field, json_response, no_content, read_body, required
from lavinmq.http.pagination import page
from lavinmq.http.views import exchange_view

routes = web.RouteTableDef()
DEFAULT_NAMES = ("amq.default", "")


def get_exchange(vhost: VHost, name: str) -> Exchange:
    ex = vhost.exchanges.get("" if name == "amq.default" else name)
    if ex is None:
        raise not_found(f"no exchange '{name}' in vhost '{vhost.name}'")
    return ex


def _view(ex: Exchange, request: web.Request) -> dict[str, Any]:
    return exchange_view(ex, sampler_of(request), age_params(request))


@routes.get("/api/exchanges")
async def list_exchanges(request: web.Request) -> web.Response:
    return page(
        request,
        [_view(ex, request) for v in visible_vhosts(request) for ex in v.exchanges.values()],
    )


@routes.get("/api/exchanges/{vhost}")
async def vhost_exchanges(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    return page(request, [_view(ex, request) for ex in vhost.exchanges.values()])


@routes.get("/api/exchanges/{vhost}/{name}")
async def get_exchange_route(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    return json_response(_view(get_exchange(vhost, request.match_info["name"]), request))


@routes.put("/api/exchanges/{vhost}/{name}")
async def put_exchange(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    name = request.match_info["name"]
    if name in DEFAULT_NAMES:
        raise ApiError(403, "access_refused", "operation not permitted on the default exchange")
    body = await read_body(request)
    check_perm(request, vhost.name, "configure", "exchange", name)
    ex_type = required(body, "type", str)
    arguments = field(body, "arguments", dict, {})
    existed = name in vhost.exchanges
    vhost.declare_exchange(
        name,
        ex_type,
        field(body, "durable", bool, False),
        field(body, "auto_delete", bool, False),
        field(body, "internal", bool, False),
        arguments,
    )
    return no_content() if existed else created()


@routes.delete("/api/exchanges/{vhost}/{name}")
async def delete_exchange(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    ex = get_exchange(vhost, request.match_info["name"])
    check_perm(request, vhost.name, "configure", "exchange", ex.name)
    vhost.delete_exchange(ex.name, request.query.get("if-unused") == "true")
    return no_content()


def build_properties(raw: Any) -> bytes:
    """AMQP content properties from the API's ``properties`` object.

    Raises:
        ApiError: 400 for unknown or ill-typed properties.
    """
    if not isinstance(raw, dict):
        raise bad_request("Field 'properties' must be an object")
    known = {name for name, _, _ in FIELDS}
    kinds = {"headers": dict, "delivery_mode": int, "priority": int, "timestamp": int}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise bad_request(f"unknown property '{key}'")
        if key == "expiration" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        kind = kinds.get(key, str)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad_request(f"property '{key}' has the wrong type")
        values[key] = value
    if "expiration" in values and not values["expiration"].isdigit():
        raise bad_request("expiration must be a non-negative integer (ms) as a string")
    for key in ("delivery_mode", "priority"):
        if key in values and not 0 <= values[key] <= 255:
            raise bad_request(f"property '{key}' out of range")
    try:
        return BasicProperties(**values).encode()
    except (SyntaxError_, ValueError, TypeError, OverflowError) as exc:
        raise bad_request(f"invalid properties: {exc}") from None


def decode_payload(body: dict[str, Any]) -> bytes:
    payload = required(body, "payload", str)
    encoding = field(body, "payload_encoding", str, "string")
    if encoding == "string":
        return payload.encode()
    if encoding == "base64":
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request("payload is not valid base64") from None
    raise bad_request(f"unknown payload_encoding '{encoding}', expected string or base64")


@routes.post("/api/exchanges/{vhost}/{name}/publish")
async def publish(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    ex = get_exchange(vhost, request.match_info["name"])
    check_perm(request, vhost.name, "write", "exchange", ex.name)
    if ex.internal:
        raise bad_request(f"cannot publish to internal exchange '{ex.name}'")
    body = await read_body(request)
    routing_key = required(body, "routing_key", str)
    if len(routing_key.encode()) > 255:
        raise bad_request("routing_key longer than 255 bytes")
    payload = decode_payload(body)
    raw_props = body.get("properties")
    props = build_properties({} if raw_props is None else raw_props)
    user = user_of(request)
    perm_topic = ex.TYPE == "topic" and user.topic_permissions
    if perm_topic and not user.can_topic("write", vhost.name, ex.name, routing_key):
        raise ApiError(403, "access_refused", f"write access to topic '{routing_key}' refused")
    queues = vhost.route(ex, routing_key, BasicProperties.decode(props).headers)
    accepted = (
        vhost.publish_record(queues, shortstr(ex.name) + shortstr(routing_key), props, payload)
        if queues
        else 0
    )
    return json_response({"routed": bool(queues) and accepted == len(queues)})
