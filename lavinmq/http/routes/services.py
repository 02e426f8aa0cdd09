"""What the shovel and federation status endpoints share.

The HTTP layer does not import ``lavinmq.shovel`` or ``lavinmq.federation``: the launcher
registers their stores in ``broker.services``, and these endpoints only need this much.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from aiohttp import web

from lavinmq.http.context import broker_of, visible_vhosts


class ServiceStatus(Protocol):
    """What the API needs of a ``ShovelStore`` or a ``FederationStore``."""

    def details(self, vhost: str | None = None) -> list[dict[str, Any]]: ...

    def restart(self, vhost: str, key: str) -> bool: ...


def service(request: web.Request, name: str) -> ServiceStatus | None:
    """The store registered as ``broker.services[name]``, if the launcher started one."""
    return cast(ServiceStatus | None, broker_of(request).services.get(name))


def service_rows(request: web.Request, name: str, vhost: str | None) -> list[dict[str, Any]]:
    """The store's status rows for ``vhost`` (all when None) the user may see."""
    store = service(request, name)
    if store is None:
        return []
    names = {v.name for v in visible_vhosts(request)}
    return [row for row in store.details(vhost) if row["vhost"] in names]
