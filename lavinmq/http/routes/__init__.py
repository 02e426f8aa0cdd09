"""One ``RouteTableDef`` per resource, in the order they are registered."""

from __future__ import annotations

from aiohttp import web

from lavinmq.http.routes import (
    bindings,
    connections,
    definitions,
    exchanges,
    federation,
    overview,
    parameters,
    permissions,
    policies,
    queues,
    shovels,
    users,
    vhosts,
)

# bindings before queues/exchanges: its /api/queues/{vhost}/{name}/bindings and
# /api/exchanges/{vhost}/{name}/bindings/... must be tried before the generic paths.
ALL: tuple[web.RouteTableDef, ...] = (
    overview.routes,
    users.routes,
    permissions.routes,
    vhosts.routes,
    bindings.routes,
    exchanges.routes,
    queues.routes,
    connections.routes,
    policies.routes,
    parameters.routes,
    definitions.routes,
    shovels.routes,
    federation.routes,
)
