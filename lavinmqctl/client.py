"""A small synchronous client of the management HTTP API, over TCP (http/https) or a unix socket.

Every failure leaves as ``CtlError`` with a one-line message an operator can act on (the
app prints it and exits 1). ``http.client`` (which pulls in ``ssl`` and ``email``) is
imported on the first request, not at startup: ``lavinmqctl --help`` never pays for it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

if TYPE_CHECKING:
    import http.client

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class CtlError(Exception):
    """A failure to report on stderr as ``Error: <message>`` (exit code 1)."""


class ApiError(CtlError):
    """The API answered with an error status; ``reason`` is its ``{"reason"}`` text."""

    def __init__(self, status: int, phrase: str, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status} {phrase}: {reason}" if reason else f"{status} {phrase}")


def api_path(*segments: str) -> str:
    """``/api/<seg>/<seg>``, each segment percent-encoded (``/`` as ``%2F``)."""
    return "/api/" + "/".join(quote(s, safe="") for s in segments)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the API is and who we are; ``unix_path`` wins over host/port when set."""

    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int = 15672
    user: str = "guest"
    password: str = "guest"
    unix_path: str = ""
    timeout: float = 30.0

    def describe(self) -> str:
        if self.unix_path:
            return f"unix:{self.unix_path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def authorization(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"


def _connection(target: Target) -> http.client.HTTPConnection:
    # deferred (here and below): http.client drags in ssl and email, ~10 ms of startup
    import http.client
    import socket

    if target.unix_path:

        class UnixConnection(http.client.HTTPConnection):
            def connect(self) -> None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(target.unix_path)
                self.sock = sock

        return UnixConnection("localhost", timeout=target.timeout)
    if target.scheme == "https":
        return http.client.HTTPSConnection(target.host, target.port, timeout=target.timeout)
    return http.client.HTTPConnection(target.host, target.port, timeout=target.timeout)


def _error_reason(body: bytes) -> str:
    """The ``reason`` (or ``error``) of RabbitMQ's ``{"error", "reason"}`` body, one line."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        lines = body.decode(errors="replace").strip().splitlines()
        if not lines or lines[0].startswith("<"):  # empty, or an HTML error page
            return ""
        return lines[0]
    if isinstance(data, dict):
        text = str(data.get("reason") or data.get("error") or "")
        return " ".join(text.split())
    return ""


@dataclass(slots=True)
class Response:
    status: int
    body: bytes


class Client:
    """One keep-alive connection to the API for the life of a command."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request; raises ``CtlError`` when unreachable, ``ApiError`` on >= 400."""
        all_headers = {**JSON_HEADERS, "Authorization": self.target.authorization()}
        for name, value in (headers or {}).items():  # HTTP/1.1 header values are latin-1
            all_headers[name] = value.encode("latin-1", "replace").decode("latin-1")
        reused = self._conn is not None
        try:
            response = self._send(method, path, body, all_headers)
        except OSError as exc:
            self.close()
            if not reused or isinstance(exc, TimeoutError):
                raise CtlError(self._unreachable(exc)) from None
            # the server closed our kept-alive connection meanwhile: one fresh attempt
            try:
                response = self._send(method, path, body, all_headers)
            except OSError as exc2:
                self.close()
                raise CtlError(self._unreachable(exc2)) from None
        if response.status >= 400:
            import http.client

            phrase = http.client.responses.get(response.status, "Error")
            raise ApiError(response.status, phrase, _error_reason(response.body))
        return response

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Response:
        import http.client

        if self._conn is None:
            self._conn = _connection(self.target)
        try:
            self._conn.request(method, path, body=body, headers=headers)
            raw = self._conn.getresponse()
            return Response(raw.status, raw.read())
        except http.client.HTTPException as exc:
            raise ConnectionError(str(exc) or type(exc).__name__) from exc

    def _unreachable(self, exc: OSError) -> str:
        if isinstance(exc, TimeoutError):
            return f"timed out after {self.target.timeout:g}s talking to {self.target.describe()}"
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"cannot connect to {self.target.describe()}: {reason}"

    def get(self, path: str) -> Any:
        """GET and decode JSON."""
        response = self.request("GET", path)
        try:
            return orjson.loads(response.body)
        except orjson.JSONDecodeError:
            raise CtlError(f"unexpected (non-JSON) response from {path}") from None

    def get_list(self, path: str) -> list[dict[str, Any]]:
        """GET a listing; follows pages when the server answers with a paged object."""
        data = self.get(path)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            items: list[dict[str, Any]] = list(data["items"])
            page, page_count = int(data.get("page", 1)), int(data.get("page_count", 1))
            while page < page_count:
                page += 1
                size = int(data.get("page_size", 500))
                data = self.get(f"{path}?page={page}&page_size={size}")
                items.extend(data["items"])
            return items
        if not isinstance(data, list):
            raise CtlError(f"unexpected response from {path}: expected a JSON array")
        return data

    def put(self, path: str, body: Any = None) -> Response:
        return self.request("PUT", path, orjson.dumps(body if body is not None else {}))

    def post(self, path: str, body: bytes) -> Response:
        return self.request("POST", path, body)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("DELETE", path, headers=headers)
