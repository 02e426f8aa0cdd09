"""Every vhost's shovels, kept in step with the ``shovel`` runtime parameters.

The parameters are the source of truth (set through the API, definitions import, or read
from disk at boot). ``reconcile`` starts a runner for each new parameter, restarts those
whose value changed and stops the ones deleted; it runs when any vhost's parameters are
saved (``VHostParameters.listeners``) and once a second, which also notices new vhosts.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from lavinmq.broker.services import ReconcilingService
from lavinmq.shovel.config import ShovelConfigError
from lavinmq.shovel.runner import ShovelRunner

if TYPE_CHECKING:
    from lavinmq.broker.broker import Broker

log = logging.getLogger(__name__)
COMPONENT = "shovel"


def resolve_uri(broker: Broker, uri: str) -> str:
    """``amqp://`` without a host means this broker (its ``/`` vhost, or the URI's path).

    Raises:
        ShovelConfigError: when the broker has no AMQP listener to connect to.
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("amqp", "amqps") or parts.hostname:
        return uri
    local = broker.direct_uri(unquote(parts.path[1:]) or "/")
    if not local:
        raise ShovelConfigError("no local AMQP listener for a URI without a host")
    return f"{local}?{parts.query}" if parts.query else local


class ShovelStore(ReconcilingService[tuple[str, str], ShovelRunner]):
    """Owns the runners; the launcher starts and stops it, the API reads it."""

    NAME = "shovels"

    def _wanted(self) -> dict[tuple[str, str], Any]:
        wanted: dict[tuple[str, str], Any] = {}
        for vhost in list(self.broker.vhosts.values()):
            self._hook(vhost)
            for (component, name), value in vhost.parameters.parameters.items():
                if component == COMPONENT:
                    wanted[(vhost.name, name)] = value
        return wanted

    def reconcile(self) -> None:
        """Start, restart and stop runners to match the parameters."""
        wanted = self._wanted()
        for key, runner in list(self.workers.items()):
            if key not in wanted:
                del self.workers[key]
                self._stop_later(runner)
                self._set_paused(key, False)
            elif wanted[key] != runner.value:  # redefined: the new one starts once this stopped
                self._launch(key, wanted[key], after=runner)
        for key, value in wanted.items():
            if key not in self.workers:
                self._launch(key, value)

    def _launch(self, key: tuple[str, str], value: Any, after: ShovelRunner | None = None) -> None:
        runner = ShovelRunner(
            key[0], key[1], value, lambda u: resolve_uri(self.broker, u), self._done
        )
        marker = self._marker(key)
        if marker is not None and marker.exists():  # paused: kept, not started
            runner.hold()
            self.workers[key] = runner
            if after is not None:
                self._stop_later(after)
            return
        self._replace(key, runner, after)

    def _marker(self, key: tuple[str, str]) -> Path | None:
        """Where a paused shovel's marker file goes (LavinMQ keeps one per paused shovel)."""
        vhost = self.broker.vhosts.get(key[0])
        if vhost is None:
            return None
        return vhost.dir / f"shovel.{hashlib.sha1(key[1].encode()).hexdigest()}.paused"

    def _set_paused(self, key: tuple[str, str], paused: bool) -> None:
        marker = self._marker(key)
        if marker is None:
            return
        if paused:
            marker.write_bytes(key[1].encode())
        else:
            marker.unlink(missing_ok=True)

    def _stop_later(self, runner: ShovelRunner) -> None:
        self._later(runner.stop())

    def _done(self, runner: ShovelRunner) -> None:
        """A ``src-delete-after`` shovel finished: delete its parameter, as RabbitMQ."""
        vhost = self.broker.vhosts.get(runner.vhost)
        key = (COMPONENT, runner.name)
        if vhost is not None and self.workers.get((runner.vhost, runner.name)) is runner:
            vhost.parameters.parameters.pop(key, None)
            vhost.parameters.save()

    # -- API ----------------------------------------------------------------------------

    def details(self, vhost: str | None = None) -> list[dict[str, Any]]:
        node = self.broker.cluster_name
        return [
            {**r.details(), "node": node}
            for (v, _), r in sorted(self.workers.items())
            if vhost in (None, v)
        ]

    def get(self, vhost: str, name: str) -> ShovelRunner | None:
        return self.workers.get((vhost, name))

    def pause(self, vhost: str, name: str) -> bool | None:
        """Stop a shovel until ``resume``, across restarts too (its in-flight messages
        are confirmed first). None: no such shovel; False: it is paused already."""
        runner = self.workers.get((vhost, name))
        if runner is None or runner.state == "paused":
            return None if runner is None else False
        self._set_paused((vhost, name), True)
        self._launch((vhost, name), runner.value, after=runner)
        return True

    def resume(self, vhost: str, name: str) -> bool | None:
        """Start a paused shovel again. None: no such shovel; False: it is not paused."""
        runner = self.workers.get((vhost, name))
        if runner is None or runner.state != "paused":
            return None if runner is None else False
        self._set_paused((vhost, name), False)
        self._launch((vhost, name), runner.value)
        return True

    def restart(self, vhost: str, name: str) -> bool:
        """Restart one shovel (a new session, counters reset); False if there is none."""
        runner = self.workers.get((vhost, name))
        if runner is None:
            return False
        self._launch((vhost, name), runner.value, after=runner)
        return True
