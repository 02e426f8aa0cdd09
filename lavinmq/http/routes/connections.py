"""/api/connections, /api/channels and /api/consumers.

A ``management`` user sees only its own connections and channels; ``monitoring`` and
``administrator`` users see all of them (RabbitMQ's rule).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lavinmq.amqp.errors import ConnectionForced
from lavinmq.http.context import (
    age_params,
    broker_of,
    is_admin,
    sampler_of,
    sees_all,
    user_of,
    vhost_of,
    visible_vhosts,
)
from lavinmq.http.errors import access_refused, not_found
from lavinmq.http.json import json_response, no_content
from lavinmq.http.pagination import page
from lavinmq.http.rates import channels_of
from lavinmq.http.views import channel_view, connection_view, consumer_view

routes = web.RouteTableDef()


def visible_connections(request: web.Request) -> list[Any]:
    conns = list(broker_of(request).connections.values())
    if sees_all(request):
        return conns
    name = user_of(request).name
    return [c for c in conns if c.user_name == name]


def connection_rows(request: web.Request) -> list[dict[str, Any]]:
    sampler, age = sampler_of(request), age_params(request)
    return [connection_view(c, sampler, age) for c in visible_connections(request)]


def channel_rows(request: web.Request) -> list[dict[str, Any]]:
    sampler, age = sampler_of(request), age_params(request)
    return [
        channel_view(ch, sampler, age)
        for c in visible_connections(request)
        for ch in channels_of(c)
    ]


def _connection(request: web.Request, key: str = "name") -> Any:
    name = request.match_info[key]
    for conn in visible_connections(request):
        if conn.name == name:
            return conn
    raise not_found(f"connection '{name}' not found")


def _refuse_unless_own(request: web.Request, user_name: str, what: str) -> None:
    if user_name != user_of(request).name and not is_admin(request):
        raise access_refused(f"only administrators may {what} other users' connections")


def _force_close(request: web.Request, conn: Any) -> None:
    reason = request.headers.get("X-Reason", "Closed via management plugin")
    conn.close_by_server(ConnectionForced.reply_code, f"CONNECTION_FORCED - {reason}")


@routes.get("/api/connections")
async def list_connections(request: web.Request) -> web.Response:
    return page(request, connection_rows(request))


@routes.get("/api/connections/{name}")
async def get_connection(request: web.Request) -> web.Response:
    conn = _connection(request)
    return json_response(connection_view(conn, sampler_of(request), age_params(request)))


@routes.delete("/api/connections/{name}")
async def close_connection(request: web.Request) -> web.Response:
    conn = _connection(request)
    _refuse_unless_own(request, conn.user_name, "close")
    _force_close(request, conn)
    return no_content()


@routes.get("/api/connections/username/{username}")
async def user_connections(request: web.Request) -> web.Response:
    """The connections of one user (RabbitMQ's ``/api/connections/username/{username}``)."""
    username = request.match_info["username"]
    sampler, age = sampler_of(request), age_params(request)
    conns = [c for c in visible_connections(request) if c.user_name == username]
    return json_response([connection_view(c, sampler, age) for c in conns])


@routes.delete("/api/connections/username/{username}")
async def close_user_connections(request: web.Request) -> web.Response:
    """Close every connection of one user (yourself, or anyone as an administrator)."""
    username = request.match_info["username"]
    _refuse_unless_own(request, username, "close")
    for conn in list(broker_of(request).connections.values()):
        if conn.user_name == username:
            _force_close(request, conn)
    return no_content()


@routes.get("/api/connections/{name}/channels")
async def connection_channels(request: web.Request) -> web.Response:
    conn = _connection(request)
    sampler, age = sampler_of(request), age_params(request)
    return page(request, [channel_view(ch, sampler, age) for ch in channels_of(conn)])


@routes.get("/api/channels")
async def list_channels(request: web.Request) -> web.Response:
    return page(request, channel_rows(request))


@routes.get("/api/channels/{name}")
async def get_channel(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    for row in channel_rows(request):
        if row["name"] == name:
            return json_response(row)
    raise not_found(f"channel '{name}' not found")


def consumer_rows(vhosts: list[Any]) -> list[dict[str, Any]]:
    return [consumer_view(c, q) for v in vhosts for q in v.queues.values() for c in q.consumers]


@routes.get("/api/consumers")
async def list_consumers(request: web.Request) -> web.Response:
    return page(request, consumer_rows(visible_vhosts(request)))


@routes.delete("/api/consumers/{vhost}/{connection}/{channel}/{consumer_tag}")
async def cancel_consumer(request: web.Request) -> web.Response:
    """Cancel one consumer (LavinMQ's API): 204, or 404 when it is not there."""
    vhost = vhost_of(request)
    info = request.match_info
    conn = _connection(request, "connection")
    channel = conn.channels.get(_number(info["channel"])) if conn.vhost_name == vhost.name else None
    consumer = None if channel is None else channel.consumers.get(info["consumer_tag"])
    if consumer is None:
        raise not_found(f"consumer '{info['consumer_tag']}' not found")
    _refuse_unless_own(request, conn.user_name, "cancel consumers on")
    consumer.cancel()
    return no_content()


def _number(text: str) -> int:
    return int(text) if text.isdigit() else -1


@routes.get("/api/consumers/{vhost}")
async def vhost_consumers(request: web.Request) -> web.Response:
    return page(request, consumer_rows([vhost_of(request)]))
