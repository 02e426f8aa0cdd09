"""Upstreams and upstream sets: the ``federation-upstream`` and ``federation-upstream-set``
runtime parameters, in RabbitMQ's JSON shape.

An upstream: ``uri`` (a string or a list; ``amqp://`` without a host is this broker),
``prefetch-count``, ``reconnect-delay`` (seconds), ``ack-mode`` (``on-confirm``,
``on-publish``, ``no-ack``), ``max-hops``, ``expires`` and ``message-ttl`` (ms, for the
upstream queue of exchange federation), ``exchange`` and ``queue`` (names on the upstream,
default: the federated one's), ``consumer-tag``. A set is a list of
``{"upstream": name, ...overrides}``; the set ``all`` is every upstream of the vhost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from lavinmq.broker.parameters import register_parameter_check

ACK_MODES = ("on-confirm", "on-publish", "no-ack")
UPSTREAM = "federation-upstream"
UPSTREAM_SET = "federation-upstream-set"
FIELDS = {
    "uri": "uri",
    "prefetch-count": "prefetch",
    "reconnect-delay": "reconnect_delay",
    "ack-mode": "ack_mode",
    "max-hops": "max_hops",
    "expires": "expires",
    "message-ttl": "message_ttl",
    "exchange": "exchange",
    "queue": "queue",
    "consumer-tag": "consumer_tag",
}


class UpstreamError(ValueError):
    """An invalid upstream or upstream set definition."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """One upstream's settings (after a set's overrides)."""

    name: str
    uri: str
    prefetch: int = 1000
    reconnect_delay: float = 1.0
    ack_mode: str = "on-confirm"
    max_hops: int = 1
    expires: int | None = None
    message_ttl: int | None = None
    exchange: str | None = None
    queue: str | None = None
    consumer_tag: str | None = None

    @property
    def tag(self) -> str:
        return self.consumer_tag or f"federation-link-{self.name}"


def _check(upstream: Upstream) -> Upstream:
    if urlsplit(upstream.uri).scheme not in ("amqp", "amqps"):
        raise UpstreamError(f"upstream '{upstream.name}': 'uri' must be an amqp(s) URI")
    if upstream.ack_mode not in ACK_MODES:
        raise UpstreamError(
            f"upstream '{upstream.name}': 'ack-mode' must be one of {', '.join(ACK_MODES)}"
        )
    for key in ("prefetch", "max_hops", "reconnect_delay"):
        value = getattr(upstream, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise UpstreamError(f"upstream '{upstream.name}': '{key}' must be a number >= 0")
    return upstream


def _settings(value: dict[str, Any]) -> dict[str, Any]:
    out = {attr: value[key] for key, attr in FIELDS.items() if key in value}
    uri = out.get("uri")
    if isinstance(uri, list):  # several URIs: RabbitMQ picks one at random; we take the first
        out["uri"] = uri[0] if uri else ""
    return out


def parse_upstream(name: str, value: Any) -> Upstream:
    """Validate a ``federation-upstream`` parameter value.

    Raises:
        UpstreamError: for a missing or ill-typed field.
    """
    if not isinstance(value, dict) or not isinstance(value.get("uri"), str | list):
        raise UpstreamError(f"upstream '{name}' needs a 'uri'")
    try:
        return _check(Upstream(name, **_settings(value)))
    except TypeError as exc:
        raise UpstreamError(f"upstream '{name}': {exc}") from None


def upstreams_for(
    definition: dict[str, Any], upstreams: dict[str, Any], sets: dict[str, Any]
) -> list[Upstream]:
    """The upstreams a policy ``definition`` federates from (none when it has no
    ``federation-upstream``/``federation-upstream-set`` key); invalid entries are skipped."""
    if UPSTREAM in definition:
        names: list[tuple[str, dict[str, Any]]] = [(str(definition[UPSTREAM]), {})]
    elif UPSTREAM_SET in definition:
        set_name = definition[UPSTREAM_SET]
        entries = (
            [{"upstream": n} for n in upstreams] if set_name == "all" else sets.get(set_name) or []
        )
        names = [(str(e.get("upstream")), e) for e in entries if isinstance(e, dict)]
    else:
        return []
    out = []
    for name, overrides in names:
        if name not in upstreams:
            continue
        try:
            upstream = parse_upstream(name, upstreams[name])
            extra = _settings({k: v for k, v in overrides.items() if k != "upstream"})
            out.append(_check(replace(upstream, **extra)) if extra else upstream)
        except (UpstreamError, TypeError):
            continue
    return out


def scrub(uri: str) -> str:
    """The URI without user info (shown in the API and the ``x-received-from`` header)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def local_vhost(uri: str) -> str | None:
    """For ``amqp://`` without a host (this broker): the vhost it names; else None."""
    parts = urlsplit(uri)
    if parts.hostname:
        return None
    return unquote(parts.path[1:]) or "/"


def check_upstream_set(name: str, value: Any) -> None:
    """Validate a ``federation-upstream-set`` value: a list of ``{"upstream": name, ...}``.

    Raises:
        UpstreamError: naming the bad entry.
    """
    if not isinstance(value, list):
        raise UpstreamError(f"upstream set '{name}' must be a list")
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("upstream"), str):
            raise UpstreamError(f"upstream set '{name}': each entry needs an 'upstream' name")
        overrides = {k: v for k, v in entry.items() if k != "upstream"}
        if overrides:
            parse_upstream(entry["upstream"], {"uri": "amqp://", **overrides})


register_parameter_check(UPSTREAM, parse_upstream)
register_parameter_check(UPSTREAM_SET, check_upstream_set)
