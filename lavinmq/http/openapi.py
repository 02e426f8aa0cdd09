"""The OpenAPI 3.0 description of the API, built from the route tables.

``python -m lavinmq.http.openapi > lavinmq/http/openapi.json`` regenerates the checked-in
file; a test fails when the routes and the file drift apart.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import orjson

from lavinmq import __version__

_BOOL = {"type": "boolean"}
_STR = {"type": "string"}
_INT = {"type": "integer"}
_OBJ = {"type": "object", "additionalProperties": True}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/api/queues/{vhost}/{name}"): {
        "durable": _BOOL,
        "auto_delete": _BOOL,
        "arguments": _OBJ,
    },
    ("put", "/api/exchanges/{vhost}/{name}"): {
        "type": {"type": "string", "enum": ["direct", "fanout", "topic", "headers"]},
        "durable": _BOOL,
        "auto_delete": _BOOL,
        "internal": _BOOL,
        "arguments": _OBJ,
    },
    ("post", "/api/exchanges/{vhost}/{name}/publish"): {
        "routing_key": _STR,
        "payload": _STR,
        "properties": _OBJ,
        "payload_encoding": {"type": "string", "enum": ["string", "base64"]},
    },
    ("post", "/api/queues/{vhost}/{name}/get"): {
        "count": _INT,
        "encoding": {"type": "string", "enum": ["auto", "base64"]},
        "ackmode": {
            "type": "string",
            "enum": [
                "ack_requeue_true",
                "ack_requeue_false",
                "reject_requeue_true",
                "reject_requeue_false",
            ],
        },
        "truncate": _INT,
    },
    ("put", "/api/users/{name}"): {
        "password": _STR,
        "password_hash": _STR,
        "tags": _STR,
        "hashing_algorithm": _STR,
    },
    ("put", "/api/permissions/{vhost}/{user}"): {"configure": _STR, "write": _STR, "read": _STR},
    ("put", "/api/topic-permissions/{vhost}/{user}"): {
        "exchange": _STR,
        "write": _STR,
        "read": _STR,
    },
    ("put", "/api/policies/{vhost}/{name}"): {
        "pattern": _STR,
        "definition": _OBJ,
        "priority": _INT,
        "apply-to": {"type": "string", "enum": ["all", "queues", "exchanges"]},
    },
    ("put", "/api/vhosts/{vhost}"): {"description": _STR, "tags": _STR},
}
REQUIRED = {
    ("put", "/api/exchanges/{vhost}/{name}"): ["type"],
    ("post", "/api/exchanges/{vhost}/{name}/publish"): ["routing_key", "payload"],
    ("post", "/api/queues/{vhost}/{name}/get"): ["count", "ackmode"],
    ("put", "/api/permissions/{vhost}/{user}"): ["configure", "write", "read"],
    ("put", "/api/policies/{vhost}/{name}"): ["pattern", "definition"],
}
ERROR = {"$ref": "#/components/schemas/Error"}
LISTING_PARAMS = ("page", "page_size", "name", "use_regex", "sort", "sort_reverse", "columns")


def _path_params(path: str) -> list[dict[str, Any]]:
    out = []
    for name, pattern in re.findall(r"{(\w+)(?::([^}]+))?}", path):
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if pattern:
            schema["enum"] = sorted(pattern.split("|")) if "|" in pattern else list(pattern[1:-1])
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def openapi_path(path: str) -> str:
    """aiohttp's ``{name:regex}`` placeholders as OpenAPI's ``{name}``."""
    return re.sub(r"{(\w+):[^}]+}", r"{\1}", path)


def _operation(method: str, path: str, doc: str | None) -> dict[str, Any]:
    clean = openapi_path(path)
    op: dict[str, Any] = {
        "summary": (doc or "").strip().split("\n")[0] or f"{method.upper()} {clean}",
        "operationId": f"{method}_{re.sub(r'[^a-z0-9]+', '_', clean.lower()).strip('_')}",
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "201": {"description": "Created"},
            "204": {"description": "No content"},
            **{
                code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
                for code, text in (
                    ("400", "Bad request"),
                    ("401", "Unauthorized"),
                    ("403", "Forbidden"),
                    ("404", "Not found"),
                    ("405", "Method not allowed"),
                    ("409", "Conflict"),
                    ("415", "Unsupported media type"),
                )
            },
            "503": {"description": "Check failed", "content": {"application/json": {}}},
        },
    }
    params = _path_params(path)
    if method == "get" and not path.startswith("/metrics"):
        params += [
            {"name": p, "in": "query", "required": False, "schema": _STR} for p in LISTING_PARAMS
        ]
    if params:
        op["parameters"] = params
    if method in ("put", "post"):
        props = BODIES.get((method, clean), {})
        schema: dict[str, Any] = {"type": "object", "properties": props}
        required = REQUIRED.get((method, clean))
        if required:
            schema["required"] = required
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": schema}}}
    return op


def build() -> dict[str, Any]:
    """The spec of every route ``make_app`` registers."""
    from lavinmq.http import prometheus
    from lavinmq.http.routes import ALL

    paths: dict[str, dict[str, Any]] = {}
    for table in (*ALL, prometheus.routes):
        for route in table:
            method = route.method.lower()  # type: ignore[attr-defined]
            raw = route.path  # type: ignore[attr-defined]
            handler = route.handler  # type: ignore[attr-defined]
            op = _operation(method, raw, handler.__doc__)
            paths.setdefault(openapi_path(raw), {})[method] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "LavinMQ management HTTP API",
            "version": __version__,
            "description": "RabbitMQ-compatible management API of LavinMQ in Python.",
        },
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}],
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "reason"],
                    "properties": {"error": _STR, "reason": _STR},
                }
            },
        },
        "paths": dict(sorted(paths.items())),
    }


def dumps() -> bytes:
    return orjson.dumps(build(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(dumps())
