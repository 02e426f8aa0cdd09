"""Per-invocation state: where the API is, how to print, and the (lazily opened) client.

The root callback builds a ``Session`` from the global options and stores it on the
Typer context; every command gets it back with ``session(ctx)``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import typer

from lavinmqctl import output
from lavinmqctl.client import Client, CtlError, Target

DEFAULT_URI = "http://127.0.0.1:15672"
DEFAULT_PORTS = {"http": 15672, "https": 443}


class OutputFormat(enum.StrEnum):
    """``table`` (``text`` is LavinMQ's name for it) or ``json``."""

    table = "table"
    text = "text"
    json = "json"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The connection options as given (None: not given)."""

    uri: str = DEFAULT_URI
    host: str | None = None
    hostname: str | None = None
    port: int | None = None
    scheme: str | None = None
    unix_path: str | None = None
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0


@dataclass(slots=True)
class Session:
    """Resolves the endpoint only when a command first talks to the API, so a bad --uri
    or LAVINMQCTL_URI does not get in the way of ``--help`` or ``hash_password``."""

    endpoint: Endpoint
    fmt: OutputFormat = OutputFormat.table
    quiet: bool = False
    silent: bool = False
    vhost: str | None = None  # the global -p, None when not given
    _client: Client | None = field(default=None, init=False)

    @property
    def json(self) -> bool:
        return self.fmt is OutputFormat.json

    @property
    def api(self) -> Client:
        if self._client is None:
            self._client = Client(resolve_target(self.endpoint))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def vhost_for(self, vhost: str | None) -> str:
        """A command's own ``-p`` wins over the global one; the default is ``/``."""
        if vhost is not None:
            return vhost
        return "/" if self.vhost is None else self.vhost

    def info(self, message: str) -> None:
        """An informational line ("Listing queues ..."), silenced by -q/-s and JSON."""
        if not (self.quiet or self.silent or self.json):
            typer.echo(message)

    def rows(self, items: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
        picked = output.pick(items, columns)
        if self.json:
            typer.echo(output.to_json(picked))
        elif picked or not self.silent:
            text = output.table(picked, columns, header=not self.silent)
            if text:
                typer.echo(text)

    def record(self, record: Mapping[str, Any]) -> None:
        typer.echo(output.to_json(record) if self.json else output.key_values(record))

    def value(self, value: Any) -> None:
        typer.echo(output.to_json(value) if self.json else output.cell(value))


def session(ctx: typer.Context) -> Session:
    obj = ctx.find_root().obj
    if not isinstance(obj, Session):  # only when a command is run without the root callback
        raise CtlError("internal error: no session")
    return obj


def resolve_target(ep: Endpoint) -> Target:
    """Apply LavinMQ's precedence: --host (a URI or host[:port]) over --uri, then
    --hostname/--port/--scheme override parts; user info in the URI is the fallback for
    --user/--password (default guest/guest)."""
    uri = ep.host if ep.host and "://" in ep.host else ep.uri
    if ep.host and "://" not in ep.host:
        uri = f"{urlsplit(ep.uri).scheme or 'http'}://{ep.host}"
    try:
        parts = urlsplit(uri)
        parsed_port = parts.port
    except ValueError as exc:
        raise CtlError(f"invalid URI {uri!r}: {exc}") from None
    scheme = (ep.scheme or parts.scheme or "http").lower()
    if scheme not in DEFAULT_PORTS:
        raise CtlError(f"invalid URI {uri!r}: scheme must be http or https")
    if not parts.hostname and not ep.hostname and not ep.unix_path:
        raise CtlError(f"invalid URI {uri!r}: no host")
    return Target(
        scheme=scheme,
        host=ep.hostname or parts.hostname or "127.0.0.1",
        port=ep.port or parsed_port or DEFAULT_PORTS[scheme],
        user=ep.user if ep.user is not None else unquote(parts.username or "guest"),
        password=ep.password if ep.password is not None else unquote(parts.password or "guest"),
        unix_path=ep.unix_path or "",
        timeout=ep.timeout,
    )
