"""Publisher-confirm bookkeeping for one channel.

Confirms must cost nothing per message when nobody waits on a single one, so the
tracker does not keep a set of outstanding sequence numbers. It keeps ``low``, the
smallest number not yet settled (everything below it is acked or nacked), plus a set of
the numbers above ``low`` that were settled out of order by single acks. RabbitMQ
mostly sends ``multiple`` acks, so that set is usually empty. Futures exist only for
messages published through ``publish_confirmed`` and for ``wait_for_confirms`` callers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from lavinmq.client.errors import PublishNacked


class ConfirmTracker:
    """Tracks sequence numbers of published messages and the broker's acks/nacks."""

    __slots__ = (
        "_idle",
        "_loop",
        "_low",
        "_nacked",
        "_order",
        "_out_of_order",
        "_waiters",
        "published",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.published = 0
        """The sequence number of the last published message."""
        self._low = 1
        self._out_of_order: set[int] = set()
        self._nacked = 0
        self._waiters: dict[int, asyncio.Future[bool]] = {}
        self._order: deque[int] = deque()
        self._idle: list[asyncio.Future[None]] = []

    @property
    def outstanding(self) -> int:
        """How many published messages are neither acked nor nacked yet."""
        return self.published - (self._low - 1) - len(self._out_of_order)

    def waiter(self, seq: int) -> asyncio.Future[bool]:
        """A future for message ``seq``: True when acked, False when nacked."""
        fut: asyncio.Future[bool] = self._loop.create_future()
        self._waiters[seq] = fut
        self._order.append(seq)
        return fut

    def settle(self, tag: int, multiple: bool, ack: bool) -> None:
        """Apply a Basic.Ack (``ack``) or Basic.Nack from the broker."""
        before = self.outstanding
        low = self._low
        ooo = self._out_of_order
        if multiple:
            if tag >= low:
                low = tag + 1
                if ooo:
                    ooo.difference_update([t for t in ooo if t <= tag])
        elif tag == low:
            low += 1
        elif tag > low:
            ooo.add(tag)
        while ooo and low in ooo:
            ooo.remove(low)
            low += 1
        self._low = low
        if not ack:
            self._nacked += before - self.outstanding
        if self._waiters:
            self._resolve(tag, multiple, ack)
        if self._idle and self.outstanding == 0:
            self._wake_idle()

    def _resolve(self, tag: int, multiple: bool, ack: bool) -> None:
        waiters, order = self._waiters, self._order
        if not multiple:
            fut = waiters.pop(tag, None)
            if fut is not None and not fut.done():
                fut.set_result(ack)
        else:
            while order and order[0] <= tag:
                fut = waiters.pop(order.popleft(), None)
                if fut is not None and not fut.done():
                    fut.set_result(ack)
        # single acks leave their sequence numbers behind in ``order``: drop them lazily
        while order and order[0] not in waiters:
            order.popleft()

    def _wake_idle(self) -> None:
        idle, self._idle = self._idle, []
        for fut in idle:
            if not fut.done():
                fut.set_result(None)

    async def wait(self) -> None:
        """Wait until every published message is settled.

        Raises:
            PublishNacked: when messages were nacked since the previous ``wait``.
        """
        if self.outstanding:
            fut: asyncio.Future[None] = self._loop.create_future()
            self._idle.append(fut)
            await fut
        nacked, self._nacked = self._nacked, 0
        if nacked:
            raise PublishNacked(f"{nacked} published message(s) were nacked by the broker")

    async def wait_below(self, limit: int) -> None:
        """Wait until fewer than ``limit`` published messages are unsettled.

        One future, on the oldest unsettled message, per wakeup: a publisher that keeps
        ``limit`` messages in flight pays nothing per message.
        """
        while self.outstanding >= limit:
            await self.waiter(self._low)

    def fail(self, make_exc: Callable[[], BaseException]) -> None:
        """The channel closed: fail every waiter with a fresh exception from ``make_exc``."""
        futures: list[asyncio.Future[bool]] | list[asyncio.Future[None]]
        for futures in (list(self._waiters.values()), self._idle):
            for fut in futures:
                if not fut.done():
                    fut.set_exception(make_exc())
        self._waiters.clear()
        self._order.clear()
        self._idle = []


__all__ = ["ConfirmTracker"]
