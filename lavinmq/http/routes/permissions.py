"""/api/permissions and /api/topic-permissions, and their per-user and per-vhost views."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from lavinmq.auth import Permissions, User
from lavinmq.http.context import broker_of, require
from lavinmq.http.errors import bad_request, not_found
from lavinmq.http.json import created, json_response, no_content, read_body, required
from lavinmq.http.pagination import page

routes = web.RouteTableDef()


def permission_rows(users: list[User]) -> list[dict[str, Any]]:
    return [
        {"user": u.name, "vhost": vhost, **perm.to_dict()}
        for u in users
        for vhost, perm in u.permissions.items()
    ]


def topic_rows(users: list[User]) -> list[dict[str, Any]]:
    return [
        {
            "user": u.name,
            "vhost": vhost,
            "exchange": exchange,
            "write": perm.get("write", ""),
            "read": perm.get("read", ""),
        }
        for u in users
        for vhost, by_ex in u.topic_permissions.items()
        for exchange, perm in by_ex.items()
    ]


def _regex(body: dict[str, Any], name: str) -> str:
    value = required(body, name, str)
    try:
        re.compile(value)
    except re.error as exc:
        raise bad_request(f"invalid regex in '{name}': {exc}") from None
    return value


def _target(request: web.Request) -> tuple[User, str]:
    broker = broker_of(request)
    vhost, name = request.match_info["vhost"], request.match_info["user"]
    if vhost not in broker.vhosts:
        raise not_found(f"vhost '{vhost}' not found")
    user = broker.users.get(name)
    if user is None:
        raise not_found(f"user '{name}' not found")
    return user, vhost


def _users(request: web.Request) -> list[User]:
    return list(broker_of(request).users)


@routes.get("/api/permissions")
async def list_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    return page(request, permission_rows(_users(request)))


@routes.get("/api/permissions/{vhost}/{user}")
async def get_permission(request: web.Request) -> web.Response:
    require(request, "administrator")
    user, vhost = _target(request)
    rows = [r for r in permission_rows([user]) if r["vhost"] == vhost]
    if not rows:
        raise not_found("no permissions")
    return json_response(rows[0])


@routes.put("/api/permissions/{vhost}/{user}")
async def put_permission(request: web.Request) -> web.Response:
    require(request, "administrator")
    user, vhost = _target(request)
    body = await read_body(request)
    perm = Permissions(_regex(body, "configure"), _regex(body, "write"), _regex(body, "read"))
    existed = vhost in user.permissions
    broker_of(request).users.set_permissions(user.name, vhost, perm)
    return no_content() if existed else created()


@routes.delete("/api/permissions/{vhost}/{user}")
async def delete_permission(request: web.Request) -> web.Response:
    require(request, "administrator")
    user, vhost = _target(request)
    if not broker_of(request).users.clear_permissions(user.name, vhost):
        raise not_found("no permissions")
    return no_content()


@routes.get("/api/vhosts/{vhost}/permissions")
async def vhost_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    name = request.match_info["vhost"]
    if name not in broker_of(request).vhosts:
        raise not_found(f"vhost '{name}' not found")
    return page(request, [r for r in permission_rows(_users(request)) if r["vhost"] == name])


@routes.get("/api/users/{user}/permissions")
async def user_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    user = broker_of(request).users.get(request.match_info["user"])
    if user is None:
        raise not_found("user not found")
    return page(request, permission_rows([user]))


@routes.get("/api/topic-permissions")
async def list_topic_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    return page(request, topic_rows(_users(request)))


@routes.get("/api/topic-permissions/{vhost}/{user}")
async def get_topic_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    user, vhost = _target(request)
    rows = [r for r in topic_rows([user]) if r["vhost"] == vhost]
    if not rows:
        raise not_found("no topic permissions")
    return json_response(rows)


@routes.put("/api/topic-permissions/{vhost}/{user}")
async def put_topic_permission(request: web.Request) -> web.Response:
    require(request, "administrator")
    user, vhost = _target(request)
    body = await read_body(request)
    exchange = required(body, "exchange", str)
    if exchange not in broker_of(request).vhosts[vhost].exchanges:
        raise bad_request(f"no exchange '{exchange}' in vhost '{vhost}'")
    by_ex = user.topic_permissions.setdefault(vhost, {})
    existed = exchange in by_ex
    by_ex[exchange] = {"write": _regex(body, "write"), "read": _regex(body, "read")}
    broker_of(request).users.save()
    return no_content() if existed else created()


@routes.delete("/api/topic-permissions/{vhost}/{user}")
async def delete_topic_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    user, vhost = _target(request)
    by_ex = user.topic_permissions.get(vhost)
    if not by_ex:
        raise not_found("no topic permissions")
    exchange = request.query.get("exchange")
    if exchange is None:
        del user.topic_permissions[vhost]
    elif by_ex.pop(exchange, None) is None:
        raise not_found("no topic permissions")
    broker_of(request).users.save()
    return no_content()


@routes.get("/api/vhosts/{vhost}/topic-permissions")
async def vhost_topic_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    name = request.match_info["vhost"]
    if name not in broker_of(request).vhosts:
        raise not_found(f"vhost '{name}' not found")
    return page(request, [r for r in topic_rows(_users(request)) if r["vhost"] == name])


@routes.get("/api/users/{user}/topic-permissions")
async def user_topic_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    user = broker_of(request).users.get(request.match_info["user"])
    if user is None:
        raise not_found("user not found")
    return page(request, topic_rows([user]))
