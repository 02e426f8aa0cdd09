"""A virtual host: its exchanges, queues and bindings, and message routing.

Operations raise ``lavinmq.amqp.errors`` exceptions with RabbitMQ's reply texts; the
server layer turns them into Channel.Close / Connection.Close. Durable changes are
appended to the vhost's definitions log as the AMQP method frames they came in as.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AccessRefused, NotFound, PreconditionFailed, ResourceLocked
from lavinmq.amqp.types import FieldTable
from lavinmq.broker import definitions
from lavinmq.broker.arguments import validate_exchange_arguments, validate_queue_arguments
from lavinmq.broker.equivalence import (
    check_equivalent_exchange,
    check_equivalent_queue,
    check_new_name,
    unknown_exchange_type,
)
from lavinmq.broker.exchange import EXCHANGE_TYPES, DefaultExchange, Exchange
from lavinmq.broker.exchange.delayed import TYPE as DELAYED_TYPE
from lavinmq.broker.exchange.delayed import DelayedExchange
from lavinmq.broker.exchange.delayed import inner_type as delayed_inner_type
from lavinmq.broker.parameters import Policy, VHostParameters, limit_reached
from lavinmq.broker.queue.priority import PriorityQueue
from lavinmq.broker.queue.queue import Queue
from lavinmq.broker.vhost_routing import RoutingMixin
from lavinmq.storage import DefinitionsLog, dir_name
from lavinmq.storage.segment import remove_leftover_directories

if TYPE_CHECKING:
    from lavinmq.broker.tick import Tick

log = logging.getLogger(__name__)

BUILTIN_EXCHANGES = (
    ("amq.direct", "direct"),
    ("amq.fanout", "fanout"),
    ("amq.topic", "topic"),
    ("amq.headers", "headers"),
    ("amq.match", "headers"),
)
COMPACT_THRESHOLD = 1000


class VHost(RoutingMixin):
    """Exchanges, queues and bindings of one virtual host."""

    def __init__(
        self, name: str, data_dir: Path, tick: Tick, segment_size: int = 8 * 1024 * 1024
    ) -> None:
        self.name = name
        self.dir = data_dir / dir_name(name)
        self.dir.mkdir(parents=True, exist_ok=True)
        remove_leftover_directories(str(self.dir))  # queues deleted just before a crash
        self._transient_dir = self.dir / "transient"
        shutil.rmtree(self._transient_dir, ignore_errors=True)
        self.tick = tick
        self.segment_size = segment_size
        self.exchanges: dict[str, Exchange] = {}
        self.queues: dict[str, Queue] = {}
        self.direct_reply: dict[str, Any] = {}  # token -> reply consumer (server layer)
        self.default_exchange = DefaultExchange(self.queues.get, name)
        self.exchanges[""] = self.default_exchange
        for ex_name, ex_type in BUILTIN_EXCHANGES:
            self.exchanges[ex_name] = EXCHANGE_TYPES[ex_type](ex_name, name, durable=True)
        self._log = DefinitionsLog(self.dir / "definitions.amqp")
        self._log_records = 0
        self.parameters = VHostParameters(name, self.dir)
        self.closed = False

    def __repr__(self) -> str:
        return f"<VHost {self.name!r}>"

    # -- boot / shutdown ----------------------------------------------------------------

    def load_definitions(self) -> None:
        """Replay the definitions log, then rewrite it compacted."""
        replayed = 0
        for frame in self._log.replay():
            try:
                definitions.replay(self, definitions.decode(frame))
                replayed += 1
            except (ValueError, AccessRefused, NotFound, PreconditionFailed) as exc:
                log.warning("vhost %s: skipping definition record: %s", self.name, exc)
        self.compact()
        log.info(
            "vhost %s: %d definition records, %d queues, %d exchanges",
            self.name,
            replayed,
            len(self.queues),
            len(self.exchanges),
        )

    def compact(self) -> None:
        """Rewrite the definitions log from the live state (atomically: temp + rename)."""
        self._log.compact(list(definitions.snapshot(self)))
        self._log_records = 0

    def compact_if_dirty(self) -> None:
        """Compact when the log holds deleted entities (the broker's periodic timer)."""
        if self._log_records:
            self.compact()

    def _append(self, method: spec.Method) -> None:
        # Written now (a killed broker keeps it), fsynced by the next group commit: a
        # persistent message confirmed into a new durable queue was synced after it.
        self._log.append(definitions.encode(method), sync=False)
        self.tick.commit(self._log)
        # Only deletions leave garbage behind: counting declarations too would rewrite
        # the whole log every COMPACT_THRESHOLD declares (quadratic for 100k queues).
        if isinstance(method, definitions.GARBAGE):
            self._log_records += 1
            if self._log_records >= COMPACT_THRESHOLD:
                self.compact()

    def close(self) -> None:
        """Shutdown: close every queue's store and compact the definitions."""
        if self.closed:
            return
        self.closed = True
        for ex in self.exchanges.values():
            ex.close()
        for q in self.queues.values():
            try:
                q.close()
            except OSError as exc:  # e.g. a full disk: the store recovers at the next boot
                log.error("vhost %s: closing queue %s failed: %s", self.name, q.name, exc)
        try:
            self.compact()
        except OSError as exc:  # the old log is intact: it is replayed as it is
            log.error("vhost %s: compacting definitions failed: %s", self.name, exc)
        self._log.close()

    def delete_all(self) -> None:
        """The vhost is being deleted: drop every queue and the directory."""
        self.closed = True
        for q in list(self.queues.values()):
            q.delete()
        self.queues.clear()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- exchanges ----------------------------------------------------------------------

    def get_exchange(self, name: str) -> Exchange:
        ex = self.exchanges.get(name)
        if ex is None:
            raise NotFound(f"no exchange '{name}' in vhost '{self.name}'")
        return ex

    def declare_exchange(
        self,
        name: str,
        type_: str,
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: FieldTable | None = None,
        *,
        passive: bool = False,
        log_it: bool = True,
        builtin_ok: bool = False,
    ) -> Exchange:
        """Exchange.Declare semantics (passive, equivalence check, amq.* reserved)."""
        arguments = arguments or {}
        existing = self.exchanges.get(name)
        if passive:
            if existing is None:
                raise NotFound(f"no exchange '{name}' in vhost '{self.name}'")
            return existing
        if existing is not None:
            check_equivalent_exchange(existing, type_, durable, auto_delete, internal, arguments)
            return existing
        check_new_name("exchange", name, builtin_ok)
        validate_exchange_arguments(arguments, name, self.name)
        ex = self._make_exchange(name, type_, durable, auto_delete, internal, arguments)
        ex.policy = self.parameters.effective_policy(name, False)
        self.exchanges[name] = ex
        if durable and log_it:
            self._append(
                spec.ExchangeDeclare(
                    exchange=name,
                    type=type_,
                    durable=True,
                    auto_delete=auto_delete,
                    internal=internal,
                    arguments=arguments,
                )
            )
        return ex

    def _make_exchange(
        self,
        name: str,
        type_: str,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: FieldTable,
    ) -> Exchange:
        flags: dict[str, Any] = {
            "durable": durable,
            "auto_delete": auto_delete,
            "internal": internal,
            "arguments": arguments,
        }
        if type_ == DELAYED_TYPE:
            inner = EXCHANGE_TYPES[delayed_inner_type(arguments)](name, self.name)
            parent = self.dir if durable else self._transient_dir
            return DelayedExchange(
                name, self.name, inner, parent / "delayed" / dir_name(name), self.tick, **flags
            )
        cls = EXCHANGE_TYPES.get(type_)
        if cls is None:
            raise unknown_exchange_type(type_)
        return cls(name, self.name, **flags)

    def delete_exchange(self, name: str, if_unused: bool = False, *, log_it: bool = True) -> None:
        if name == "" or name.startswith("amq."):
            raise AccessRefused(f"operation not permitted on exchange '{name}'")
        ex = self.exchanges.get(name)
        if ex is None:
            if log_it:
                return  # deleting a missing exchange is not an error (RabbitMQ 3.x)
            return
        if if_unused and (ex.binding_count or self._is_destination(ex)):
            raise PreconditionFailed(f"exchange '{name}' in vhost '{self.name}' in use")
        del self.exchanges[name]
        ex.delete()
        lost = [other for other in list(self.exchanges.values()) if other.remove_destination(ex)]
        if ex.durable and log_it:
            self._append(spec.ExchangeDelete(exchange=name, if_unused=if_unused))
        self._auto_delete_exchanges(lost)

    def _is_destination(self, dest: Exchange) -> bool:
        return any(ex.is_bound_to(dest) for ex in self.exchanges.values())

    # -- queues -------------------------------------------------------------------------

    def get_queue(self, name: str, owner: Any = None) -> Queue:
        """The queue ``name``; 405 when it is exclusive to another connection."""
        q = self.queues.get(name)
        if q is None:
            raise NotFound(f"no queue '{name}' in vhost '{self.name}'")
        if q.exclusive and owner is not None and q.owner is not owner:
            raise ResourceLocked(
                f"cannot obtain exclusive access to locked queue '{name}' in vhost '{self.name}'. "
                "It could be originally declared on another connection or the exclusive "
                "property value does not match that of the original declaration."
            )
        return q

    def declare_queue(
        self,
        name: str,
        *,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: FieldTable | None = None,
        passive: bool = False,
        owner: Any = None,
        log_it: bool = True,
        builtin_ok: bool = False,
    ) -> Queue:
        """Queue.Declare semantics; an empty name gets a server-generated ``amq.gen-*``.

        ``builtin_ok`` lets the definitions replay recreate durable server-named queues.
        """
        arguments = arguments or {}
        if passive:
            return self.get_queue(name, owner)
        existing = self.queues.get(name) if name else None
        if existing is not None:
            self.get_queue(name, owner)
            check_equivalent_queue(existing, durable, exclusive, auto_delete, arguments)
            return existing
        if name:
            check_new_name("queue", name, builtin_ok)
        else:
            name = "amq.gen-" + uuid.uuid4().hex[:22]
        validate_queue_arguments(arguments, name, self.name)
        if log_it:  # not a replay: the limit applies
            limit = limit_reached(self.parameters.limits, "max-queues", len(self.queues))
            if limit is not None:
                raise PreconditionFailed(
                    f"cannot declare queue '{name}': queue limit in vhost "
                    f"'{self.name}' ({limit}) is reached"
                )
        q = self._make_queue(name, durable, exclusive, auto_delete, arguments, owner)
        if auto_delete:  # a closure per queue is 200 bytes: only where it is needed
            q.on_last_consumer_gone(lambda: self._auto_delete(q))
        self._apply_queue_policies(q)
        self.queues[name] = q
        if durable and not exclusive and log_it:
            self._append(
                spec.QueueDeclare(
                    queue=name, durable=True, auto_delete=auto_delete, arguments=arguments
                )
            )
        return q

    def _make_queue(
        self,
        name: str,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        arguments: FieldTable,
        owner: Any,
    ) -> Queue:
        parent = self.dir if durable and not exclusive else self._transient_dir
        # A str, not parent / name: pathlib interns every part, 100 bytes per queue.
        directory = os.path.join(parent, dir_name(name))
        cls = PriorityQueue if arguments.get("x-max-priority") else Queue
        return cls(
            name,
            directory,
            self.tick,
            vhost_name=self.name,
            durable=durable,
            exclusive=exclusive,
            auto_delete=auto_delete,
            arguments=arguments,
            owner=owner if exclusive else None,
            segment_size=self.segment_size,
            vhost=self,
        )

    def _auto_delete(self, q: Queue) -> None:
        if not q.deleted and not q.consumer_count and self.queues.get(q.name) is q:
            self.delete_queue(q.name)

    def delete_queue(
        self,
        name: str,
        if_unused: bool = False,
        if_empty: bool = False,
        *,
        owner: Any = None,
        log_it: bool = True,
    ) -> int:
        """Queue.Delete semantics; returns the number of messages deleted."""
        q = self.queues.get(name)
        if q is None:
            return 0
        self.get_queue(name, owner)
        if if_unused and q.consumer_count:
            raise PreconditionFailed(f"queue '{name}' in vhost '{self.name}' in use")
        if if_empty and q.message_count:
            raise PreconditionFailed(f"queue '{name}' in vhost '{self.name}' is not empty")
        count = q.message_count
        del self.queues[name]
        lost = [ex for ex in list(self.exchanges.values()) if ex.remove_destination(q)]
        q.delete()
        if q.durable and not q.exclusive and log_it:
            self._append(spec.QueueDelete(queue=name))
        self._auto_delete_exchanges(lost)
        return count

    def _auto_delete_exchanges(self, candidates: Iterable[Exchange]) -> None:
        """Delete the auto-delete exchanges among ``candidates`` (they just lost a binding)
        that have none left; one that never had a binding stays, as in RabbitMQ."""
        for ex in candidates:
            if ex.auto_delete and not ex.binding_count and self.exchanges.get(ex.name) is ex:
                self.delete_exchange(ex.name)

    # -- policies (the data lives in broker.parameters) ---------------------------------

    @property
    def policies(self) -> dict[str, Policy]:
        return self.parameters.policies

    @property
    def operator_policies(self) -> dict[str, Policy]:
        return self.parameters.operator_policies

    def apply_policies(self) -> None:
        """Point every queue's and exchange's ``policy`` at its effective policy."""
        for q in self.queues.values():
            self._apply_queue_policies(q)
        for ex in self.exchanges.values():
            ex.policy = self.parameters.effective_policy(ex.name, False)

    def _apply_queue_policies(self, q: Queue) -> None:
        kind = q.arguments.get("x-queue-type")
        kind = kind if isinstance(kind, str) else "classic"
        q.policy = self.parameters.effective_policy(q.name, True, kind)
        q.operator_policy = self.parameters.effective_operator_policy(q.name, True, kind)
