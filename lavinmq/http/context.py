"""Per-app and per-request state, and RabbitMQ's authorisation rules for the API.

Tags, as RabbitMQ's management plugin: ``management`` may use the API for the vhosts it
has permissions on and sees its own connections; ``policymaker`` adds policies and
parameters there; ``monitoring`` sees every vhost, connection and node; ``administrator``
may do everything. A user without any of these tags can't log in to the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from lavinmq.http.errors import access_refused, not_found

if TYPE_CHECKING:
    from lavinmq.auth import User
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.vhost import VHost
    from lavinmq.stats import Sampler

BROKER: web.AppKey[Broker] = web.AppKey("broker")
SAMPLER: web.AppKey[Sampler] = web.AppKey("sampler")
USER: web.RequestKey[User] = web.RequestKey("user")
API_TAGS = ("administrator", "monitoring", "policymaker", "management")


def broker_of(request: web.Request) -> Broker:
    return request.app[BROKER]


def sampler_of(request: web.Request) -> Sampler:
    return request.app[SAMPLER]


def user_of(request: web.Request) -> User:
    return request[USER]


def require(request: web.Request, *tags: str) -> User:
    """The user, who must have one of ``tags`` (administrator always passes)."""
    user = user_of(request)
    if not user.has_tag("administrator", *tags):
        raise access_refused(f"Access refused: requires one of the tags {', '.join(tags)}")
    return user


def is_admin(request: web.Request) -> bool:
    return user_of(request).has_tag("administrator")


def sees_all(request: web.Request) -> bool:
    """Monitoring and administrator users see every vhost and connection."""
    return user_of(request).has_tag("administrator", "monitoring")


def can_access_vhost(user: User, vhost: str) -> bool:
    return user.has_tag("administrator") or vhost in user.permissions


def visible_vhosts(request: web.Request) -> list[VHost]:
    """The vhosts whose objects the user may list."""
    user = user_of(request)
    vhosts = broker_of(request).vhosts.values()
    if sees_all(request):
        return list(vhosts)
    return [v for v in vhosts if v.name in user.permissions]


def vhost_of(request: web.Request, key: str = "vhost") -> VHost:
    """The vhost named in the path; 404 when unknown, 403 without access."""
    name = request.match_info[key]
    vhost = broker_of(request).vhosts.get(name)
    if vhost is None:
        raise not_found(f"vhost '{name}' not found")
    user = user_of(request)
    if not (can_access_vhost(user, name) or (sees_all(request) and request.method == "GET")):
        raise access_refused(f"Access refused for user '{user.name}' to vhost '{name}'")
    return vhost


def check_perm(request: web.Request, vhost: str, kind: str, what: str, name: str) -> None:
    """AMQP permission check (configure/write/read) as the broker does it on a channel."""
    user = user_of(request)
    perm = user.permissions.get(vhost)
    allowed = perm is not None and {
        "configure": perm.can_configure,
        "write": perm.can_write,
        "read": perm.can_read,
    }[kind](name)
    if not allowed:
        shown = name or "amq.default"
        raise access_refused(
            f"{kind} access to {what} '{shown}' in vhost '{vhost}' refused for user '{user.name}'"
        )


def node_name(request: web.Request) -> str:
    return "lavinmq@localhost"


def age_params(request: web.Request) -> tuple[int | None, int | None]:
    """``msg_rates_age``/``msg_rates_incr`` (seconds) in ms; ``lengths_age`` as a fallback."""
    query = request.query
    raw_age = query.get("msg_rates_age") or query.get("lengths_age")
    raw_incr = query.get("msg_rates_incr") or query.get("lengths_incr")
    try:
        age = int(raw_age) * 1000 if raw_age else None
        incr = int(raw_incr) * 1000 if raw_incr else None
    except ValueError:
        from lavinmq.http.errors import bad_request

        raise bad_request("msg_rates_age and msg_rates_incr must be integers") from None
    return age, incr


def any_json(value: Any) -> Any:
    """Arguments/headers may hold bytes (AMQP byte arrays): make them JSON-safe."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode(errors="replace")
    if isinstance(value, dict):
        return {str(k): any_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [any_json(v) for v in value]
    return value
