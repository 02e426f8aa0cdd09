"""JSON views of broker objects in RabbitMQ's management API shapes, with rates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lavinmq.http import rates
from lavinmq.http.context import any_json
from lavinmq.stats import Sampler

if TYPE_CHECKING:
    from lavinmq.broker.exchange import Exchange
    from lavinmq.broker.parameters import Policy
    from lavinmq.broker.queue.queue import Queue
    from lavinmq.broker.vhost import VHost

NODE = "lavinmq@localhost"
Age = tuple[int | None, int | None]


def _policy_name(policy: Policy | None) -> str | None:
    return policy.name if policy is not None else None


def queue_view(
    q: Queue, vhost: VHost, sampler: Sampler, age: Age = (None, None), consumers: bool = False
) -> dict[str, Any]:
    data = q.details()
    data["arguments"] = any_json(data["arguments"])
    counts = rates.queue_counts(q)
    series = sampler.series(q)
    full = sampler.details(series, counts, rates.QUEUE_SERIES, *age)
    data["message_stats"] = {
        k: v for k, v in full.items() if k.split("_details")[0] in rates.QUEUE_RATES
    }
    for name in rates.QUEUE_LENGTHS:
        data[f"{name}_details"] = full[f"{name}_details"]
    policy: Policy | None = q.policy
    op = vhost.parameters.effective_operator_policy(q.name, True)
    data.update(
        {
            "type": q.arguments.get("x-queue-type", "classic"),
            "node": NODE,
            "policy": _policy_name(policy),
            "operator_policy": _policy_name(op),
            "effective_policy_definition": {
                **(op.definition if op else {}),
                **(policy.definition if policy else {}),
            },
            "exclusive_consumer_tag": next((c.tag for c in q.consumers if c.exclusive), None),
            "consumer_utilisation": None,
            "messages_paged_out": 0,
            "memory": 0,
        }
    )
    if consumers:
        data["consumer_details"] = [consumer_view(c, q) for c in q.consumers]
    return data


def exchange_view(ex: Exchange, sampler: Sampler, age: Age = (None, None)) -> dict[str, Any]:
    data = ex.details()
    data["arguments"] = any_json(data["arguments"])
    if data["name"] == "":
        data["user_who_performed_action"] = "rmq-internal"
    policy: Policy | None = ex.policy
    data["policy"] = _policy_name(policy)
    data["message_stats"] = sampler.details(
        sampler.series(ex), rates.exchange_counts(ex), rates.EXCHANGE_RATES, *age
    )
    return data


def binding_view(
    vhost: str, source: str, dest: Any, routing_key: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": dest.name,
        "destination_type": "queue" if dest.IS_QUEUE else "exchange",
        "routing_key": routing_key,
        "arguments": any_json(arguments),
        "properties_key": properties_key(routing_key, arguments),
    }


def properties_key(routing_key: str, arguments: dict[str, Any]) -> str:
    """RabbitMQ's binding id in URLs: the routing key, plus a hash of the arguments."""
    from urllib.parse import quote

    key = quote(routing_key, safe="") or "~"
    if arguments:
        import hashlib

        import orjson

        digest = hashlib.sha256(orjson.dumps(any_json(arguments), option=orjson.OPT_SORT_KEYS))
        key += "~" + digest.hexdigest()[:22]
    return key


def vhost_bindings(vhost: VHost) -> list[dict[str, Any]]:
    """Every binding of a vhost, the default exchange's implicit ones first."""
    out = [binding_view(vhost.name, "", q, q.name, {}) for q in vhost.queues.values()]
    for ex in vhost.exchanges.values():
        for dest, rk, args in ex.bindings():
            out.append(binding_view(vhost.name, ex.name, dest, rk, args))
    return out


def consumer_view(consumer: Any, q: Queue) -> dict[str, Any]:
    channel = getattr(consumer, "channel", None)
    details: dict[str, Any] = {}
    if channel is not None:
        conn = channel.conn
        details = {
            "name": f"{conn.name} ({channel.number})",
            "number": channel.number,
            "connection_name": conn.name,
            "peer_host": conn.peer[0],
            "peer_port": conn.peer[1],
            "user": conn.user_name,
        }
    prefetch = int(getattr(consumer, "prefetch", 0))
    return {
        "consumer_tag": consumer.tag,
        "queue": {"name": q.name, "vhost": q.vhost_name},
        "channel_details": details,
        "ack_required": not consumer.no_ack,
        "exclusive": consumer.exclusive,
        "prefetch_count": prefetch,
        "active": True,
        "activity_status": "up",
        "arguments": any_json(getattr(consumer, "arguments", {})),
        "consumer_timeout": None,
    }


def connection_view(conn: Any, sampler: Sampler, age: Age = (None, None)) -> dict[str, Any]:
    data = dict(conn.details())
    data["client_properties"] = any_json(data.get("client_properties", {}))
    names = rates.CHANNEL_RATES + rates.CONNECTION_OCTETS
    full = sampler.details(
        sampler.series(conn), rates.connection_counts(sampler, conn), names, *age
    )
    data["message_stats"] = {
        k: v for k, v in full.items() if k.split("_details")[0] in rates.CHANNEL_RATES
    }
    for name in rates.CONNECTION_OCTETS:
        data[f"{name}_details"] = full[f"{name}_details"]
    return data


def channel_view(ch: Any, sampler: Sampler, age: Age = (None, None)) -> dict[str, Any]:
    data = dict(ch.details())
    data["message_stats"] = sampler.details(
        sampler.series(ch), rates.channel_counts(ch), rates.CHANNEL_RATES, *age
    )
    return data


def vhost_view(vhost: VHost, sampler: Sampler, age: Age = (None, None)) -> dict[str, Any]:
    queues = list(vhost.queues.values())
    ready = sum(q.store.ready for q in queues)
    unacked = sum(q.unacked for q in queues)
    key = ("vhost", vhost.name)
    totals = sampler.total(key) or [0] * len(rates.VHOST_RATES)
    meta = vhost.parameters.metadata
    return {
        "name": vhost.name,
        "description": meta.get("description", ""),
        "tags": meta.get("tags", []),
        "metadata": {"description": meta.get("description", ""), "tags": meta.get("tags", [])},
        "default_queue_type": meta.get("default_queue_type", "classic"),
        "tracing": False,
        "cluster_state": {NODE: "running"},
        "messages": ready + unacked,
        "messages_ready": ready,
        "messages_unacknowledged": unacked,
        "message_stats": sampler.details(
            sampler.total_series(key), totals, rates.VHOST_RATES, *age
        ),
    }


def message_stats_total(sampler: Sampler, age: Age = (None, None)) -> dict[str, Any]:
    totals = sampler.total(rates.TOTAL) or [0] * len(rates.VHOST_RATES)
    return sampler.details(sampler.total_series(rates.TOTAL), totals, rates.VHOST_RATES, *age)
