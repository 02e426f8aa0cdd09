"""Background services kept in step with runtime parameters (shovels, federation links).

A service owns workers keyed by what they do. ``reconcile`` (the subclass's) starts,
restarts and stops workers to match the parameters; it runs at start, whenever a vhost's
parameters are saved (``VHostParameters.listeners``) and once a second, which also
notices new vhosts, exchanges and queues.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.parameters import VHostParameters
    from lavinmq.broker.vhost import VHost

RECONCILE_INTERVAL = 1.0


class Worker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


K = TypeVar("K")
W = TypeVar("W", bound=Worker)


class ReconcilingService(Generic[K, W]):
    """Lifecycle shared by the shovel and federation stores."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.workers: dict[K, W] = {}
        self._hooked: dict[str, VHostParameters] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def reconcile(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self.reconcile()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        """Stop watching and stop every worker (a shutdown: nothing upstream is removed)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for params in self._hooked.values():
            with contextlib.suppress(ValueError):
                params.listeners.remove(self._changed)
        workers, self.workers = list(self.workers.values()), {}
        await asyncio.gather(*(w.stop() for w in workers), *self._pending, return_exceptions=True)

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RECONCILE_INTERVAL)
            self._wake.clear()
            self.reconcile()

    def _changed(self, params: VHostParameters) -> None:
        self._wake.set()

    def _hook(self, vhost: VHost) -> None:
        """Reconcile as soon as this vhost's parameters change."""
        params = vhost.parameters
        if self._hooked.get(vhost.name) is not params:
            self._hooked[vhost.name] = params
            params.listeners.append(self._changed)

    def _later(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _replace(self, key: K, worker: W, after: W | None) -> None:
        """Make ``worker`` the one for ``key``; start it once ``after`` has stopped."""
        self.workers[key] = worker
        if after is None:
            worker.start()
            return

        async def restart() -> None:
            await after.stop()
            if self.workers.get(key) is worker:
                worker.start()

        self._later(restart())
