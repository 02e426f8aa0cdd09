"""Basic.Publish, publisher confirms and transactions of a channel.

Confirms are coalesced: after each read the channel sends one Basic.Ack(multiple) for
every publish confirmed so far, instead of one frame per message. A publish of a
persistent message to a durable queue waits for the group commit (fdatasync) before it
is confirmed; later confirms queue up behind it so acks stay in order. Nacks (a queue
refused the message) are sent singly, in order.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AccessRefused, NotFound, PreconditionFailed
from lavinmq.amqp.events import Body
from lavinmq.amqp.properties import peek_user_id
from lavinmq.broker.exchange.delayed import TYPE as DELAYED_TYPE
from lavinmq.broker.exchange.delayed import x_delay
from lavinmq.broker.message import Record, encode_record, return_frames, shortstr
from lavinmq.broker.queue.queue import Queue
from lavinmq.server import direct_reply
from lavinmq.server.channel_state import ChannelState
from lavinmq.server.inspect import inspect, stamped
from lavinmq.storage import StoreFullError

log = logging.getLogger(__name__)

WAITING = 1
NACK = 2


class PublishHandlers(ChannelState):
    """Publishing side of a channel."""

    def __init__(self) -> None:
        self.confirm = False
        self.in_tx = False
        self.tx_publishes: list[tuple[spec.BasicPublish, bytes, Body]] = []
        self.tx_acks: list = []  # type: ignore[type-arg]
        self._seq = 0
        self._confirmed = 0
        self._special: dict[int, int] = {}
        self._er_cache: dict[tuple[str, str], bytes] = {}

    # -- publish ------------------------------------------------------------------------

    def on_publish(self, m: spec.BasicPublish, properties: bytes, body: Body) -> None:
        if self.in_tx:
            self._check_exchange(m.exchange)
            self.tx_publishes.append((m, properties, body))
            return
        needs_sync = self._publish(m, properties, body)
        if self.confirm:
            self._seq += 1
            if needs_sync is None:
                self._special[self._seq] = NACK
            elif needs_sync:
                self._special[self._seq] = WAITING
                seq = self._seq
                self.conn.broker.tick.after_sync(lambda: self._synced(seq))
            self.conn.confirm_pending(self)

    def _check_exchange(self, name: str) -> None:
        ex = self.vhost.exchanges.get(name)
        if ex is None:
            raise NotFound(f"no exchange '{name}' in vhost '{self.vhost.name}'", 60, 40)
        if ex.internal:
            raise AccessRefused(
                f"cannot publish to internal exchange '{name}' in vhost '{self.vhost.name}'", 60, 40
            )
        if not self._allowed(1, name):
            raise self._refused("write", "exchange", name).with_method(60, 40)

    def _publish(self, m: spec.BasicPublish, properties: bytes, body: Body) -> bool | None:
        """Route and store one message. Returns True when it needs a group commit before
        it is confirmed, False when not, None when a queue refused it (nack)."""
        vhost = self.vhost
        ex = vhost.exchanges.get(m.exchange)
        if ex is None or ex.internal or not self._allowed(1, m.exchange):
            self._check_exchange(m.exchange)
        assert ex is not None
        user = self.conn.user
        if user is not None and user.topic_permissions and ex.TYPE == "topic":
            self.check_topic("write", ex.name, m.routing_key, 60, 40)
        reply = self.direct_reply
        if self.conn.config.set_timestamp:
            properties = stamped(properties, int(time.time()))
        msg = inspect(properties, self.conn.user_name, reply.token if reply else None)
        self.stat_publish += 1
        er = self._er_cache.get((m.exchange, m.routing_key)) or self._exchange_rk(
            m.exchange, m.routing_key
        )
        if not m.exchange and m.routing_key.startswith(direct_reply.PREFIX):
            return self._direct_reply(m, er, msg.properties, body)
        if ex.TYPE == DELAYED_TYPE and (delay := x_delay(msg.headers)):
            return self._hold(ex, delay, encode_record(er, msg.properties, body), msg.persistent)
        queues = vhost.route(ex, m.routing_key, msg.headers)
        for key in msg.extra_keys:
            ex.route(key, msg.headers, queues)
        if m.immediate and not any(q.has_ready_consumer() for q in queues):
            self._return(er, msg.properties, body, 313, "NO_CONSUMERS")  # as LavinMQ
            return False
        if not queues:
            if m.mandatory:
                self._return(er, msg.properties, body)
            return False
        return self._store(
            queues, encode_record(er, msg.properties, body), msg.persistent, msg.expiring
        )

    def _store(
        self,
        queues: dict[Queue, None],
        record: Record,
        persistent: bool,
        expiring: bool,
    ) -> bool | None:
        needs_sync = False
        refused = False
        try:
            for q in queues:
                if expiring:
                    q.mark_expiring()
                if not q.publish(record):
                    refused = True
                    continue
                if persistent and q.durable:
                    q.request_sync()
                    needs_sync = True
                if q.congested or q.ack_gated:
                    q.throttle(self.conn)
        except StoreFullError as exc:
            self.store_full(exc)
            return None
        return None if refused else needs_sync

    def _hold(self, ex: Any, delay: int, record: Record, persistent: bool) -> bool:
        """A delayed message: the exchange keeps it (on disk) until it is due."""
        ex.hold(bytes(record), delay)
        if persistent and ex.durable:
            self.conn.broker.tick.sync(ex.sync_source())
            return True
        return False

    def _return(
        self, er: bytes, properties: bytes, body: Body, code: int = 312, text: str = "NO_ROUTE"
    ) -> None:
        self.stat_return += 1
        self.conn.send_frames(
            return_frames(self.number, code, text, er, properties, body, self.conn.frame_max)
        )

    def _direct_reply(self, m: spec.BasicPublish, er: bytes, properties: bytes, body: Body) -> bool:
        token = m.routing_key[len(direct_reply.PREFIX) :]
        consumer = self.vhost.direct_reply.get(token)
        if consumer is None:
            if m.mandatory:
                self._return(er, properties, body)
            return False
        consumer.deliver_record(bytes(encode_record(er, properties, body)))
        return False

    def store_full(self, exc: StoreFullError) -> None:
        """A queue's store could not take a message (disk full). In confirm mode the
        caller nacks it; otherwise the channel is closed, as the message is lost. The
        stores are intact either way (see ``storage.errors``)."""
        log.error("channel %d: %s", self.number, exc)
        if not self.confirm:
            raise PreconditionFailed("Server low on disk space, message not stored", 60, 40)

    def _exchange_rk(self, exchange: str, routing_key: str) -> bytes:
        er = shortstr(exchange) + shortstr(routing_key)
        if len(self._er_cache) > 4096:
            self._er_cache.clear()
        self._er_cache[(exchange, routing_key)] = er
        return er

    def _check_user_id(self, properties: bytes) -> None:
        user_id = peek_user_id(properties)
        if user_id is not None and user_id != self.conn.user_name:
            raise PreconditionFailed(
                f"user_id property set to '{user_id}' but authenticated "
                f"user was '{self.conn.user_name}'",
                60,
                40,
            )

    # -- confirms -----------------------------------------------------------------------

    def confirm_select(self, m: spec.ConfirmSelect) -> None:
        if self.in_tx:
            raise PreconditionFailed("cannot switch from tx to confirm mode")
        self.confirm = True
        if not m.nowait:
            self.send(spec.ConfirmSelectOk())

    def _synced(self, seq: int) -> None:
        if self._special.get(seq) == WAITING:
            del self._special[seq]
        if not self.cleaned:
            self.emit_confirms()

    def emit_confirms(self) -> None:
        """Send acks/nacks for every publish that is settled, in order."""
        upto = self._seq
        for seq, state in list(self._special.items()):
            if state == WAITING:
                upto = seq - 1
                break
            if seq - 1 > self._confirmed:
                self._send_ack(seq - 1)
            self.send(spec.BasicNack(seq, False, False))
            self._confirmed = seq
            del self._special[seq]
        if upto > self._confirmed:
            self._send_ack(upto)

    def _send_ack(self, upto: int) -> None:
        multiple = upto - self._confirmed > 1
        self.stat_confirm += upto - self._confirmed
        self.send(spec.BasicAck(upto, multiple))
        self._confirmed = upto

    # -- transactions -------------------------------------------------------------------

    def tx_select(self, m: spec.TxSelect) -> None:
        if self.confirm:
            raise PreconditionFailed("cannot switch from confirm to tx mode")
        self.in_tx = True
        self.send(spec.TxSelectOk())

    def tx_commit(self, m: spec.TxCommit) -> None:
        if not self.in_tx:
            raise PreconditionFailed("channel is not transactional")
        publishes, self.tx_publishes = self.tx_publishes, []
        acks, self.tx_acks = self.tx_acks, []
        needs_sync = False
        for method, properties, body in publishes:
            needs_sync = bool(self._publish(method, properties, body)) or needs_sync
        for ack, requeue, entries in acks:
            self._settle(entries, ack, requeue)
        if needs_sync:
            self.conn.broker.tick.after_sync(lambda: self.send(spec.TxCommitOk()))
        else:
            self.send(spec.TxCommitOk())

    def tx_rollback(self, m: spec.TxRollback) -> None:
        if not self.in_tx:
            raise PreconditionFailed("channel is not transactional")
        self.discard_tx()
        self.send(spec.TxRollbackOk())

    def discard_tx(self) -> None:
        """Drop buffered publishes; buffered acks' messages return to unacked state."""
        self.tx_publishes = []
        acks, self.tx_acks = self.tx_acks, []
        for _, _, entries in acks:
            for tag, queue, pos, consumer in entries:
                self.unacked[tag] = (queue, pos, consumer)
