"""Exchange.* and Queue.* method handlers of a channel."""

from __future__ import annotations

from lavinmq.amqp import spec
from lavinmq.amqp.errors import AccessRefused, NotFound
from lavinmq.server.channel_state import ChannelState


class EntityHandlers(ChannelState):
    """Declare, delete, bind, unbind and purge, with RabbitMQ's permission checks."""

    def exchange_declare(self, m: spec.ExchangeDeclare) -> None:
        if not m.passive:
            self.check_configure("exchange", m.exchange)
        if m.exchange == "" and not m.passive:
            raise AccessRefused("operation not permitted on the default exchange")
        self.vhost.declare_exchange(
            m.exchange,
            m.type,
            m.durable,
            m.auto_delete,
            m.internal,
            m.arguments,
            passive=m.passive,
        )
        if not m.nowait:
            self.send(spec.ExchangeDeclareOk())

    def exchange_delete(self, m: spec.ExchangeDelete) -> None:
        self.check_configure("exchange", m.exchange)
        self.vhost.delete_exchange(m.exchange, m.if_unused)
        if not m.nowait:
            self.send(spec.ExchangeDeleteOk())

    def exchange_bind(self, m: spec.ExchangeBind) -> None:
        self.check_write("exchange", m.destination)
        self.check_read("exchange", m.source)
        self.vhost.bind_exchange(m.destination, m.source, m.routing_key, m.arguments)
        if not m.nowait:
            self.send(spec.ExchangeBindOk())

    def exchange_unbind(self, m: spec.ExchangeUnbind) -> None:
        self.check_write("exchange", m.destination)
        self.check_read("exchange", m.source)
        self.vhost.unbind_exchange(m.destination, m.source, m.routing_key, m.arguments)
        if not m.nowait:
            self.send(spec.ExchangeUnbindOk())

    def queue_declare(self, m: spec.QueueDeclare) -> None:
        if not m.passive:
            self.check_configure("queue", m.queue or "amq.gen")
        q = self.vhost.declare_queue(
            m.queue,
            durable=m.durable,
            exclusive=m.exclusive,
            auto_delete=m.auto_delete,
            arguments=m.arguments,
            passive=m.passive,
            owner=self.conn,
        )
        self.last_queue = q.name
        if not m.nowait:
            self.send(spec.QueueDeclareOk(q.name, q.message_count, q.consumer_count))

    def _queue_name(self, name: str) -> str:
        """An empty queue name means the channel's last declared queue (AMQP 0-9-1)."""
        if name:
            return name
        last = getattr(self, "last_queue", "")
        if not last:
            raise NotFound("no previously declared queue")
        return str(last)

    def queue_bind(self, m: spec.QueueBind) -> None:
        name = self._queue_name(m.queue)
        self.check_write("queue", name)
        self.check_read("exchange", m.exchange)
        q = self.vhost.get_queue(name, self.conn)
        src = self.vhost.exchanges.get(m.exchange)
        if src is not None and src.TYPE == "topic":
            self.check_topic("read", m.exchange, m.routing_key)
        self.vhost.bind_queue(q, m.exchange, m.routing_key, m.arguments)
        if not m.nowait:
            self.send(spec.QueueBindOk())

    def queue_unbind(self, m: spec.QueueUnbind) -> None:
        name = self._queue_name(m.queue)
        self.check_write("queue", name)
        self.check_read("exchange", m.exchange)
        q = self.vhost.get_queue(name, self.conn)
        self.vhost.unbind_queue(q, m.exchange, m.routing_key, m.arguments)
        self.send(spec.QueueUnbindOk())

    def queue_purge(self, m: spec.QueuePurge) -> None:
        name = self._queue_name(m.queue)
        self.check_read("queue", name)
        count = self.vhost.get_queue(name, self.conn).purge()
        if not m.nowait:
            self.send(spec.QueuePurgeOk(count))

    def queue_delete(self, m: spec.QueueDelete) -> None:
        name = self._queue_name(m.queue)
        self.check_configure("queue", name)
        count = self.vhost.delete_queue(name, m.if_unused, m.if_empty, owner=self.conn)
        if not m.nowait:
            self.send(spec.QueueDeleteOk(count))
