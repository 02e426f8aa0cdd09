"""/api/queues: list, declare, delete, purge (/contents), get messages (/get), and
pause and resume (as LavinMQ)."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from lavinmq.amqp.properties import BasicProperties
from lavinmq.broker.message import RecordView
from lavinmq.broker.queue.queue import Queue
from lavinmq.broker.vhost import VHost
from lavinmq.http.context import (
    age_params,
    any_json,
    broker_of,
    check_perm,
    sampler_of,
    vhost_of,
    visible_vhosts,
)
from lavinmq.http.errors import bad_request, not_found
from lavinmq.http.json import (
    created,
    field,
    json_response,
    no_content,
    optional,
    read_body,
    required,
)
from lavinmq.http.pagination import page
from lavinmq.http.views import queue_view

routes = web.RouteTableDef()
ACK_MODES = ("ack_requeue_true", "ack_requeue_false", "reject_requeue_true", "reject_requeue_false")
ENCODINGS = ("auto", "base64")
MAX_GET = 10_000


def get_queue(vhost: VHost, name: str) -> Queue:
    q = vhost.queues.get(name)
    if q is None:
        raise not_found(f"no queue '{name}' in vhost '{vhost.name}'")
    return q


def _view(q: Queue, request: web.Request, consumers: bool = False) -> dict[str, Any]:
    vhost = broker_of(request).vhosts[q.vhost_name]
    return queue_view(q, vhost, sampler_of(request), age_params(request), consumers)


@routes.get("/api/queues")
async def list_queues(request: web.Request) -> web.Response:
    return page(
        request,
        [_view(q, request) for v in visible_vhosts(request) for q in list(v.queues.values())],
    )


@routes.get("/api/queues/{vhost}")
async def vhost_queues(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    return page(request, [_view(q, request) for q in list(vhost.queues.values())])


@routes.get("/api/queues/{vhost}/{name}")
async def get_queue_route(request: web.Request) -> web.Response:
    q = get_queue(vhost_of(request), request.match_info["name"])
    return json_response(_view(q, request, consumers=True))


@routes.put("/api/queues/{vhost}/{name}")
async def put_queue(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    name = request.match_info["name"]
    body = await read_body(request)
    check_perm(request, vhost.name, "configure", "queue", name)
    arguments = field(body, "arguments", dict, {})
    existed = name in vhost.queues
    vhost.declare_queue(
        name,
        durable=field(body, "durable", bool, False),
        auto_delete=field(body, "auto_delete", bool, False),
        arguments=arguments,
    )
    return no_content() if existed else created()


@routes.delete("/api/queues/{vhost}/{name}")
async def delete_queue(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    q = get_queue(vhost, request.match_info["name"])
    check_perm(request, vhost.name, "configure", "queue", q.name)
    query = request.query
    vhost.delete_queue(q.name, query.get("if-unused") == "true", query.get("if-empty") == "true")
    return no_content()


@routes.delete("/api/queues/{vhost}/{name}/contents")
async def purge_queue(request: web.Request) -> web.Response:
    vhost = vhost_of(request)
    q = get_queue(vhost, request.match_info["name"])
    check_perm(request, vhost.name, "read", "queue", q.name)
    q.purge()
    return no_content()


@routes.put("/api/queues/{vhost}/{name}/pause")
@routes.put("/api/queues/{vhost}/{name}/resume")
async def pause_or_resume_queue(request: web.Request) -> web.Response:
    """LavinMQ's queue pause: no deliveries and no Basic.Get until resumed (204)."""
    vhost = vhost_of(request)
    q = get_queue(vhost, request.match_info["name"])
    check_perm(request, vhost.name, "configure", "queue", q.name)
    if request.path.endswith("/pause"):
        q.pause()
    else:
        q.resume()
    return no_content()


def message_view(
    q: Queue, record: bytes, redelivered: bool, encoding: str, truncate: int | None
) -> dict[str, Any]:
    view = RecordView(record)
    payload = view.body
    size = len(payload)
    if truncate is not None:
        payload = payload[:truncate]
    text: str | None = None
    if encoding == "auto":
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            text = None
    props = BasicProperties.decode(view.properties).to_dict()
    return {
        "payload_bytes": size,
        "redelivered": redelivered,
        "exchange": view.exchange,
        "routing_key": view.routing_key,
        "message_count": q.message_count,
        "properties": any_json(props),
        "payload": text if text is not None else base64.b64encode(payload).decode(),
        "payload_encoding": "string" if text is not None else "base64",
    }


def _get_options(body: dict[str, Any]) -> tuple[int, str, str, int | None]:
    count = required(body, "count", int)
    if not 0 < count <= MAX_GET:
        raise bad_request(f"count must be between 1 and {MAX_GET}")
    mode = field(body, "ackmode", str, field(body, "ack_mode", str, ""))
    if mode not in ACK_MODES:
        raise bad_request(f"ackmode must be one of {', '.join(ACK_MODES)}")
    encoding = field(body, "encoding", str, "auto")
    if encoding not in ENCODINGS:
        raise bad_request("encoding must be auto or base64")
    truncate = optional(body, "truncate", int)
    if truncate is not None and truncate < 0:
        raise bad_request("truncate must be >= 0")
    return count, mode, encoding, truncate


@routes.post("/api/queues/{vhost}/{name}/get")
async def get_messages(request: web.Request) -> web.Response:
    """Basic.Get ``count`` messages, then ack or requeue/reject them all (RabbitMQ order)."""
    vhost = vhost_of(request)
    q = get_queue(vhost, request.match_info["name"])
    check_perm(request, vhost.name, "read", "queue", q.name)
    count, mode, encoding, truncate = _get_options(await read_body(request))
    taken: list[int] = []
    out: list[dict[str, Any]] = []
    try:
        for _ in range(count):
            item = q.get(no_ack=False, force=True)  # paused or not, as LavinMQ
            if item is None:
                break
            pos, record, redelivered = item
            taken.append(pos)
            out.append(message_view(q, record, redelivered, encoding, truncate))
    finally:
        requeue = mode.endswith("_true")
        for pos in taken:
            if mode == "ack_requeue_false":
                q.ack(pos)
            else:
                q.reject(pos, requeue)
    return json_response(out)
