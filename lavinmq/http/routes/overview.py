"""/api/overview, /api/nodes, /api/whoami, /api/extensions, aliveness and health checks."""

from __future__ import annotations

import os
import resource
import sys
import time
from typing import Any

from aiohttp import web

from lavinmq import __version__
from lavinmq.amqp.properties import BasicProperties
from lavinmq.broker.message import RecordView, shortstr
from lavinmq.http.context import (
    age_params,
    broker_of,
    require,
    sampler_of,
    user_of,
    vhost_of,
    visible_vhosts,
)
from lavinmq.http.errors import ApiError, not_found
from lavinmq.http.json import json_response
from lavinmq.http.views import NODE, message_stats_total

routes = web.RouteTableDef()
START = time.time()


def _listeners(request: web.Request) -> list[dict[str, Any]]:
    broker = broker_of(request)
    cfg = broker.config
    out = []
    if cfg.amqp_port >= 0:
        port = broker.listen_ports.get("amqp", cfg.amqp_port)
        out.append({"node": NODE, "protocol": "amqp", "ip_address": cfg.amqp_host, "port": port})
    if cfg.http_port >= 0:
        out.append(
            {
                "node": NODE,
                "protocol": "http",
                "ip_address": cfg.http_host,
                "port": request.url.port or cfg.http_port,
            }
        )
    return out


@routes.get("/api/overview")
async def overview(request: web.Request) -> web.Response:
    broker = broker_of(request)
    return json_response(
        {
            "management_version": __version__,
            "rabbitmq_version": "3.10.8",
            "product_name": "LavinMQ",
            "product_version": __version__,
            "erlang_version": f"Python {sys.version.split()[0]}",
            "cluster_name": broker.global_parameters.values.get("cluster_name", NODE),
            "node": NODE,
            "uptime": int((time.time() - broker.started_at) * 1000),
            "rates_mode": "basic",
            "exchange_types": [
                {"name": n, "description": "", "enabled": True}
                for n in ("direct", "fanout", "topic", "headers")
            ],
            "message_stats": message_stats_total(sampler_of(request), age_params(request)),
            **_totals(request),
            "listeners": _listeners(request),
            "contexts": [
                {
                    "node": NODE,
                    "description": "LavinMQ Management",
                    "path": "/",
                    "port": request.url.port,
                }
            ],
        }
    )


def _totals(request: web.Request) -> dict[str, dict[str, int]]:
    """The overview's queue_totals and object_totals, over the vhosts the user sees."""
    vhosts = visible_vhosts(request)
    queues = [q for v in vhosts for q in v.queues.values()]
    ready = sum(q.store.ready for q in queues)
    unacked = sum(q.unacked for q in queues)
    names = {v.name for v in vhosts}
    conns = [c for c in broker_of(request).connections.values() if c.vhost_name in names]
    return {
        "queue_totals": {
            "messages": ready + unacked,
            "messages_ready": ready,
            "messages_unacknowledged": unacked,
        },
        "object_totals": {
            "connections": len(conns),
            "channels": sum(len(getattr(c, "channels", {})) for c in conns),
            "exchanges": sum(len(v.exchanges) for v in vhosts),
            "queues": len(queues),
            "consumers": sum(q.consumer_count for q in queues),
            # every queue has its binding to the default exchange
            "bindings": sum(ex.binding_count for v in vhosts for ex in v.exchanges.values())
            + len(queues),
        },
    }


def _node(request: web.Request) -> dict[str, Any]:
    broker = broker_of(request)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    return {
        "name": NODE,
        "type": "disc",
        "running": True,
        "uptime": int((time.time() - broker.started_at) * 1000),
        "mem_used": broker.memory_alarm.used or usage.ru_maxrss * 1024,
        "mem_limit": broker.memory_alarm.limit(),
        "mem_alarm": broker.memory_alarm.active,
        "disk_free_alarm": broker.disk_alarm.active,
        "disk_free": max(broker.disk_alarm.free, 0),
        "disk_free_limit": broker.disk_alarm.limit(),
        "fd_used": fds,
        "fd_total": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "proc_used": 1,
        "run_queue": 0,
        "processors": os.cpu_count() or 1,
        "applications": [{"name": "lavinmq", "description": "LavinMQ", "version": __version__}],
        "partitions": [],
        "os_pid": str(os.getpid()),
    }


@routes.get("/api/nodes")
async def nodes(request: web.Request) -> web.Response:
    require(request, "monitoring")
    return json_response([_node(request)])


@routes.get("/api/nodes/{name}")
async def node(request: web.Request) -> web.Response:
    require(request, "monitoring")
    if request.match_info["name"] != NODE:
        raise not_found()
    return json_response(_node(request))


@routes.get("/api/whoami")
async def whoami(request: web.Request) -> web.Response:
    user = user_of(request)
    return json_response({"name": user.name, "tags": list(user.tags)})


@routes.get("/api/extensions")
async def extensions(request: web.Request) -> web.Response:
    return json_response([])


@routes.get("/api/cluster-name")
async def cluster_name(request: web.Request) -> web.Response:
    name = broker_of(request).global_parameters.values.get("cluster_name", NODE)
    return json_response({"name": name})


@routes.get("/api/aliveness-test/{vhost}")
async def aliveness_test(request: web.Request) -> web.Response:
    """Declare ``aliveness-test``, publish to it and get the message back (RabbitMQ's test)."""
    vhost = vhost_of(request)
    q = vhost.declare_queue("aliveness-test")
    body = b"test_message"
    er = shortstr("") + shortstr("aliveness-test")
    vhost.publish_record(
        vhost.route(vhost.default_exchange, "aliveness-test", None),
        er,
        BasicProperties().encode(),
        body,
    )
    item = q.get(no_ack=True)
    if item is None or RecordView(item[1]).body != body:
        raise ApiError(503, "failed", "aliveness test failed")
    return json_response({"status": "ok"})


@routes.get("/api/health/checks/alarms")
@routes.get("/api/health/checks/local-alarms")
async def health_alarms(request: web.Request) -> web.Response:
    """503 with the alarms in effect (disk, memory), as RabbitMQ's check_alarms; this node
    is the whole cluster, so both checks are the same one."""
    alarms = [
        {"node": NODE, "resource": alarm.resource}
        for alarm in broker_of(request).alarms
        if alarm.active
    ]
    if alarms:
        where = "on the node" if request.path.endswith("local-alarms") else "in the cluster"
        reason = f"There are alarms in effect {where}"
        return json_response({"status": "failed", "reason": reason, "alarms": alarms}, 503)
    return json_response({"status": "ok"})


@routes.get("/api/healthchecks/node")
@routes.get("/api/healthchecks/node/{node}")
async def node_health(request: web.Request) -> web.Response:
    """RabbitMQ 3.x's deprecated all-in-one check, still polled by older monitoring
    templates: ok unless a resource alarm is in effect (200 either way, as there)."""
    reasons = [alarm.reason for alarm in broker_of(request).alarms if alarm.active]
    if reasons:
        return json_response(
            {"status": "failed", "reason": "resource alarm: " + ", ".join(reasons)}
        )
    return json_response({"status": "ok"})


@routes.get("/api/health/checks/node-is-quorum-critical")
@routes.get("/api/health/checks/node-is-mirror-sync-critical")
@routes.get("/api/health/checks/certificate-expiration/{within}/{unit}")
@routes.get("/api/health/checks/ready-to-serve-clients")
async def health_ok(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get("/api/health/checks/virtual-hosts")
async def health_vhosts(request: web.Request) -> web.Response:
    down = [v.name for v in broker_of(request).vhosts.values() if v.closed]
    if down:
        return json_response(
            {"status": "failed", "reason": "Some virtual hosts are down", "virtual-hosts": down},
            503,
        )
    return json_response({"status": "ok"})


@routes.get("/api/health/checks/port-listener/{port}")
async def health_port(request: web.Request) -> web.Response:
    raw = request.match_info["port"]
    if not raw.isdigit():
        raise ApiError(400, "bad_request", f"invalid port '{raw}'")
    ports = {int(item["port"]) for item in _listeners(request)}
    if int(raw) not in ports:
        return json_response(
            {
                "status": "failed",
                "reason": f"No active listener on port {raw}",
                "missing": int(raw),
                "ports": sorted(ports),
            },
            503,
        )
    return json_response({"status": "ok", "port": int(raw)})


@routes.get("/api/health/checks/protocol-listener/{protocol}")
async def health_protocol(request: web.Request) -> web.Response:
    protocol = request.match_info["protocol"].lower()
    protocols = {item["protocol"] for item in _listeners(request)}
    if protocol not in protocols:
        return json_response(
            {
                "status": "failed",
                "missing": protocol,
                "reason": f"No active listener for protocol {protocol}",
                "protocols": sorted(protocols),
            },
            503,
        )
    return json_response({"status": "ok", "protocol": protocol})
