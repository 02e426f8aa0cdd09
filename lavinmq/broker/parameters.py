"""Policies, operator policies, runtime parameters, vhost limits and global parameters.

Each vhost keeps these in ``<vhost dir>/parameters.json`` and the broker keeps global
parameters in ``<data dir>/global_parameters.json``, both written atomically on every
change (they change rarely and an operator may read them while the broker is down).

Policy *matching* lives here: a queue or exchange gets the matching policy with the
highest priority (ties: the name that sorts last, as RabbitMQ's ``lists:sort`` picks),
restricted by ``apply-to``. What a policy's definition *does* to an entity is up to the
entity; this module only keeps ``entity.policy`` pointing at the effective one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lavinmq.storage import read_json, write_json_atomic

APPLY_TO = ("all", "queues", "exchanges", "classic_queues", "quorum_queues", "streams")
VHOST_LIMITS = ("max-connections", "max-queues")
USER_LIMITS = ("max-connections", "max-channels")
PARAMETERS_FILE = "parameters.json"


class InvalidParameter(ValueError):
    """A policy, parameter or limit that fails validation; the message says why."""


ParameterCheck = Callable[[str, Any], object]
_checks: dict[str, ParameterCheck] = {}


def register_parameter_check(component: str, check: ParameterCheck) -> None:
    """Validate every value stored under ``component`` with ``check(name, value)``, which
    raises ValueError with the reason. Plugins (shovel, federation) register theirs, so
    that the broker core does not import them."""
    _checks[component] = check


def check_parameter(component: str, name: str, value: Any) -> None:
    """Validate a runtime parameter before it is stored (components without a check take
    any JSON value, as RabbitMQ's unknown components do not exist to check against).

    Raises:
        InvalidParameter: with the component's reason.
    """
    check = _checks.get(component)
    if check is None:
        return
    try:
        check(name, value)
    except (ValueError, TypeError) as exc:
        raise InvalidParameter(f"invalid {component} parameter '{name}': {exc}") from None


def pairs_to_dict(value: Any) -> Any:
    """``rabbitmqctl export_definitions`` writes some maps as ``[[key, value], ...]``."""
    if isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in value
    ):
        return dict(value)
    if value == "":
        return {}
    return value


@dataclass(slots=True)
class Policy:
    """A (user or operator) policy of one vhost."""

    name: str
    vhost: str
    pattern: str
    definition: dict[str, Any]
    apply_to: str = "all"
    priority: int = 0
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str):
            raise InvalidParameter("pattern must be a string")
        try:
            self.regex = re.compile(self.pattern)
        except re.error as exc:
            raise InvalidParameter(f"invalid pattern {self.pattern!r}: {exc}") from None
        if self.apply_to not in APPLY_TO:
            raise InvalidParameter(f"apply-to must be one of {', '.join(APPLY_TO)}")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidParameter("priority must be an integer")
        if not isinstance(self.definition, dict) or not self.definition:
            raise InvalidParameter("definition must be a non-empty JSON object")

    @classmethod
    def from_json(cls, vhost: str, name: str, body: dict[str, Any]) -> Policy:
        """Build from the API/definitions shape (``apply-to``, ``definition``...).

        Raises:
            InvalidParameter: for a missing or ill-typed field.
        """
        if "pattern" not in body or "definition" not in body:
            raise InvalidParameter("policy needs 'pattern' and 'definition'")
        return cls(
            name,
            vhost,
            body["pattern"],
            pairs_to_dict(body["definition"]),
            body.get("apply-to", "all"),
            body.get("priority", 0),
        )

    def applies_to(self, name: str, is_queue: bool, queue_type: str = "classic") -> bool:
        if self.apply_to == "exchanges":
            matches_kind = not is_queue
        elif self.apply_to == "all":
            matches_kind = True
        elif self.apply_to == "queues":
            matches_kind = is_queue
        else:
            matches_kind = is_queue and self.apply_to == f"{queue_type}_queues"
        return matches_kind and self.regex.search(name) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "vhost": self.vhost,
            "name": self.name,
            "pattern": self.pattern,
            "apply-to": self.apply_to,
            "definition": self.definition,
            "priority": self.priority,
        }


def effective(
    policies: Iterable[Policy], name: str, is_queue: bool, queue_type: str = "classic"
) -> Policy | None:
    """The matching policy with the highest priority, or None."""
    best: Policy | None = None
    for p in policies:
        if not p.applies_to(name, is_queue, queue_type):
            continue
        if best is None or (p.priority, p.name) > (best.priority, best.name):
            best = p
    return best


def validate_limits(limits: Any, allowed: tuple[str, ...]) -> dict[str, int]:
    """Limits are ``{name: int}``; a negative value means unlimited.

    Raises:
        InvalidParameter: for an unknown limit or a non-integer value.
    """
    limits = pairs_to_dict(limits)
    if not isinstance(limits, dict):
        raise InvalidParameter("limits must be a JSON object")
    out: dict[str, int] = {}
    for key, value in limits.items():
        if key not in allowed:
            raise InvalidParameter(f"unknown limit {key!r}, expected one of {', '.join(allowed)}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameter(f"limit {key!r} must be an integer, got {value!r}")
        out[key] = value
    return out


def limit_reached(limits: dict[str, int], key: str, current: int) -> int | None:
    """The limit value when ``current`` is already at it, else None."""
    value = limits.get(key, -1)
    return value if 0 <= value <= current else None


class VHostParameters:
    """Policies, operator policies, parameters, limits and metadata of one vhost."""

    def __init__(self, vhost: str, directory: Path) -> None:
        self.vhost = vhost
        self._path = directory / PARAMETERS_FILE
        self.policies: dict[str, Policy] = {}
        self.operator_policies: dict[str, Policy] = {}
        self.parameters: dict[tuple[str, str], Any] = {}
        self.limits: dict[str, int] = {}
        self.metadata: dict[str, Any] = {"description": "", "tags": []}
        self.listeners: list[Callable[[VHostParameters], None]] = []
        """Called after every save (shovels and federation re-read their configuration)."""
        self._load()

    def _load(self) -> None:
        data = read_json(self._path, None)
        if not isinstance(data, dict):
            return
        for body in data.get("policies", []):
            self.policies[body["name"]] = Policy.from_json(self.vhost, body["name"], body)
        for body in data.get("operator_policies", []):
            self.operator_policies[body["name"]] = Policy.from_json(self.vhost, body["name"], body)
        for item in data.get("parameters", []):
            self.parameters[(item["component"], item["name"])] = item["value"]
        self.limits = dict(data.get("limits", {}))
        self.metadata.update(data.get("metadata", {}))

    def save(self) -> None:
        write_json_atomic(
            self._path,
            {
                "policies": [p.to_json() for p in self.policies.values()],
                "operator_policies": [p.to_json() for p in self.operator_policies.values()],
                "parameters": [
                    {"component": c, "name": n, "value": v} for (c, n), v in self.parameters.items()
                ],
                "limits": self.limits,
                "metadata": self.metadata,
            },
        )
        for listener in list(self.listeners):
            listener(self)

    def effective_policy(
        self, name: str, is_queue: bool, queue_type: str = "classic"
    ) -> Policy | None:
        return effective(self.policies.values(), name, is_queue, queue_type)

    def effective_operator_policy(
        self, name: str, is_queue: bool, queue_type: str = "classic"
    ) -> Policy | None:
        return effective(self.operator_policies.values(), name, is_queue, queue_type)

    def set_limits(self, limits: Any, save: bool = True) -> None:
        self.limits = validate_limits(limits, VHOST_LIMITS)
        if save:
            self.save()

    def parameter_list(self, component: str | None = None) -> list[dict[str, Any]]:
        """Parameters in the API shape, optionally of one component."""
        return [
            {"vhost": self.vhost, "component": c, "name": n, "value": v}
            for (c, n), v in self.parameters.items()
            if component in (None, c)
        ]


class GlobalParameters:
    """Cluster-wide parameters (``/api/global-parameters``)."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / "global_parameters.json"
        data = read_json(self._path, {})
        self.values: dict[str, Any] = dict(data) if isinstance(data, dict) else {}

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value
        write_json_atomic(self._path, self.values)

    def delete(self, name: str) -> bool:
        if self.values.pop(name, None) is None:
            return False
        write_json_atomic(self._path, self.values)
        return True

    def as_list(self) -> list[dict[str, Any]]:
        return [{"name": k, "value": v} for k, v in self.values.items()]
