"""Channel methods that declare, bind and delete exchanges and queues."""

from __future__ import annotations

from lavinmq.amqp.spec import (
    ExchangeBind,
    ExchangeBindOk,
    ExchangeDeclare,
    ExchangeDeclareOk,
    ExchangeDelete,
    ExchangeDeleteOk,
    ExchangeUnbind,
    ExchangeUnbindOk,
    QueueBind,
    QueueBindOk,
    QueueDeclare,
    QueueDeclareOk,
    QueueDelete,
    QueueDeleteOk,
    QueuePurge,
    QueuePurgeOk,
    QueueUnbind,
    QueueUnbindOk,
)
from lavinmq.amqp.types import FieldTable
from lavinmq.client.channel_core import ChannelCore


class ChannelDeclare(ChannelCore):
    """Exchange and queue management; part of :class:`~lavinmq.client.channel.Channel`."""

    __slots__ = ()

    async def exchange_declare(
        self,
        name: str,
        type: str = "direct",
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        passive: bool = False,
        arguments: FieldTable | None = None,
    ) -> None:
        """Declare an exchange (``passive``: only check that it exists).

        Raises:
            ChannelClosed: e.g. 404 NOT_FOUND (passive, missing) or 406
                PRECONDITION_FAILED (exists with other settings).
        """
        method = ExchangeDeclare(
            0, name, type, passive, durable, auto_delete, internal, False, arguments or {}
        )
        await self._call(method, ExchangeDeclareOk)

    async def exchange_delete(self, name: str, if_unused: bool = False) -> None:
        """Delete an exchange (only when it has no bindings if ``if_unused``)."""
        await self._call(ExchangeDelete(0, name, if_unused), ExchangeDeleteOk)

    async def exchange_bind(
        self,
        destination: str,
        source: str,
        routing_key: str = "",
        arguments: FieldTable | None = None,
    ) -> None:
        """Bind exchange ``destination`` to exchange ``source`` (RabbitMQ extension)."""
        method = ExchangeBind(0, destination, source, routing_key, False, arguments or {})
        await self._call(method, ExchangeBindOk)

    async def exchange_unbind(
        self,
        destination: str,
        source: str,
        routing_key: str = "",
        arguments: FieldTable | None = None,
    ) -> None:
        """Remove an exchange-to-exchange binding."""
        method = ExchangeUnbind(0, destination, source, routing_key, False, arguments or {})
        await self._call(method, ExchangeUnbindOk)

    async def queue_declare(
        self,
        name: str = "",
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        passive: bool = False,
        arguments: FieldTable | None = None,
    ) -> tuple[str, int, int]:
        """Declare a queue; an empty ``name`` lets the broker pick one.

        Returns:
            ``(name, message_count, consumer_count)``.

        Raises:
            ChannelClosed: e.g. 404 NOT_FOUND (passive, missing), 405 RESOURCE_LOCKED
                (exclusive to another connection), 406 PRECONDITION_FAILED.
        """
        method = QueueDeclare(
            0, name, passive, durable, exclusive, auto_delete, False, arguments or {}
        )
        ok = await self._call(method, QueueDeclareOk)
        return ok.queue, ok.message_count, ok.consumer_count

    async def queue_bind(
        self,
        queue: str,
        exchange: str,
        routing_key: str = "",
        arguments: FieldTable | None = None,
    ) -> None:
        """Bind a queue to an exchange."""
        await self._call(
            QueueBind(0, queue, exchange, routing_key, False, arguments or {}), QueueBindOk
        )

    async def queue_unbind(
        self,
        queue: str,
        exchange: str,
        routing_key: str = "",
        arguments: FieldTable | None = None,
    ) -> None:
        """Remove a queue binding."""
        await self._call(
            QueueUnbind(0, queue, exchange, routing_key, arguments or {}), QueueUnbindOk
        )

    async def queue_purge(self, queue: str) -> int:
        """Remove all ready messages from a queue.

        Returns:
            The number of messages purged.
        """
        return (await self._call(QueuePurge(0, queue), QueuePurgeOk)).message_count

    async def queue_delete(
        self, queue: str, if_unused: bool = False, if_empty: bool = False
    ) -> int:
        """Delete a queue (conditionally on having no consumers / no messages).

        Returns:
            The number of messages deleted with it.
        """
        ok = await self._call(QueueDelete(0, queue, if_unused, if_empty), QueueDeleteOk)
        return ok.message_count


__all__ = ["ChannelDeclare"]
