"""JSON in and out: orjson for responses, strict parsing of request bodies."""

from __future__ import annotations

from typing import Any, TypeVar, cast

import orjson
from aiohttp import web

from lavinmq.http.errors import ApiError, bad_request

T = TypeVar("T")
JSON_TYPES = ("application/json", "")


def dumps(data: Any) -> str:
    """orjson's encoder for ``web.json_response`` (non-str keys allowed)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def created() -> web.Response:
    return web.Response(status=201)


async def read_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``.

    Raises:
        ApiError: 415 for a non-JSON content type, 400 for malformed JSON or a non-object.
    """
    raw = await request.read()
    if not raw.strip():
        return {}
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES and not ctype.endswith("+json"):
        raise ApiError(415, "unsupported_content_type", f"Unsupported content type {ctype}")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("Malformed JSON") from None
    if not isinstance(data, dict):
        raise bad_request("Request body has to be a JSON object")
    return data


def field(body: dict[str, Any], name: str, kind: type[T], default: T) -> T:
    """``body[name]`` checked to be a ``kind`` (bool is not an int here)."""
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise bad_request(f"Field '{name}' must be of type {_TYPE_NAMES.get(kind, kind.__name__)}")
    return value


def required(body: dict[str, Any], name: str, kind: type[T]) -> T:
    if name not in body or body[name] is None:
        raise bad_request(f"Field '{name}' is required")
    value: T = field(body, name, kind, cast(T, body[name]))
    return value


_TYPE_NAMES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    str: "string",
    dict: "object",
    list: "array",
    float: "number",
}


def optional(body: dict[str, Any], name: str, kind: type[T]) -> T | None:
    """``body[name]`` checked to be a ``kind``, or None when absent or null."""
    if body.get(name) is None:
        return None
    value: T = field(body, name, kind, cast(T, body[name]))
    return value
