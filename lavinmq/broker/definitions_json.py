"""Definitions in RabbitMQ's JSON format: export and import, whole broker or one vhost.

The format is what ``rabbitmqctl export_definitions`` and ``GET /api/definitions``
write. Import accepts both RabbitMQ spellings of maps (JSON objects, and the
``[[key, value], ...]`` lists rabbitmqctl writes for proplists), tags as a list or a
comma-separated string, and SHA-256/SHA-512/MD5/bcrypt password hashes. Everything
goes through the same broker methods as AMQP and the API (so durable entities are
written to the definitions log).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lavinmq import __version__
from lavinmq.auth import Permissions
from lavinmq.auth.user_store import parse_tags
from lavinmq.broker.parameters import (
    USER_LIMITS,
    Policy,
    check_parameter,
    pairs_to_dict,
    validate_limits,
)

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.vhost import VHost

log = logging.getLogger(__name__)
RABBIT_VERSION = "3.10.8"
"""The RabbitMQ release whose definitions format we write."""
VHOST_KEYS = ("parameters", "policies", "queues", "exchanges", "bindings")


class DefinitionsError(ValueError):
    """An import that cannot be applied; the message names the offending item."""


def _header() -> dict[str, Any]:
    return {
        "rabbit_version": RABBIT_VERSION,
        "rabbitmq_version": RABBIT_VERSION,
        "product_name": "LavinMQ",
        "product_version": __version__,
    }


def _vhost_parts(vhost: VHost) -> dict[str, list[dict[str, Any]]]:
    return {
        "parameters": _parameters(vhost),
        "policies": [p.to_json() for p in vhost.parameters.policies.values()],
        "queues": [
            {
                "name": q.name,
                "vhost": vhost.name,
                "durable": True,
                "auto_delete": q.auto_delete,
                "arguments": dict(q.arguments),
                "type": q.arguments.get("x-queue-type", "classic"),
            }
            for q in vhost.queues.values()
            if q.durable and not q.exclusive
        ],
        "exchanges": [
            {
                "name": ex.name,
                "vhost": vhost.name,
                "type": ex.TYPE,
                "durable": True,
                "auto_delete": ex.auto_delete,
                "internal": ex.internal,
                "arguments": dict(ex.arguments),
            }
            for ex in vhost.exchanges.values()
            if ex.durable and ex.name and not ex.name.startswith("amq.")
        ],
        "bindings": _bindings(vhost),
    }


def _parameters(vhost: VHost) -> list[dict[str, Any]]:
    """Runtime parameters, with operator policies and the vhost limits among them as
    parameters of their own components."""
    params = vhost.parameters
    parameters = params.parameter_list()
    for p in params.operator_policies.values():
        value = {k: v for k, v in p.to_json().items() if k not in ("vhost", "name")}
        parameters.append(
            {"vhost": vhost.name, "component": "operator_policy", "name": p.name, "value": value}
        )
    if params.limits:
        limits = dict(params.limits)
        parameters.append(
            {"vhost": vhost.name, "component": "vhost-limits", "name": "limits", "value": limits}
        )
    return parameters


def _bindings(vhost: VHost) -> list[dict[str, Any]]:
    return [
        {
            "source": ex.name,
            "vhost": vhost.name,
            "destination": dest.name,
            "destination_type": "queue" if dest.IS_QUEUE else "exchange",
            "routing_key": rk,
            "arguments": dict(args),
        }
        for ex in vhost.exchanges.values()
        if ex.durable and ex.name
        for dest, rk, args in ex.bindings()
        if dest.durable
    ]


def export_broker(broker: Broker) -> dict[str, Any]:
    """Everything: users, vhosts, permissions, parameters, policies, entities."""
    users = list(broker.users)
    out: dict[str, Any] = {
        **_header(),
        "users": [u.to_dict() for u in users],
        "vhosts": [
            {
                "name": v.name,
                "limits": dict(v.parameters.limits),
                "metadata": {
                    "description": v.parameters.metadata.get("description", ""),
                    "tags": v.parameters.metadata.get("tags", []),
                },
            }
            for v in broker.vhosts.values()
        ],
        "permissions": [
            {"user": u.name, "vhost": vh, **p.to_dict()}
            for u in users
            for vh, p in u.permissions.items()
        ],
        "topic_permissions": [
            {"user": u.name, "vhost": vh, "exchange": ex, **perm}
            for u in users
            for vh, by_ex in u.topic_permissions.items()
            for ex, perm in by_ex.items()
        ],
        "global_parameters": broker.global_parameters.as_list(),
    }
    for key in VHOST_KEYS:
        out[key] = []
    for vhost in broker.vhosts.values():
        for key, items in _vhost_parts(vhost).items():
            out[key].extend(items)
    return out


def export_vhost(vhost: VHost) -> dict[str, Any]:
    """One vhost's parameters, policies and entities, without ``vhost`` fields."""
    parts = _vhost_parts(vhost)
    return {
        **_header(),
        **{
            k: [{f: v for f, v in item.items() if f != "vhost"} for item in items]
            for k, items in parts.items()
        },
    }


def _items(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DefinitionsError(f"'{key}' must be a list of objects")
    return items


def _str(item: dict[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise DefinitionsError(f"{what} is missing the string field '{key}': {item}")
    return value


def import_broker(broker: Broker, data: dict[str, Any]) -> None:
    """Apply a whole-broker definitions document.

    Raises:
        DefinitionsError: for a malformed document or an item the broker refuses.
    """
    if not isinstance(data, dict):
        raise DefinitionsError("definitions must be a JSON object")
    _import_users(broker, data)
    for item in _items(data, "vhosts"):
        vhost = broker.add_vhost(_str(item, "name", "vhost"))
        meta = pairs_to_dict(item.get("metadata") or {})
        if isinstance(meta, dict):
            vhost.parameters.metadata.update(
                {
                    k: v
                    for k, v in meta.items()
                    if k in ("description", "tags", "default_queue_type")
                }
            )
        if item.get("limits"):
            vhost.parameters.set_limits(item["limits"], save=False)
        vhost.parameters.save()
    _import_permissions(broker, data)
    for item in _items(data, "global_parameters"):
        broker.global_parameters.set(
            _str(item, "name", "global parameter"), pairs_to_dict(item.get("value"))
        )
    for vhost in broker.vhosts.values():
        import_vhost(vhost, data, only_tagged=True)


def _import_users(broker: Broker, data: dict[str, Any]) -> None:
    for item in _items(data, "users"):
        name = _str(item, "name", "user")
        try:
            user = broker.users.add(
                name,
                tags=parse_tags(item.get("tags")),
                password_hash=item.get("password_hash") or "",
                hashing_algorithm=item.get("hashing_algorithm"),
                save=False,
            )
            user.limits = validate_limits(item.get("limits") or {}, USER_LIMITS)
        except ValueError as exc:
            raise DefinitionsError(f"user '{name}': {exc}") from None
    broker.users.save()


def _import_permissions(broker: Broker, data: dict[str, Any]) -> None:
    for item in _items(data, "permissions"):
        user, vhost = _str(item, "user", "permission"), _str(item, "vhost", "permission")
        if user not in broker.users or vhost not in broker.vhosts:
            raise DefinitionsError(f"permission for unknown user or vhost: {item}")
        perm = Permissions(
            _str(item, "configure", "permission"),
            _str(item, "write", "permission"),
            _str(item, "read", "permission"),
        )
        broker.users.set_permissions(user, vhost, perm, save=False)
    for item in _items(data, "topic_permissions"):
        user_obj = broker.users.get(_str(item, "user", "topic permission"))
        vhost = _str(item, "vhost", "topic permission")
        if user_obj is None or vhost not in broker.vhosts:
            raise DefinitionsError(f"topic permission for unknown user or vhost: {item}")
        user_obj.topic_permissions.setdefault(vhost, {})[
            _str(item, "exchange", "topic permission")
        ] = {"write": item.get("write", ""), "read": item.get("read", "")}
    broker.users.save()


def import_vhost(vhost: VHost, data: dict[str, Any], only_tagged: bool = False) -> None:
    """Apply parameters, policies, exchanges, queues and bindings to ``vhost``.

    With ``only_tagged`` only items whose ``vhost`` field names this vhost are taken (a
    whole-broker document); otherwise every item is (a per-vhost document).

    Raises:
        DefinitionsError: for a malformed item or one the vhost refuses.
    """

    def mine(key: str) -> list[dict[str, Any]]:
        items = _items(data, key)
        return [i for i in items if i.get("vhost") == vhost.name] if only_tagged else items

    try:
        for item in mine("parameters"):
            _import_parameter(vhost, item)
        for item in mine("policies"):
            policy = Policy.from_json(vhost.name, _str(item, "name", "policy"), item)
            vhost.parameters.policies[policy.name] = policy
        vhost.parameters.save()
        vhost.apply_policies()
        _import_entities(vhost, mine)
    except (ValueError, TypeError, KeyError) as exc:
        raise DefinitionsError(f"vhost '{vhost.name}': {exc}") from None


def _import_parameter(vhost: VHost, item: dict[str, Any]) -> None:
    component, name = _str(item, "component", "parameter"), _str(item, "name", "parameter")
    value = pairs_to_dict(item.get("value"))
    if component == "vhost-limits":
        vhost.parameters.set_limits(value, save=False)
    elif component == "operator_policy":
        if not isinstance(value, dict):
            raise DefinitionsError(f"operator policy '{name}' must be an object")
        vhost.parameters.operator_policies[name] = Policy.from_json(vhost.name, name, value)
    else:
        check_parameter(component, name, value)
        vhost.parameters.parameters[(component, name)] = value


def _import_entities(vhost: VHost, mine: Any) -> None:
    from lavinmq.amqp.errors import AMQPError

    try:
        for item in mine("exchanges"):
            vhost.declare_exchange(
                _str(item, "name", "exchange"),
                _str(item, "type", "exchange"),
                bool(item.get("durable", True)),
                bool(item.get("auto_delete", False)),
                bool(item.get("internal", False)),
                pairs_to_dict(item.get("arguments") or {}),
                builtin_ok=True,
            )
        for item in mine("queues"):
            arguments = dict(pairs_to_dict(item.get("arguments") or {}))
            if item.get("type") not in (None, "classic") and "x-queue-type" not in arguments:
                arguments["x-queue-type"] = item["type"]
            vhost.declare_queue(
                _str(item, "name", "queue"),
                durable=bool(item.get("durable", True)),
                auto_delete=bool(item.get("auto_delete", False)),
                arguments=arguments,
            )
        for item in mine("bindings"):
            _import_binding(vhost, item)
    except AMQPError as exc:
        raise DefinitionsError(exc.text) from None


def _import_binding(vhost: VHost, item: dict[str, Any]) -> None:
    source = _str(item, "source", "binding")
    dest = _str(item, "destination", "binding")
    is_exchange = item.get("destination_type") == "exchange"
    if source not in vhost.exchanges or dest not in (
        vhost.exchanges if is_exchange else vhost.queues
    ):
        # rabbitmq-server exports bindings of internal exchanges it leaves out itself
        log.warning(
            "vhost %s: skipping binding %s -> %s: missing exchange or queue",
            vhost.name,
            source,
            dest,
        )
        return
    rk = item.get("routing_key") or ""
    args = pairs_to_dict(item.get("arguments") or {})
    if is_exchange:
        vhost.bind_exchange(dest, source, rk, args)
    else:
        vhost.bind_queue(vhost.get_queue(dest), source, rk, args)
