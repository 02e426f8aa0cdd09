"""Server: status, cluster_status (/api/overview, /api/nodes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

from lavinmqctl.client import CtlError
from lavinmqctl.options import resource_app
from lavinmqctl.session import session

PANEL = "Server"
app = resource_app()

OBJECT_TOTALS = ("connections", "channels", "consumers", "exchanges", "queues", "bindings")
QUEUE_TOTALS = (
    ("Messages", "messages"),
    ("Messages_ready", "messages_ready"),
    ("Messages_unacked", "messages_unacknowledged"),
)


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def status_record(overview: Mapping[str, Any]) -> dict[str, Any]:
    """The fields (and names) LavinMQ's ``lavinmqctl status`` shows."""
    version = (
        overview.get("lavinmq_version")
        or overview.get("product_version")
        or overview.get("rabbitmq_version")
    )
    record: dict[str, Any] = {
        "Version": version,
        "Node": overview.get("node"),
        "Uptime": overview.get("uptime"),
    }
    for key in OBJECT_TOTALS:
        record[key.capitalize()] = _get(overview, "object_totals", key)
    for label, key in QUEUE_TOTALS:
        record[label] = _get(overview, "queue_totals", key)
    return record


@app.command("status", rich_help_panel=PANEL)
def status(ctx: typer.Context) -> None:
    """Display server status."""
    sess = session(ctx)
    overview = sess.api.get("/api/overview")
    if not isinstance(overview, dict):
        raise CtlError("unexpected response from /api/overview")
    sess.record(status_record(overview))


@app.command("cluster_status", rich_help_panel=PANEL)
def cluster_status(ctx: typer.Context) -> None:
    """Display cluster status (a single node for now)."""
    sess = session(ctx)
    nodes = sess.api.get_list("/api/nodes")
    if not nodes:
        raise CtlError("the API reported no nodes")
    node = nodes[0]
    apps = node.get("applications") or [{}]
    sess.record(
        {
            "this_node": node.get("name"),
            "version": apps[0].get("version"),
            "running": node.get("running"),
            "followers": node.get("followers", []),
        }
    )
