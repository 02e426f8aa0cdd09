"""Every vhost's federation links, kept in step with upstreams and policies.

A link exists for each exchange or queue whose effective policy names a
``federation-upstream`` (or a ``federation-upstream-set``, ``all`` meaning every
upstream) and for each of those upstreams. ``reconcile`` runs when parameters or
policies are saved (``VHostParameters.listeners``) and once a second, which notices new
exchanges, queues and vhosts; only vhosts that have upstreams are looked at.

A link whose exchange/queue, policy or upstream is deleted is deleted too (for exchange
links with the queue it made upstream); one whose upstream settings changed is restarted;
at broker shutdown links are only stopped, so upstream queues keep collecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from lavinmq.federation.exchange_link import ExchangeLink
from lavinmq.federation.link import Link
from lavinmq.federation.queue_link import QueueLink
from lavinmq.federation.upstream import UPSTREAM, UPSTREAM_SET, Upstream, upstreams_for

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker
    from lavinmq.broker.parameters import VHostParameters
    from lavinmq.broker.vhost import VHost

log = logging.getLogger(__name__)
RECONCILE_INTERVAL = 1.0
LinkKey = tuple[str, str, str, str]
"""(vhost, "exchange" or "queue", exchange/queue name, upstream name)"""


class FederationStore:
    """Owns the links; the launcher starts and stops it, the API reads it."""

    NAME = "federation"

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.links: dict[LinkKey, Link] = {}
        self._hooked: dict[str, VHostParameters] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self.reconcile()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for params in self._hooked.values():
            with contextlib.suppress(ValueError):
                params.listeners.remove(self._changed)
        links, self.links = list(self.links.values()), {}
        await asyncio.gather(
            *(link.stop() for link in links), *self._pending, return_exceptions=True
        )

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RECONCILE_INTERVAL)
            self._wake.clear()
            self.reconcile()

    def _changed(self, params: VHostParameters) -> None:
        self._wake.set()

    def _hook(self, vhost: VHost) -> None:
        params = vhost.parameters
        if self._hooked.get(vhost.name) is not params:
            self._hooked[vhost.name] = params
            params.listeners.append(self._changed)

    def _wanted(self) -> dict[LinkKey, Upstream]:
        wanted: dict[LinkKey, Upstream] = {}
        for vhost in list(self.broker.vhosts.values()):
            self._hook(vhost)
            params = vhost.parameters.parameters
            upstreams = {n: v for (c, n), v in params.items() if c == UPSTREAM}
            if not upstreams:
                continue
            sets = {n: v for (c, n), v in params.items() if c == UPSTREAM_SET}
            resources: list[tuple[str, Any]] = [
                *(("exchange", ex) for ex in vhost.exchanges.values() if ex.name),
                *(("queue", q) for q in vhost.queues.values()),
            ]
            for kind, entity in resources:
                policy = entity.policy
                if policy is None:
                    continue
                for upstream in upstreams_for(policy.definition, upstreams, sets):
                    wanted[(vhost.name, kind, entity.name, upstream.name)] = upstream
        return wanted

    def reconcile(self) -> None:
        """Start, restart and delete links to match upstreams, policies and entities."""
        wanted = self._wanted()
        for key, link in list(self.links.items()):
            upstream = wanted.get(key)
            if upstream == link.upstream:
                continue
            del self.links[key]
            if upstream is None:
                log.info("federation link %s removed", link.label)
                self._later(link.stop(cleanup=True))
            else:
                self._start(key, upstream, after=link)  # settings changed: restart
        for key, upstream in wanted.items():
            if key not in self.links:
                self._start(key, upstream)

    def _start(self, key: LinkKey, upstream: Upstream, after: Link | None = None) -> None:
        cls = ExchangeLink if key[1] == "exchange" else QueueLink
        link = cls(self.broker, key[0], key[2], upstream)
        self.links[key] = link
        if after is None:
            link.start()
            return

        async def restart() -> None:
            await after.stop()
            if self.links.get(key) is link:
                link.start()

        self._later(restart())

    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # -- API ----------------------------------------------------------------------------

    def details(self, vhost: str | None = None) -> list[dict[str, Any]]:
        node = self.broker.cluster_name
        return [
            {**link.details(), "node": node}
            for key, link in sorted(self.links.items())
            if vhost in (None, key[0])
        ]

    def restart(self, vhost: str, link_id: str) -> bool:
        """Restart the link with this id (a new session); False if there is none."""
        for key, link in list(self.links.items()):
            if key[0] == vhost and link.id == link_id:
                self._start(key, link.upstream, after=link)
                return True
        return False
