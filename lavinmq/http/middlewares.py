"""Middlewares: errors to ``{"error", "reason"}`` JSON (once, here), and HTTP Basic auth."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from lavinmq.amqp.errors import (
    AccessRefused,
    AMQPError,
    NotFound,
    PreconditionFailed,
    ResourceLocked,
    SoftError,
)
from lavinmq.broker.parameters import InvalidParameter
from lavinmq.http.context import API_TAGS, BROKER, USER
from lavinmq.http.errors import ApiError, not_authorized
from lavinmq.http.json import json_response

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = ("/metrics", "/metrics/detailed", "/api/openapi.json", "/")
PUBLIC_PREFIXES = ("/static/",)  # the web UI's assets; its page logs in through the API
REALM = 'Basic realm="LavinMQ Management"'


def _error(status: int, error: str, reason: str) -> web.Response:
    return json_response({"error": error, "reason": reason}, status)


def _from_amqp(exc: AMQPError) -> web.Response:
    """Broker errors carry AMQP reply codes; map them to the HTTP status RabbitMQ uses."""
    if isinstance(exc, NotFound):
        return _error(404, "Object Not Found", exc.text or "Not Found")
    if isinstance(exc, AccessRefused):
        return _error(403, "access_refused", exc.text)
    if isinstance(exc, ResourceLocked):
        return _error(400, "resource_locked", exc.text)
    if isinstance(exc, PreconditionFailed | SoftError):
        return _error(400, "bad_request", exc.text)
    return _error(400, "bad_request", exc.reply_text)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as JSON; unexpected ones are logged and answered with 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        response = _error(exc.status, exc.error, exc.reason)
        # No challenge for the web UI's fetches: it would make the browser open its own login box.
        if exc.status == 401 and "X-Requested-With" not in request.headers:
            response.headers["WWW-Authenticate"] = REALM
        return response
    except AMQPError as exc:
        return _from_amqp(exc)
    except InvalidParameter as exc:
        return _error(400, "bad_request", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = "Object Not Found" if exc.status == 404 else exc.reason
        reason = "Not Found" if exc.status == 404 else (exc.text or exc.reason)
        response = _error(exc.status, error, reason)
        for name in ("Allow",):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return _error(500, "internal_server_error", "Internal Server Error")


class Authenticator:
    """Verifies Basic credentials against the broker's users.

    Hashing every request's password again (bcrypt takes ~100 ms, on the loop) is avoided
    with a cache of verified (user, password digest, stored hash) triples; changing the
    user's password changes the stored hash and so invalidates the entry.
    """

    def __init__(self) -> None:
        self._verified: set[tuple[str, bytes, str]] = set()

    def check(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic" or not token:
            raise not_authorized("Login failed")
        try:
            name, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise not_authorized("Malformed Authorization header") from None
        user = request.app[BROKER].users.get(name)
        if user is None:
            raise not_authorized("Login failed")
        key = (name, hashlib.sha256(password.encode()).digest(), user.password_hash)
        if key not in self._verified:
            if not user.check_password(password):
                raise not_authorized("Login failed")
            if len(self._verified) > 1024:
                self._verified.clear()
            self._verified.add(key)
        if not user.has_tag(*API_TAGS):
            raise not_authorized("Not management user")
        request[USER] = user


def auth_middleware(authenticator: Authenticator) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES):
            authenticator.check(request)
        return await handler(request)

    return middleware
