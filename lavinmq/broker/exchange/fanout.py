"""Fanout exchange: every bound destination gets every message."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lavinmq.amqp.types import FieldTable
from lavinmq.broker.exchange.base import Destination, Exchange, RefCounted


class FanoutExchange(Exchange):
    TYPE = "fanout"
    __slots__ = ("_all",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._all = RefCounted()

    def match(self, routing_key: str, headers: FieldTable | None) -> Iterable[Destination]:
        return self._all

    def _index_add(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        self._all.add(dest)

    def _index_remove(self, dest: Destination, routing_key: str, arguments: FieldTable) -> None:
        self._all.remove(dest)
