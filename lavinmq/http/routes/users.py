"""/api/users and /api/user-limits (administrator only)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lavinmq.amqp.errors import ConnectionForced
from lavinmq.auth import InvalidPasswordHash, User
from lavinmq.auth.user_store import parse_tags
from lavinmq.broker.parameters import USER_LIMITS, validate_limits
from lavinmq.http.context import broker_of, require
from lavinmq.http.errors import bad_request, not_found
from lavinmq.http.json import created, field, json_response, no_content, optional, read_body
from lavinmq.http.pagination import page

routes = web.RouteTableDef()


def user_view(user: User) -> dict[str, Any]:
    return user.to_dict()


def _user(request: web.Request, key: str = "name") -> User:
    user = broker_of(request).users.get(request.match_info[key])
    if user is None:
        raise not_found(f"user '{request.match_info[key]}' not found")
    return user


def tags_field(body: dict[str, Any]) -> list[str] | None:
    raw = body.get("tags")
    if raw is None:
        return None
    if isinstance(raw, list) and all(isinstance(t, str) for t in raw):
        return parse_tags(raw)
    if isinstance(raw, str):
        return parse_tags(raw)
    raise bad_request("Field 'tags' must be a string or a list of strings")


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    require(request, "administrator")
    return page(request, [user_view(u) for u in broker_of(request).users])


@routes.get("/api/users/without-permissions")
async def users_without_permissions(request: web.Request) -> web.Response:
    require(request, "administrator")
    return json_response([user_view(u) for u in broker_of(request).users if not u.permissions])


@routes.post("/api/users/bulk-delete")
async def bulk_delete(request: web.Request) -> web.Response:
    require(request, "administrator")
    body = await read_body(request)
    names = field(body, "users", list, [])
    for name in names:
        if isinstance(name, str):
            _delete_user(request, name)
    return no_content()


@routes.get("/api/users/{name}")
async def get_user(request: web.Request) -> web.Response:
    require(request, "administrator")
    return json_response(user_view(_user(request)))


@routes.put("/api/users/{name}")
async def put_user(request: web.Request) -> web.Response:
    require(request, "administrator")
    body = await read_body(request)
    name = request.match_info["name"]
    if not name:
        raise bad_request("user name must not be empty")
    users = broker_of(request).users
    exists = name in users
    password = optional(body, "password", str)
    password_hash = optional(body, "password_hash", str)
    algorithm = optional(body, "hashing_algorithm", str)
    tags = tags_field(body)
    if not exists and password is None and password_hash is None:
        password_hash = ""
    try:
        users.add(
            name, password, tags if tags is not None or exists else [], password_hash, algorithm
        )
    except InvalidPasswordHash as exc:
        raise bad_request(str(exc)) from None
    return no_content() if exists else created()


def _delete_user(request: web.Request, name: str) -> bool:
    broker = broker_of(request)
    if broker.users.delete(name) is None:
        return False
    for conn in list(broker.connections.values()):
        if conn.user_name == name:
            conn.close_by_server(ConnectionForced.reply_code, "CONNECTION_FORCED - user deleted")
    return True


@routes.delete("/api/users/{name}")
async def delete_user(request: web.Request) -> web.Response:
    require(request, "administrator")
    if not _delete_user(request, request.match_info["name"]):
        raise not_found(f"user '{request.match_info['name']}' not found")
    return no_content()


def _limits_view(user: User) -> dict[str, Any]:
    return {"user": user.name, "value": dict(user.limits)}


@routes.get("/api/user-limits")
async def list_user_limits(request: web.Request) -> web.Response:
    require(request, "administrator")
    return json_response([_limits_view(u) for u in broker_of(request).users if u.limits])


@routes.get("/api/user-limits/{user}")
async def get_user_limits(request: web.Request) -> web.Response:
    require(request, "administrator")
    user = _user(request, "user")
    return json_response([_limits_view(user)] if user.limits else [])


@routes.put("/api/user-limits/{user}/{name}")
async def put_user_limit(request: web.Request) -> web.Response:
    require(request, "administrator")
    user = _user(request, "user")
    body = await read_body(request)
    if "value" not in body:
        raise bad_request("Field 'value' is required")
    limit = validate_limits({request.match_info["name"]: body["value"]}, USER_LIMITS)
    user.limits.update(limit)
    broker_of(request).users.save()
    return no_content()


@routes.delete("/api/user-limits/{user}/{name}")
async def delete_user_limit(request: web.Request) -> web.Response:
    require(request, "administrator")
    user = _user(request, "user")
    if user.limits.pop(request.match_info["name"], None) is None:
        raise not_found("limit not set")
    broker_of(request).users.save()
    return no_content()
