"""Validation of queue and exchange ``x-`` arguments, with RabbitMQ's names and rules.

A wrong type or value is a 406 PRECONDITION_FAILED whose text names the argument.
Unknown arguments are accepted and kept, as RabbitMQ does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lavinmq.amqp.errors import PreconditionFailed
from lavinmq.amqp.types import FieldTable

OVERFLOW_MODES = ("drop-head", "reject-publish", "reject-publish-dlx")
QUEUE_TYPES = ("classic", "quorum")


def _int(minimum: int, maximum: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            return f"expected an integer, got {value!r}"
        if value < minimum:
            return f"must be >= {minimum}, got {value}"
        if maximum is not None and value > maximum:
            return f"must be <= {maximum}, got {value}"
        return None

    return check


def _str(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected a string, got {value!r}"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected a boolean, got {value!r}"


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"expected one of {', '.join(choices)}, got {value!r}"
        return None

    return check


QUEUE_ARGUMENTS: dict[str, Callable[[Any], str | None]] = {
    "x-message-ttl": _int(0),
    "x-expires": _int(1),
    "x-max-length": _int(0),
    "x-max-length-bytes": _int(0),
    "x-overflow": _one_of(OVERFLOW_MODES),
    "x-dead-letter-exchange": _str,
    "x-dead-letter-routing-key": _str,
    "x-max-priority": _int(0, 255),
    "x-single-active-consumer": _bool,
    "x-queue-type": _one_of(QUEUE_TYPES),
    "x-queue-mode": _one_of(("default", "lazy")),
    "x-delivery-limit": _int(0),
}


def validate_queue_arguments(arguments: FieldTable, queue: str = "", vhost: str = "/") -> None:
    """Raise PreconditionFailed for the first invalid known queue argument."""
    for key, value in arguments.items():
        check = QUEUE_ARGUMENTS.get(key)
        problem = check(value) if check else None
        if problem:
            raise PreconditionFailed(
                f"invalid arg '{key}' for queue '{queue}' in vhost '{vhost}': {problem}"
            )
    if "x-dead-letter-routing-key" in arguments and "x-dead-letter-exchange" not in arguments:
        raise PreconditionFailed(
            f"invalid arg 'x-dead-letter-routing-key' for queue '{queue}' in vhost '{vhost}': "
            "x-dead-letter-exchange is required"
        )


EXCHANGE_ARGUMENTS: dict[str, Callable[[Any], str | None]] = {
    "alternate-exchange": _str,
    "x-delayed-type": _str,
}


def validate_exchange_arguments(
    arguments: FieldTable, exchange: str = "", vhost: str = "/"
) -> None:
    """Raise PreconditionFailed for the first invalid known exchange argument."""
    for key, value in arguments.items():
        check = EXCHANGE_ARGUMENTS.get(key)
        problem = check(value) if check else None
        if problem:
            raise PreconditionFailed(
                f"invalid arg '{key}' for exchange '{exchange}' in vhost '{vhost}': {problem}"
            )
