"""Channel state, synchronous request/reply, and dispatch of what the broker sends.

:class:`~lavinmq.client.channel.Channel` adds the public AMQP methods on top of this.
Everything here runs inside ``Connection.data_received``: handlers never await, and a
consumer callback runs before the next frame of the same read is looked at, which keeps
deliveries in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from lavinmq.amqp.frames import method_frame
from lavinmq.amqp.spec import (
    BasicAck,
    BasicCancel,
    BasicCancelOk,
    BasicConsumeOk,
    BasicDeliver,
    BasicGetEmpty,
    BasicGetOk,
    BasicNack,
    BasicReturn,
    ChannelClose,
    ChannelCloseOk,
    ChannelFlow,
    ChannelFlowOk,
    Method,
)
from lavinmq.client.confirms import ConfirmTracker
from lavinmq.client.errors import ChannelClosed, ClientError, _Closed
from lavinmq.client.message import Message

if TYPE_CHECKING:
    from lavinmq.client.connection import Connection

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Method)
MessageCallback = Callable[[Message], None]
CloseCallback = Callable[[BaseException | None], None]
"""Told that a consumer ended: ``None`` when cancelled, the error when its channel closed."""
_Consumer = tuple[MessageCallback, CloseCallback | None]
_Pending = tuple["asyncio.Future[object]", tuple[type[Method], ...], _Consumer | None]


def run_callback(callback: Callable[..., object], *args: object) -> None:
    """Call a user callback from the read loop; log what it raises instead of propagating."""
    try:
        callback(*args)
    except Exception:  # a callback bug must not kill the connection
        logger.exception("%r failed", callback)


class ChannelCore:
    """Per-channel state and the receive side of the protocol.

    Args:
        connection: the connection this channel belongs to.
        number: the channel number (1 to ``channel_max``).
    """

    __slots__ = (
        "_close_waiter",
        "_closed",
        "_confirms",
        "_conn",
        "_consumer_closers",
        "_consumers",
        "_loop",
        "_pending",
        "_publish_frames",
        "_rpc_lock",
        "active",
        "number",
        "on_cancel",
        "on_return",
    )

    def __init__(self, connection: Connection, number: int) -> None:
        self._conn = connection
        self._loop = connection.loop
        self.number = number
        self._closed: _Closed | None = None
        self._close_waiter: asyncio.Future[None] | None = None
        self._rpc_lock = asyncio.Lock()
        self._pending: deque[_Pending] = deque()
        self._consumers: dict[str, MessageCallback] = {}
        self._consumer_closers: dict[str, CloseCallback] = {}
        self._confirms: ConfirmTracker | None = None
        self._publish_frames: dict[tuple[str, str, bool], bytes] = {}
        self.active = True
        """False while the broker has paused this channel with Channel.Flow."""
        self.on_return: MessageCallback | None = None
        """Called with each returned (unroutable ``mandatory``) message."""
        self.on_cancel: Callable[[str], None] | None = None
        """Called with the consumer tag when the broker cancels a consumer."""

    @property
    def is_open(self) -> bool:
        """True until the channel is closed (or closing)."""
        return self._closed is None

    @property
    def connection(self) -> Connection:
        """The connection this channel belongs to."""
        return self._conn

    def _raise_if_closed(self) -> None:
        if self._closed is not None:
            raise self._closed.copy()

    def _send(self, method: Method) -> None:
        self._raise_if_closed()
        self._conn.send_frame(method_frame(self.number, method))

    async def _request(
        self, method: Method, expect: tuple[type[Method], ...], consumer: _Consumer | None = None
    ) -> object:
        """Send a synchronous method and return the reply (one request outstanding at a time).

        ``consumer`` rides along with a Basic.Consume so that the reply handler can
        register it even if this caller was cancelled meanwhile (the broker-side consumer
        exists either way).
        """
        self._raise_if_closed()
        async with self._rpc_lock:
            self._raise_if_closed()
            fut: asyncio.Future[object] = self._loop.create_future()
            self._pending.append((fut, expect, consumer))
            self._conn.send_frame(method_frame(self.number, method))
            return await fut

    async def _call(self, method: Method, expect: type[M]) -> M:
        return cast(M, await self._request(method, (expect,)))

    # -- receive side: called by Connection.data_received -------------------------------

    def _on_method(self, method: Method) -> None:
        handler = _HANDLERS.get(type(method))
        if handler is not None:
            handler(self, method)
        else:
            self._reply(method, method)

    def _on_content(self, method: Method, properties: bytes, body: bytes) -> None:
        if type(method) is BasicDeliver:
            callback = self._consumers.get(method.consumer_tag)
            if callback is None or self._closed is not None:
                return
            msg = Message(
                body, properties, method.delivery_tag, method.redelivered,
                method.exchange, method.routing_key, method.consumer_tag, self,  # type: ignore[arg-type]
            )  # fmt: skip
            try:  # inlined run_callback: this is the per-delivery hot path
                callback(msg)
            except Exception:
                logger.exception("consumer %r callback failed", method.consumer_tag)
        elif type(method) is BasicGetOk:
            msg = Message(
                body, properties, method.delivery_tag, method.redelivered, method.exchange,
                method.routing_key, "", self, method.message_count,  # type: ignore[arg-type]
            )  # fmt: skip
            self._reply(method, msg)
        elif type(method) is BasicReturn:
            self._on_basic_return(method, properties, body)

    def _on_basic_return(self, method: BasicReturn, properties: bytes, body: bytes) -> None:
        callback = self.on_return
        if callback is None:
            logger.debug("message returned (%s) with no on_return set", method.reply_text)
            return
        msg = Message(
            body, properties, 0, False, method.exchange, method.routing_key,
            reply_code=method.reply_code, reply_text=method.reply_text,
        )  # fmt: skip
        run_callback(callback, msg)

    def _reply(self, method: Method, value: object) -> None:
        if not self._pending:
            logger.warning("channel %d: unexpected %s", self.number, method.NAME)
            return
        fut, expect, _ = self._pending.popleft()
        if fut.done():  # its caller was cancelled; the reply is dropped with it
            return
        if isinstance(method, expect):
            fut.set_result(value)
        else:
            names = ", ".join(cls.NAME for cls in expect)
            fut.set_exception(ClientError(f"expected {names}, got {method.NAME}"))

    def _on_consume_ok(self, method: BasicConsumeOk) -> None:
        # Register before resolving: deliveries may follow in this very read.
        consumer = self._pending[0][2] if self._pending else None
        if consumer is not None:
            callback, closer = consumer
            self._consumers[method.consumer_tag] = callback
            if closer is not None:
                self._consumer_closers[method.consumer_tag] = closer
        self._reply(method, method)

    def _on_cancel_ok(self, method: BasicCancelOk) -> None:
        self._drop_consumer(method.consumer_tag, None)
        self._reply(method, method)

    def _on_server_cancel(self, method: BasicCancel) -> None:
        self._drop_consumer(method.consumer_tag, None)
        if not method.nowait:
            self._conn.send_frame(method_frame(self.number, BasicCancelOk(method.consumer_tag)))
        if self.on_cancel is not None:
            run_callback(self.on_cancel, method.consumer_tag)

    def _drop_consumer(self, tag: str, exc: BaseException | None) -> None:
        self._consumers.pop(tag, None)
        closer = self._consumer_closers.pop(tag, None)
        if closer is not None:
            closer(exc)

    def _on_ack(self, method: BasicAck) -> None:
        if self._confirms is not None:
            self._confirms.settle(method.delivery_tag, method.multiple, True)

    def _on_nack(self, method: BasicNack) -> None:
        if self._confirms is not None:
            self._confirms.settle(method.delivery_tag, method.multiple, False)

    def _on_flow(self, method: ChannelFlow) -> None:
        self.active = method.active
        self._conn.send_frame(method_frame(self.number, ChannelFlowOk(method.active)))

    def _on_get_empty(self, method: BasicGetEmpty) -> None:
        self._reply(method, None)

    def _on_close(self, method: ChannelClose) -> None:
        exc = ChannelClosed(method.reply_code, method.reply_text, method.class_id, method.method_id)
        self._conn.send_frame(method_frame(self.number, ChannelCloseOk()))
        self._terminate(exc)

    def _on_close_ok(self, method: ChannelCloseOk) -> None:
        self._terminate(self._closed or ChannelClosed(200, "channel closed by the client"))

    def _terminate(self, exc: _Closed) -> None:
        """The channel is gone: fail everything that waits on it and free its number."""
        if self._closed is None or self._close_waiter is not None:
            self._closed = exc
        closed = self._closed
        while self._pending:
            fut, _, _ = self._pending.popleft()
            if not fut.done():
                fut.set_exception(closed.copy())
        for tag in list(self._consumers):
            self._drop_consumer(tag, closed.copy())
        if self._confirms is not None:
            self._confirms.fail(closed.copy)
        if self._close_waiter is not None and not self._close_waiter.done():
            self._close_waiter.set_result(None)
        self._conn.release_channel(self.number)


_HANDLERS: dict[type[Method], Callable[[ChannelCore, Method], None]] = {
    BasicConsumeOk: ChannelCore._on_consume_ok,  # type: ignore[dict-item]
    BasicCancelOk: ChannelCore._on_cancel_ok,  # type: ignore[dict-item]
    BasicCancel: ChannelCore._on_server_cancel,  # type: ignore[dict-item]
    BasicAck: ChannelCore._on_ack,  # type: ignore[dict-item]
    BasicNack: ChannelCore._on_nack,  # type: ignore[dict-item]
    BasicGetEmpty: ChannelCore._on_get_empty,  # type: ignore[dict-item]
    ChannelFlow: ChannelCore._on_flow,  # type: ignore[dict-item]
    ChannelClose: ChannelCore._on_close,  # type: ignore[dict-item]
    ChannelCloseOk: ChannelCore._on_close_ok,  # type: ignore[dict-item]
}
"""Methods with their own handler; every other method is the reply to a request."""

__all__ = ["ChannelCore", "CloseCallback", "MessageCallback", "run_callback"]
