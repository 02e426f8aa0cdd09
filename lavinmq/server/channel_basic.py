"""Basic.* handlers except publish: qos, consume, cancel, get, ack, reject, nack, recover."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, cast

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AccessRefused, NotAllowed, NotImplemented_, PreconditionFailed
from lavinmq.broker.message import get_ok_frames
from lavinmq.broker.queue.queue import Queue
from lavinmq.server import direct_reply
from lavinmq.server.channel_state import ChannelState
from lavinmq.server.consumer import Consumer

if TYPE_CHECKING:
    from lavinmq.server.channel import Channel


class BasicHandlers(ChannelState):
    """Consumers and acknowledgements of a channel."""

    # -- qos / consume / cancel ---------------------------------------------------------

    def basic_qos(self, m: spec.BasicQos) -> None:
        if m.prefetch_size:  # as RabbitMQ and LavinMQ: a connection error
            raise NotImplemented_(f"prefetch_size!=0 ({m.prefetch_size})")
        if m.global_:
            self.global_prefetch = m.prefetch_count
        else:
            self.prefetch_count = m.prefetch_count
        self.send(spec.BasicQosOk())
        self.resume_deliveries()

    def basic_consume(self, m: spec.BasicConsume) -> None:
        queue_name = m.queue or str(getattr(self, "last_queue", ""))
        if queue_name == direct_reply.QUEUE:
            self._consume_direct_reply(m)
            return
        self.check_read("queue", queue_name)
        q = self.vhost.get_queue(queue_name, self.conn)
        tag = m.consumer_tag or "amq.ctag-" + secrets.token_urlsafe(16)
        if tag in self.consumers:
            raise NotAllowed(f"attempt to reuse consumer tag '{tag}'")
        if q.has_exclusive_consumer() or (m.exclusive and q.consumer_count):
            raise AccessRefused(f"queue '{q.name}' in vhost '{self.vhost.name}' in exclusive use")
        priority = m.arguments.get("x-priority", 0) if m.arguments else 0
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise PreconditionFailed(f"invalid x-priority argument {priority!r}")
        consumer = Consumer(
            cast("Channel", self),
            q,
            tag,
            no_ack=m.no_ack,
            exclusive=m.exclusive,
            prefetch=self.prefetch_count,
            priority=priority,
            arguments=m.arguments,
        )
        self.consumers[tag] = consumer
        if not m.nowait:
            self.send(spec.BasicConsumeOk(tag))
        q.add_consumer(consumer)

    def _consume_direct_reply(self, m: spec.BasicConsume) -> None:
        if not m.no_ack:
            raise PreconditionFailed("reply consumer cannot acknowledge")
        if self.direct_reply is not None:
            raise PreconditionFailed("reply consumer already set")
        tag = m.consumer_tag or "amq.ctag-" + secrets.token_urlsafe(16)
        reply = direct_reply.DirectReplyConsumer(self, tag)
        self.direct_reply = reply
        self.vhost.direct_reply[reply.token] = reply
        if not m.nowait:
            self.send(spec.BasicConsumeOk(tag))

    def _cancel_direct_reply(self) -> None:
        reply, self.direct_reply = self.direct_reply, None
        if reply is not None:
            self.vhost.direct_reply.pop(reply.token, None)

    def basic_cancel(self, m: spec.BasicCancel) -> None:
        if self.direct_reply is not None and self.direct_reply.tag == m.consumer_tag:
            self._cancel_direct_reply()
        consumer = self.consumers.pop(m.consumer_tag, None)
        if consumer is not None:
            consumer.queue.remove_consumer(consumer)
        if not m.nowait:
            self.send(spec.BasicCancelOk(m.consumer_tag))

    def basic_cancel_ok(self, m: spec.BasicCancelOk) -> None:
        """A client's answer to a server-sent Basic.Cancel (RabbitMQ 4.3 clients send it)."""

    def cancel_all_consumers(self) -> None:
        self._cancel_direct_reply()
        consumers, self.consumers = self.consumers, {}
        for consumer in consumers.values():
            consumer.queue.remove_consumer(consumer)

    # -- get ----------------------------------------------------------------------------

    def basic_get(self, m: spec.BasicGet) -> None:
        queue_name = m.queue or str(getattr(self, "last_queue", ""))
        self.check_read("queue", queue_name)
        q = self.vhost.get_queue(queue_name, self.conn)
        item = q.get(m.no_ack)
        if item is None:
            self.send(spec.BasicGetEmpty())
            return
        pos, record, redelivered = item
        tag = self.next_delivery_tag()
        if not m.no_ack:
            self.unacked[tag] = (q, pos, None)
        self.stat_get += 1
        self.conn.send_frames(
            get_ok_frames(
                self.number, tag, redelivered, q.message_count, record, self.conn.frame_max
            )
        )

    # -- ack / reject ---------------------------------------------------------------------

    def _take(self, tag: int, multiple: bool) -> list[tuple[int, Queue, int, Consumer | None]]:
        """Remove and return the unacked deliveries a tag (and ``multiple``) refers to."""
        unacked = self.unacked
        if not multiple:
            entry = unacked.pop(tag, None)
            if entry is None:
                raise PreconditionFailed(f"unknown delivery tag {tag}")
            return [(tag, *entry)]
        if tag == 0:
            taken = [(t, *e) for t, e in unacked.items()]
            unacked.clear()
            return taken
        if tag not in unacked:
            raise PreconditionFailed(f"unknown delivery tag {tag}")
        taken = []
        for t in list(unacked):
            if t > tag:
                break
            taken.append((t, *unacked.pop(t)))
        return taken

    def _settle(
        self, entries: list[tuple[int, Queue, int, Consumer | None]], ack: bool, requeue: bool
    ) -> None:
        touched: set[Queue] = set()
        for _, queue, pos, consumer in entries:
            if ack:
                queue.ack(pos)
            else:
                queue.reject(pos, requeue)
            if consumer is not None:
                consumer.unacked -= 1
                touched.add(queue)
        self.stat_ack += len(entries) if ack else 0
        for queue in touched:
            queue.schedule_delivery()
        if self.global_prefetch and entries:
            self.resume_deliveries()

    def basic_ack(self, m: spec.BasicAck) -> None:
        entries = self._take(m.delivery_tag, m.multiple)
        if self.in_tx:
            self.tx_acks.append((True, False, entries))
        else:
            self._settle(entries, True, False)

    def basic_reject(self, m: spec.BasicReject) -> None:
        entries = self._take(m.delivery_tag, False)
        if self.in_tx:
            self.tx_acks.append((False, m.requeue, entries))
        else:
            self._settle(entries, False, m.requeue)

    def basic_nack(self, m: spec.BasicNack) -> None:
        entries = self._take(m.delivery_tag, m.multiple)
        if self.in_tx:
            self.tx_acks.append((False, m.requeue, entries))
        else:
            self._settle(entries, False, m.requeue)

    def basic_recover_async(self, m: spec.BasicRecoverAsync) -> None:
        self.requeue_all_unacked()

    def basic_recover(self, m: spec.BasicRecover) -> None:
        self.requeue_all_unacked()
        self.send(spec.BasicRecoverOk())

    def requeue_all_unacked(self) -> None:
        entries = [(t, *e) for t, e in self.unacked.items()]
        self.unacked.clear()
        if entries:
            self._settle(entries, False, True)

    # Provided by PublishHandlers.
    in_tx: bool
    tx_acks: list[tuple[bool, bool, list[tuple[int, Queue, int, Consumer | None]]]]
