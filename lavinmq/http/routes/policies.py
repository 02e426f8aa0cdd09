"""/api/policies (policymaker) and /api/operator-policies (administrator)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lavinmq.broker.parameters import InvalidParameter, Policy
from lavinmq.broker.vhost import VHost
from lavinmq.http.context import require, vhost_of, visible_vhosts
from lavinmq.http.errors import bad_request, not_found
from lavinmq.http.json import created, json_response, no_content, read_body
from lavinmq.http.pagination import page

routes = web.RouteTableDef()

_NON_NEG_INT = (
    "message-ttl",
    "max-length",
    "max-length-bytes",
    "delivery-limit",
    "max-age-seconds",
    "consumer-timeout",
    "queue-version",
    "ha-sync-batch-size",
    "stream-max-segment-size-bytes",
    "federation-upstream-expires",
)
_STR = (
    "dead-letter-exchange",
    "dead-letter-routing-key",
    "alternate-exchange",
    "federation-upstream",
    "federation-upstream-set",
    "ha-mode",
    "ha-sync-mode",
    "ha-promote-on-shutdown",
    "ha-promote-on-failure",
    "queue-master-locator",
    "queue-leader-locator",
    "max-age",
    "dead-letter-strategy",
)
_CHOICES = {
    "overflow": ("drop-head", "reject-publish", "reject-publish-dlx"),
    "queue-mode": ("default", "lazy"),
}
_POSITIVE_INT = ("expires",)
_ANY = ("ha-params",)


def validate_definition(definition: dict[str, Any]) -> None:
    """RabbitMQ rejects unknown policy keys and ill-typed values.

    Raises:
        InvalidParameter: naming the offending key.
    """
    for key, value in definition.items():
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if key in _NON_NEG_INT and not (is_int and value >= 0):
            raise InvalidParameter(f"{key} must be a non-negative integer")
        elif key in _POSITIVE_INT and not (is_int and value > 0):
            raise InvalidParameter(f"{key} must be a positive integer")
        elif key in _STR and not isinstance(value, str):
            raise InvalidParameter(f"{key} must be a string")
        elif key in _CHOICES and value not in _CHOICES[key]:
            raise InvalidParameter(f"{key} must be one of {', '.join(_CHOICES[key])}")
        elif key not in (*_NON_NEG_INT, *_STR, *_CHOICES, *_POSITIVE_INT, *_ANY):
            raise InvalidParameter(f"'{key}' is not a recognised policy setting")


def parse_policy(vhost: str, name: str, body: dict[str, Any]) -> Policy:
    policy = Policy.from_json(vhost, name, body)
    validate_definition(policy.definition)
    return policy


def _store(vhost: VHost, operator: bool) -> dict[str, Policy]:
    return vhost.operator_policies if operator else vhost.policies


def _list(request: web.Request, operator: bool, vhosts: list[VHost]) -> web.Response:
    require(request, "administrator" if operator else "management")
    return page(request, [p.to_json() for v in vhosts for p in _store(v, operator).values()])


def _get(request: web.Request, operator: bool) -> web.Response:
    require(request, "administrator" if operator else "management")
    policy = _store(vhost_of(request), operator).get(request.match_info["name"])
    if policy is None:
        raise not_found("policy not found")
    return json_response(policy.to_json())


async def _put(request: web.Request, operator: bool) -> web.Response:
    require(request, "administrator" if operator else "policymaker")
    vhost = vhost_of(request)
    name = request.match_info["name"]
    body = await read_body(request)
    try:
        policy = parse_policy(vhost.name, name, body)
    except InvalidParameter as exc:
        raise bad_request(f"Validation failed: {exc}") from None
    store = _store(vhost, operator)
    existed = name in store
    store[name] = policy
    vhost.parameters.save()
    vhost.apply_policies()
    return no_content() if existed else created()


def _delete(request: web.Request, operator: bool) -> web.Response:
    require(request, "administrator" if operator else "policymaker")
    vhost = vhost_of(request)
    if _store(vhost, operator).pop(request.match_info["name"], None) is None:
        raise not_found("policy not found")
    vhost.parameters.save()
    vhost.apply_policies()
    return no_content()


@routes.get("/api/policies")
async def list_policies(request: web.Request) -> web.Response:
    return _list(request, False, visible_vhosts(request))


@routes.get("/api/policies/{vhost}")
async def vhost_policies(request: web.Request) -> web.Response:
    return _list(request, False, [vhost_of(request)])


@routes.get("/api/policies/{vhost}/{name}")
async def get_policy(request: web.Request) -> web.Response:
    return _get(request, False)


@routes.put("/api/policies/{vhost}/{name}")
async def put_policy(request: web.Request) -> web.Response:
    return await _put(request, False)


@routes.delete("/api/policies/{vhost}/{name}")
async def delete_policy(request: web.Request) -> web.Response:
    return _delete(request, False)


@routes.get("/api/operator-policies")
async def list_operator_policies(request: web.Request) -> web.Response:
    return _list(request, True, visible_vhosts(request))


@routes.get("/api/operator-policies/{vhost}")
async def vhost_operator_policies(request: web.Request) -> web.Response:
    return _list(request, True, [vhost_of(request)])


@routes.get("/api/operator-policies/{vhost}/{name}")
async def get_operator_policy(request: web.Request) -> web.Response:
    return _get(request, True)


@routes.put("/api/operator-policies/{vhost}/{name}")
async def put_operator_policy(request: web.Request) -> web.Response:
    return await _put(request, True)


@routes.delete("/api/operator-policies/{vhost}/{name}")
async def delete_operator_policy(request: web.Request) -> web.Response:
    return _delete(request, True)
