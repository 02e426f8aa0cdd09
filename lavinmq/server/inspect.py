"""What the one-by-one publish path must know about a message's properties.

Only messages whose properties carry headers, expiration, user_id, delivery_mode or
reply_to get here with work to do; ``EMPTY`` properties cost one comparison. Handles:

- ``user_id`` must equal the login (406 otherwise, as RabbitMQ);
- ``expiration`` must be a non-negative integer string (406 otherwise); the queues it
  reaches start checking message TTLs;
- ``CC``/``BCC`` headers add routing keys; ``BCC`` is removed before the message is stored;
- ``reply_to = amq.rabbitmq.reply-to`` is rewritten to this channel's direct reply-to
  address (406 when the channel has no reply consumer);
- with ``set_timestamp`` on, a message without a ``timestamp`` gets the time it arrived
  (``stamped``), as LavinMQ does.
"""

from __future__ import annotations

from dataclasses import dataclass

from lavinmq.amqp.errors import PreconditionFailed
from lavinmq.amqp.properties import (
    EMPTY,
    FLAG_DELIVERY_MODE,
    FLAG_EXPIRATION,
    FLAG_HEADERS,
    BasicProperties,
    peek_delivery_mode,
    peek_expiration,
    peek_headers,
)
from lavinmq.amqp.types import FieldTable

FLAG_REPLY_TO = 0x0200
FLAG_TIMESTAMP = 0x0040
FLAG_USER_ID = 0x0010
DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"


@dataclass(slots=True)
class Inspected:
    """The facts routing and storing need, and the properties to store."""

    properties: bytes
    headers: FieldTable | None = None
    persistent: bool = False
    expiring: bool = False
    extra_keys: tuple[str, ...] = ()


def inspect(properties: bytes, user: str, reply_token: str | None) -> Inspected:
    """Validate and, where needed, rewrite a publish's raw properties.

    Raises:
        PreconditionFailed: bad user_id or expiration, or direct reply-to without a
            reply consumer on the channel.
    """
    out = Inspected(properties)
    if properties == EMPTY:
        return out
    flags = (properties[0] << 8) | properties[1]
    if flags & FLAG_DELIVERY_MODE:
        out.persistent = peek_delivery_mode(properties) == 2
    if flags & FLAG_EXPIRATION:
        _check_expiration(peek_expiration(properties))
        out.expiring = True
    if flags & FLAG_HEADERS:
        out.headers = peek_headers(properties)
    if flags & (FLAG_USER_ID | FLAG_REPLY_TO) or (out.headers and _has_cc(out.headers)):
        _rewrite(out, user, reply_token)
    return out


def stamped(properties: bytes, now: int) -> bytes:
    """``properties`` with ``timestamp`` set to ``now`` (seconds) unless it has one."""
    if (properties[0] << 8 | properties[1]) & FLAG_TIMESTAMP:
        return properties
    props = BasicProperties.decode(properties)
    props.timestamp = now
    return props.encode()


def _has_cc(headers: FieldTable) -> bool:
    return "CC" in headers or "BCC" in headers


def _check_expiration(value: str | None) -> None:
    if value is None or not value.isdigit():
        raise PreconditionFailed(f"invalid expiration '{value}': no_integer", 60, 40)


def _keys(value: object) -> list[str]:
    if isinstance(value, list):
        return [
            v.decode() if isinstance(v, bytes) else v for v in value if isinstance(v, str | bytes)
        ]
    return []


def _rewrite(out: Inspected, user: str, reply_token: str | None) -> None:
    props = BasicProperties.decode(out.properties)
    if props.user_id is not None and props.user_id != user:
        raise PreconditionFailed(
            f"user_id property set to '{props.user_id}' but authenticated user was '{user}'",
            60,
            40,
        )
    changed = False
    if props.reply_to == DIRECT_REPLY_TO:
        if reply_token is None:
            raise PreconditionFailed("fast reply consumer does not exist", 60, 40)
        props.reply_to = f"{DIRECT_REPLY_TO}.{reply_token}"
        changed = True
    headers = props.headers
    if headers and _has_cc(headers):
        out.extra_keys = tuple(_keys(headers.get("CC")) + _keys(headers.get("BCC")))
        if "BCC" in headers:
            headers = {k: v for k, v in headers.items() if k != "BCC"}
            props.headers = headers
            changed = True
        out.headers = headers
    if changed:
        out.properties = props.encode()
