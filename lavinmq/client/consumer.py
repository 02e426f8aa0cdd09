"""A consumer exposed as an async iterator (``Channel.consume_iter``)."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING

from lavinmq.amqp.spec import BasicConsume
from lavinmq.client.message import Message

if TYPE_CHECKING:
    from lavinmq.client.channel import Channel


class ConsumerIterator:
    """Buffers deliveries of one consumer for ``async for``.

    Use it as ``async with ch.consume_iter(queue) as it: async for msg in it: ...``.
    The buffer is a deque plus one waiter future rather than an ``asyncio.Queue``:
    deliveries are appended inside ``data_received``, and a Queue's per-item bookkeeping
    costs several times more.
    """

    __slots__ = ("_buffer", "_channel", "_ended", "_method", "_waiter", "consumer_tag")

    def __init__(self, channel: Channel, method: BasicConsume) -> None:
        self._channel = channel
        self._method = method
        self._buffer: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended: tuple[BaseException | None] | None = None
        self.consumer_tag = ""
        """The consumer tag, known once the ``async with`` block is entered."""

    async def __aenter__(self) -> ConsumerIterator:
        self.consumer_tag = await self._channel._consume(self._method, self._deliver, self._end)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ended is None and self._channel.is_open:
            await self._channel.basic_cancel(self.consumer_tag)

    def __aiter__(self) -> ConsumerIterator:
        return self

    async def __anext__(self) -> Message:
        while not self._buffer:
            if self._ended is not None:
                if self._ended[0] is not None:
                    raise self._ended[0]
                raise StopAsyncIteration
            self._waiter = self._channel.connection.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._buffer.popleft()

    def _deliver(self, msg: Message) -> None:
        self._buffer.append(msg)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _end(self, exc: BaseException | None) -> None:
        self._ended = (exc,)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


__all__ = ["ConsumerIterator"]
