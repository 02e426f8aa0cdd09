"""An async client of the management HTTP API, for the TUI's poller.

The TUI speaks to the broker only over HTTP, with one ``aiohttp.ClientSession`` made on
the first request (inside the app's event loop) and closed when the app unmounts. Every
failure leaves as ``ApiError`` with a one-line message for the status line: the broker is
``Unreachable``, the credentials are wrong (``Unauthorized``), an object is gone
(``NotFound``), or the API refused (any other status). aiohttp is imported on the first
request, not at startup, so ``lavinmq-tui --help`` stays fast.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import orjson

if TYPE_CHECKING:
    import aiohttp

Json = dict[str, Any]
DEFAULT_URI = "http://127.0.0.1:15672"


class ApiError(Exception):
    """A failed request, with a message fit for the status line."""


class Unreachable(ApiError):
    """No HTTP answer at all: refused, reset, DNS failure or timeout."""


class Unauthorized(ApiError):
    """HTTP 401: the user does not exist or the password is wrong."""


class NotFound(ApiError):
    """HTTP 404: the queue or connection is gone."""


def api_path(*segments: str) -> str:
    """``/api/<seg>/<seg>``, each segment percent-encoded (vhost ``/`` as ``%2F``)."""
    return "/api/" + "/".join(quote(s, safe="") for s in segments)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the API is and who we are."""

    uri: str = DEFAULT_URI
    user: str = "guest"
    password: str = "guest"
    timeout: float = 5.0

    @classmethod
    def parse(cls, uri: str, user: str, password: str, timeout: float = 5.0) -> Target:
        """``http://user:pass@host:port`` credentials win over ``user``/``password``."""
        parts = urlsplit(uri if "://" in uri else f"http://{uri}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URI: {uri!r}")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        return cls(
            uri=f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}",
            user=parts.username or user,
            password=parts.password or password,
            timeout=timeout,
        )

    def authorization(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"


def _reason(body: bytes) -> str:
    """The ``reason`` of RabbitMQ's ``{"error", "reason"}`` body, on one line."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    if isinstance(data, dict):
        return " ".join(str(data.get("reason") or data.get("error") or "").split())
    return ""


def _status_error(status: int, body: bytes, target: Target) -> ApiError:
    reason = _reason(body)
    if status == 401:
        return Unauthorized(f"login failed for user '{target.user}' (HTTP 401)")
    if status == 404:
        return NotFound(reason or "not found")
    return ApiError(f"HTTP {status}: {reason}" if reason else f"HTTP {status}")


class ManagementClient:
    """``GET``/``DELETE`` the management API; one keep-alive session for the app's life."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._session: aiohttp.ClientSession | None = None

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=self.target.timeout)
            self._session = aiohttp.ClientSession(
                timeout=timeout,
                headers={"Authorization": self.target.authorization()},
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        """Send one request and return its JSON body (None when empty)."""
        import aiohttp
        import yarl

        url = yarl.URL(self.target.uri + path, encoded=True)
        try:
            async with self._client_session().request(method, url, headers=headers) as resp:
                body = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Unreachable(f"cannot reach {self.target.uri}: {_describe(exc)}") from exc
        if status >= 400:
            raise _status_error(status, body, self.target)
        if not body:
            return None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(f"{self.target.uri}{path} did not answer JSON") from exc

    async def get_object(self, *segments: str) -> Json:
        data = await self.request("GET", api_path(*segments))
        if not isinstance(data, dict):
            raise ApiError(f"{api_path(*segments)}: expected a JSON object")
        return data

    async def get_list(self, *segments: str) -> list[Json]:
        data = await self.request("GET", api_path(*segments))
        if not isinstance(data, list):
            raise ApiError(f"{api_path(*segments)}: expected a JSON array")
        return [item for item in data if isinstance(item, dict)]

    async def overview(self) -> Json:
        return await self.get_object("overview")

    async def queues(self) -> list[Json]:
        return await self.get_list("queues")

    async def queue(self, vhost: str, name: str) -> Json:
        return await self.get_object("queues", vhost, name)

    async def connections(self) -> list[Json]:
        return await self.get_list("connections")

    async def exchanges(self) -> list[Json]:
        return await self.get_list("exchanges")

    async def purge_queue(self, vhost: str, name: str) -> None:
        await self.request("DELETE", api_path("queues", vhost, name, "contents"))

    async def delete_queue(self, vhost: str, name: str) -> None:
        await self.request("DELETE", api_path("queues", vhost, name))

    async def close_connection(self, name: str, reason: str = "Closed via lavinmq-tui") -> None:
        await self.request("DELETE", api_path("connections", name), {"X-Reason": reason})


def _describe(exc: BaseException) -> str:
    """A short cause: ``Connection refused``, ``timed out``..."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    cause = getattr(exc, "os_error", None) or exc
    errno = getattr(cause, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return os.strerror(errno)  # "Connection refused", not "Connect call failed (...)"
    return " ".join((str(cause) or type(exc).__name__).split())
