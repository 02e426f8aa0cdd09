"""A shovel's definition: the ``shovel`` runtime parameter, in RabbitMQ's JSON shape.

``src-uri``/``dest-uri`` (a string or a list; ``amqp://`` without a host is this broker),
``src-queue`` or ``src-exchange`` (+ ``src-exchange-key``), ``src-prefetch-count``,
``src-delete-after`` (``never``, ``queue-length`` or a message count),
``src-consumer-args``, ``dest-exchange`` (+ ``dest-exchange-key``) or ``dest-queue``,
``ack-mode`` (``on-confirm``, ``on-publish``, ``no-ack``), ``reconnect-delay`` (seconds),
``dest-add-forward-headers``, ``dest-add-timestamp-header``, ``dest-publish-properties``.
A ``dest-uri`` of ``http://`` or ``https://`` POSTs each message there (LavinMQ's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lavinmq.broker.parameters import register_parameter_check

ACK_MODES = ("on-confirm", "on-publish", "no-ack")
DEFAULT_PREFETCH = 1000
DEFAULT_RECONNECT_DELAY = 5.0
QUEUE_LENGTH = -1
"""``src_delete_after`` value for ``queue-length``: the queue's length when the shovel starts."""


class ShovelConfigError(ValueError):
    """The parameter value is not a valid shovel definition."""


def _uris(value: Any, key: str, schemes: tuple[str, ...]) -> tuple[str, ...]:
    uris = [value] if isinstance(value, str) else value
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise ShovelConfigError(f"'{key}' must be a URI or a non-empty list of URIs")
    for uri in uris:
        if urlsplit(uri).scheme not in schemes:
            raise ShovelConfigError(f"'{key}': unsupported URI scheme in {scrub(uri)!r}")
    return tuple(uris)


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ShovelConfigError(f"'{key}' must be a string")
    return value


def _number(body: dict[str, Any], key: str, default: float, minimum: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ShovelConfigError(f"'{key}' must be a number >= {minimum}")
    return float(value)


def _delete_after(value: Any) -> int | None:
    if value in (None, "never"):
        return None
    if value in ("queue-length", "queue_length"):
        return QUEUE_LENGTH
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ShovelConfigError("'src-delete-after' must be 'never', 'queue-length' or a count")


def _check_shape(body: Any) -> None:
    if not isinstance(body, dict):
        raise ShovelConfigError("a shovel definition is a JSON object")
    for key in ("src-protocol", "dest-protocol"):
        if body.get(key, "amqp091") != "amqp091":
            raise ShovelConfigError(f"'{key}': only amqp091 is supported")
    if "src-uri" not in body or "dest-uri" not in body:
        raise ShovelConfigError("Fields 'src-uri' and 'dest-uri' are required")


def scrub(uri: str) -> str:
    """The URI without its password (shown in the API and the logs)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = f"{parts.username}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class ShovelConfig:
    """A parsed, validated shovel definition."""

    src_uris: tuple[str, ...]
    dest_uris: tuple[str, ...]
    src_queue: str | None = None
    src_exchange: str | None = None
    src_exchange_key: str = "#"
    src_prefetch: int = DEFAULT_PREFETCH
    src_delete_after: int | None = None
    src_consumer_args: dict[str, Any] = field(default_factory=dict)
    dest_exchange: str | None = None
    dest_exchange_key: str | None = None
    dest_queue: str | None = None
    ack_mode: str = "on-confirm"
    reconnect_delay: float = DEFAULT_RECONNECT_DELAY
    add_forward_headers: bool = False
    add_timestamp_header: bool = False
    publish_properties: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: Any) -> ShovelConfig:
        """Validate a ``shovel`` parameter value.

        Raises:
            ShovelConfigError: with the reason, for a missing or ill-typed field.
        """
        _check_shape(body)
        src_queue, src_exchange = _opt_str(body, "src-queue"), _opt_str(body, "src-exchange")
        if src_queue is None and src_exchange is None:
            raise ShovelConfigError("Shovel source requires a queue or an exchange")
        dest_uris = _uris(body["dest-uri"], "dest-uri", ("amqp", "amqps", "http", "https"))
        dest_exchange, dest_queue = _opt_str(body, "dest-exchange"), _opt_str(body, "dest-queue")
        http = all(urlsplit(u).scheme.startswith("http") for u in dest_uris)
        if dest_exchange is None and dest_queue is None and not http:
            raise ShovelConfigError("Shovel destination requires a queue or an exchange")
        ack_mode = body.get("ack-mode", "on-confirm")
        if ack_mode not in ACK_MODES:
            raise ShovelConfigError(f"'ack-mode' must be one of {', '.join(ACK_MODES)}")
        return cls(
            src_uris=_uris(body["src-uri"], "src-uri", ("amqp", "amqps")),
            dest_uris=dest_uris,
            src_queue=src_queue,
            src_exchange=src_exchange,
            src_exchange_key=_opt_str(body, "src-exchange-key") or "#",
            src_prefetch=int(_number(body, "src-prefetch-count", DEFAULT_PREFETCH, 1)),
            src_delete_after=_delete_after(body.get("src-delete-after")),
            src_consumer_args=dict(body.get("src-consumer-args") or {}),
            dest_exchange=dest_exchange,
            dest_exchange_key=_opt_str(body, "dest-exchange-key"),
            dest_queue=dest_queue,
            ack_mode=ack_mode,
            reconnect_delay=_number(body, "reconnect-delay", DEFAULT_RECONNECT_DELAY, 0),
            add_forward_headers=bool(body.get("dest-add-forward-headers", False)),
            add_timestamp_header=bool(body.get("dest-add-timestamp-header", False)),
            publish_properties=dict(body.get("dest-publish-properties") or {}),
        )


register_parameter_check("shovel", lambda _name, value: ShovelConfig.parse(value))
