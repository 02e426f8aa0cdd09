"""Bindings and message routing of a vhost (a mixin of ``VHost``).

Binding changes between durable ends are logged to the definitions log; routing follows
exchange-to-exchange bindings and, for an unroutable message, alternate exchanges.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AccessRefused, NotFound
from lavinmq.amqp.events import Body
from lavinmq.amqp.types import FieldTable
from lavinmq.broker import definitions
from lavinmq.broker.exchange import Exchange
from lavinmq.broker.message import encode_record
from lavinmq.broker.queue.queue import Queue


class RoutingMixin:
    """Bindings and routing; the state lives in ``VHost``."""

    name: str
    exchanges: dict[str, Exchange]
    queues: dict[str, Queue]

    def get_exchange(self, name: str) -> Exchange:
        raise NotImplementedError

    def _append(self, method: spec.Method) -> None:
        raise NotImplementedError

    def _auto_delete_exchanges(self, candidates: Iterable[Exchange]) -> None:
        raise NotImplementedError

    # -- bindings -----------------------------------------------------------------------

    def bind_queue(
        self, queue: Queue, exchange: str, routing_key: str, arguments: FieldTable | None
    ) -> None:
        self.apply_binding(exchange, queue, routing_key, arguments or {}, True)

    def unbind_queue(
        self, queue: Queue, exchange: str, routing_key: str, arguments: FieldTable | None
    ) -> None:
        self.apply_binding(exchange, queue, routing_key, arguments or {}, False)

    def bind_exchange(
        self, destination: str, source: str, routing_key: str, arguments: FieldTable | None
    ) -> None:
        self.apply_binding(
            source, self.get_exchange(destination), routing_key, arguments or {}, True
        )

    def unbind_exchange(
        self, destination: str, source: str, routing_key: str, arguments: FieldTable | None
    ) -> None:
        dest = self.exchanges.get(destination)
        if dest is None:
            return
        self.apply_binding(source, dest, routing_key, arguments or {}, False)

    def apply_binding(
        self,
        source: str,
        dest: Any,
        routing_key: str,
        arguments: FieldTable,
        add: bool,
        log_it: bool = True,
    ) -> None:
        if source == "":
            raise AccessRefused("operation not permitted on the default exchange")
        ex = self.exchanges.get(source)
        if ex is None:
            if not add:
                return
            raise NotFound(f"no exchange '{source}' in vhost '{self.name}'")
        changed = (
            ex.bind(dest, routing_key, arguments)
            if add
            else ex.unbind(dest, routing_key, arguments)
        )
        if not changed or not log_it or not (ex.durable and definitions.is_durable(dest)):
            if changed and not add:
                self._auto_delete_exchanges((ex,))
            return
        self._append(definitions.binding_method(ex.name, dest, routing_key, arguments, add))
        if not add:
            self._auto_delete_exchanges((ex,))

    # -- publishing ---------------------------------------------------------------------

    def route(
        self, exchange: Exchange, routing_key: str, headers: FieldTable | None, count: int = 1
    ) -> dict[Queue, None]:
        """The queues ``count`` messages with this key and headers reach, in binding
        order, each once (``count`` > 1 for a batch of identical publishes: stats)."""
        out: dict[Queue, None] = {}
        exchange.route(routing_key, headers, out)
        if not out:
            self._alternate(exchange, routing_key, headers, out)
        counts = exchange.stats  # [publish_in, publish_out] for the management API
        if counts is None:
            counts = exchange.stats = [0, 0]
        counts[0] += count
        if out:
            counts[1] += count
        return out

    def _alternate(
        self,
        exchange: Exchange,
        routing_key: str,
        headers: FieldTable | None,
        out: dict[Queue, None],
    ) -> None:
        """Unroutable: try the exchange's alternate exchange (argument or policy), and
        that one's, once each."""
        seen = {exchange}
        ex = exchange
        while not out:
            name = ex.arguments.get("alternate-exchange")
            if name is None and ex.policy is not None:
                name = ex.policy.definition.get("alternate-exchange")
            alternate = self.exchanges.get(name) if isinstance(name, str) else None
            if alternate is None or alternate in seen:
                return
            seen.add(alternate)
            alternate.route(routing_key, headers, out)
            ex = alternate

    def publish_record(
        self, queues: dict[Queue, None], exchange_rk: bytes, properties: bytes, body: Body
    ) -> int:
        """Store one message in every queue; returns how many accepted it."""
        record = encode_record(exchange_rk, properties, body)
        accepted = 0
        for q in queues:
            if q.publish(record):
                accepted += 1
        return accepted
