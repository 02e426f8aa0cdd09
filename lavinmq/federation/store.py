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

import logging
from typing import TYPE_CHECKING, Any

from lavinmq.broker.services import ReconcilingService
from lavinmq.federation.exchange_link import ExchangeLink
from lavinmq.federation.link import Link
from lavinmq.federation.queue_link import QueueLink
from lavinmq.federation.upstream import UPSTREAM, UPSTREAM_SET, Upstream, upstreams_for

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
LinkKey = tuple[str, str, str, str]
"""(vhost, "exchange" or "queue", exchange/queue name, upstream name)"""


class FederationStore(ReconcilingService[LinkKey, Link]):
    """Owns the links; the launcher starts and stops it, the API reads it."""

    NAME = "federation"

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
        for key, link in list(self.workers.items()):
            upstream = wanted.get(key)
            if upstream == link.upstream:
                continue
            del self.workers[key]
            if upstream is None:
                log.info("federation link %s removed", link.label)
                self._later(link.stop(cleanup=True))
            else:
                self._start(key, upstream, after=link)  # settings changed: restart
        for key, upstream in wanted.items():
            if key not in self.workers:
                self._start(key, upstream)

    def _start(self, key: LinkKey, upstream: Upstream, after: Link | None = None) -> None:
        cls = ExchangeLink if key[1] == "exchange" else QueueLink
        self._replace(key, cls(self.broker, key[0], key[2], upstream), after)

    # -- API ----------------------------------------------------------------------------

    def details(self, vhost: str | None = None) -> list[dict[str, Any]]:
        node = self.broker.cluster_name
        return [
            {**link.details(), "node": node}
            for key, link in sorted(self.workers.items())
            if vhost in (None, key[0])
        ]

    def restart(self, vhost: str, link_id: str) -> bool:
        """Restart the link with this id (a new session); False if there is none."""
        for key, link in list(self.workers.items()):
            if key[0] == vhost and link.id == link_id:
                self._start(key, link.upstream, after=link)
                return True
        return False
