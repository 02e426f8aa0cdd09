"""Headers exchange: match message headers against binding arguments.

``x-match`` is ``all`` (default), ``any``, ``all-with-x`` or ``any-with-x``; the plain
forms ignore binding keys starting with ``x-``. A binding value of void (None) matches
on the key's presence alone, as in RabbitMQ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lavinmq.amqp.errors import PreconditionFailed
from lavinmq.amqp.types import FieldTable
from lavinmq.broker.exchange.base import Destination, Exchange

X_MATCH_VALUES = ("all", "any", "all-with-x", "any-with-x")


class HeadersExchange(Exchange):
    TYPE = "headers"
    __slots__ = ("_rules",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rules: list[tuple[Destination, FieldTable]] = []

    def bind(self, dest: Destination, routing_key: str, arguments: FieldTable | None) -> bool:
        mode = (arguments or {}).get("x-match", "all")
        if mode not in X_MATCH_VALUES:  # RabbitMQ's check (406) and text
            raise PreconditionFailed(
                f"Invalid x-match field value {mode!r}; expected all, any, "
                "all-with-x, or any-with-x"
            )
        return super().bind(dest, routing_key, arguments)

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        hdrs = headers or {}
        out: dict[Destination, None] = {}
        for dest, args in self._rules:
            if dest not in out and matches(args, hdrs):
                out[dest] = None
        return out

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        self._rules.append((dest, arguments))

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        for i, (d, args) in enumerate(self._rules):
            if d is dest and args == arguments:
                del self._rules[i]
                return


def matches(args: FieldTable, headers: FieldTable) -> bool:
    """Whether ``headers`` satisfy the binding ``args``."""
    mode = args.get("x-match", "all")
    with_x = mode.endswith("-with-x") if isinstance(mode, str) else False
    wanted = [
        (k, v) for k, v in args.items() if k != "x-match" and (with_x or not k.startswith("x-"))
    ]
    if mode in ("any", "any-with-x"):
        return any(_one(k, v, headers) for k, v in wanted)
    return all(_one(k, v, headers) for k, v in wanted)


def _one(key: str, value: Any, headers: FieldTable) -> bool:
    if key not in headers:
        return False
    return value is None or headers[key] == value
