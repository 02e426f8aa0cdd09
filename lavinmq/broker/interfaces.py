"""What the broker core calls but does not implement (the server layer implements these)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lavinmq.broker.message import Record
    from lavinmq.broker.queue.queue import Queue


class DeliveryTarget(Protocol):
    """A consumer as a queue sees it."""

    tag: str
    no_ack: bool
    exclusive: bool
    priority: int

    def ready(self) -> bool:
        """Whether it can take one more message now (prefetch, flow, socket)."""
        ...

    def room(self) -> int:
        """How many messages it can take now (0 when not ready)."""
        ...

    def deliver_batch(
        self, queue: Queue, positions: list[int], records: list[Record], redelivered: list[bool]
    ) -> None:
        """Send a run of messages; the queue acks them itself when ``no_ack``."""
        ...

    def write_blocked(self) -> bool:
        """Whether its connection's socket buffer is full (it can't take more now)."""
        ...

    def deliver(self, queue: Queue, pos: int, record: Record, redelivered: bool) -> None:
        """Send one message; the queue acks it itself when ``no_ack``."""
        ...

    def cancel_by_server(self) -> None:
        """The queue went away: tell the client (Basic.Cancel) and forget the consumer."""
        ...


class ClientConnection(Protocol):
    """A client connection as the broker and the HTTP API see it."""

    name: str
    vhost_name: str
    user_name: str

    def close_by_server(self, reply_code: int, reply_text: str) -> None:
        """Close with Connection.Close (e.g. 320 CONNECTION_FORCED)."""
        ...

    def details(self) -> dict[str, Any]:
        """The RabbitMQ management API shape of this connection."""
        ...
