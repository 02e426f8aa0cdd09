"""Dead-lettering: republish a message to the dead-letter exchange with ``x-death``.

RabbitMQ's rules, as LavinMQ implements them:

- the new message keeps its body and properties, minus ``expiration``; its headers get
  an ``x-death`` list (newest first; an entry per queue and reason, with a ``count``),
  and ``x-first-death-reason/queue/exchange`` on the first death;
- it is routed with the dead-letter routing key, or its original routing key and CC;
- it goes straight to the queues the DLX routes to (not through exchange publish), and
  a queue that would see it again for the same automatic reason with no rejection in
  between is skipped (cycle detection).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from lavinmq.amqp.properties import BasicProperties
from lavinmq.broker.message import RecordView, encode_record, shortstr

if TYPE_CHECKING:
    from lavinmq.broker.queue.queue import Queue
    from lavinmq.broker.vhost import VHost

REJECTED = "rejected"
EXPIRED = "expired"
MAXLEN = "maxlen"
DELIVERY_LIMIT = "delivery_limit"


def _cycle(headers: dict[str, Any], queue: str, reason: str) -> bool:
    for death in headers.get("x-death") or ():
        if not isinstance(death, dict):
            continue
        if death.get("reason") == REJECTED:
            return False
        if death.get("queue") == queue and death.get("reason") == reason:
            return True
    return False


def _update_x_death(
    headers: dict[str, Any],
    queue: str,
    reason: str,
    exchange: str,
    routing_keys: list[Any],
    expiration: str | None,
) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    deaths: list[Any] = list(headers.get("x-death") or [])
    for i, death in enumerate(deaths):
        if (
            isinstance(death, dict)
            and death.get("queue") == queue
            and death.get("reason") == reason
        ):
            count = death.get("count")
            death.update(
                {
                    "count": (count if isinstance(count, int) else 0) + 1,
                    "time": now,
                    "routing-keys": routing_keys,
                }
            )
            if expiration is not None:
                death["original-expiration"] = expiration
            deaths.insert(0, deaths.pop(i))
            break
    else:
        death = {
            "count": 1,
            "reason": reason,
            "queue": queue,
            "time": now,
            "exchange": exchange,
            "routing-keys": routing_keys,
        }
        if expiration is not None:
            death["original-expiration"] = expiration
        deaths.insert(0, death)
    headers["x-death"] = deaths


def dead_letter(vhost: VHost, queue: Queue, record: bytes, reason: str) -> int:
    """Republish ``record`` from ``queue`` to its DLX; returns how many queues got it."""
    settings = queue.settings
    dlx_name = settings.dead_letter_exchange
    if dlx_name is None:
        return 0
    dlx = vhost.exchanges.get(dlx_name)
    if dlx is None:
        return 0
    view = RecordView(record)
    props = BasicProperties.decode(view.properties)
    headers = dict(props.headers or {})
    headers.pop("x-dead-letter-exchange", None)
    headers.pop("x-dead-letter-routing-key", None)
    headers.setdefault("x-first-death-reason", reason)
    headers.setdefault("x-first-death-queue", queue.name)
    headers.setdefault("x-first-death-exchange", view.exchange)
    routing_keys: list[Any] = [view.routing_key]
    cc = headers.get("CC")
    if isinstance(cc, list):
        routing_keys.extend(cc)
    _update_x_death(headers, queue.name, reason, view.exchange, routing_keys, props.expiration)
    props.headers = headers
    props.expiration = None
    dlrk = settings.dead_letter_routing_key
    route_keys = [dlrk] if dlrk is not None else [k for k in routing_keys if isinstance(k, str)]
    targets: dict[Queue, None] = {}
    route_headers = {k: v for k, v in headers.items() if k not in ("CC", "BCC")}
    for key in route_keys:
        dlx.route(key, route_headers, targets)
    if not targets:
        return 0
    rk = dlrk if dlrk is not None else view.routing_key
    new = encode_record(shortstr(dlx_name) + shortstr(rk), props.encode(), view.body)
    delivered = 0
    for target in targets:
        if not target.deleted and not _cycle(headers, target.name, reason):
            target.publish_internal(new)
            delivered += 1
    return delivered
