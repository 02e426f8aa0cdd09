"""Queues whose messages expire in queue order (queue TTL, no per-message expiration,
no delivery limit) take publishes in batches and deliver in runs: the messages at the
head that are past their time are expired first, then a run goes out unchecked. The
expiry timer is cancelled in these tests, so that only the delivery path can expire."""

from __future__ import annotations

import asyncio

import pytest
from pamqp import commands
from pamqp.body import ContentBody

from lavinmq.broker.broker import Broker
from lavinmq.broker.queue.queue import Queue
from lavinmq.storage import MessageStore
from tests.protocol.helpers import connect, marshal, parse, publish, settle

TTL = 50


def stop_expiry_timer(queue: Queue) -> None:
    if queue._expire_handle is not None:
        queue._expire_handle.cancel()
        queue._expire_handle = None


def bodies(data: bytes) -> list[bytes]:
    return [v.value for _, v in parse(data) if isinstance(v, ContentBody)]


async def test_expired_head_is_dead_lettered_and_the_rest_delivered_in_a_run(
    core: Broker,
) -> None:
    proto, transport = await connect(core)
    proto.data_received(
        marshal(
            1,
            commands.Exchange.Declare(exchange="dlx", exchange_type="fanout"),
            commands.Queue.Declare(queue="dead"),
            commands.Queue.Bind(queue="dead", exchange="dlx"),
            commands.Queue.Declare(
                queue="ttl", arguments={"x-message-ttl": TTL, "x-dead-letter-exchange": "dlx"}
            ),
        )
    )
    await settle()
    queue = core.vhosts["/"].queues["ttl"]
    assert queue.accepts_batches
    proto.data_received(b"".join(publish(1, "ttl", b"old%d" % i) for i in range(50)))
    await settle()
    stop_expiry_timer(queue)
    await asyncio.sleep(TTL * 2 / 1000)
    proto.data_received(b"".join(publish(1, "ttl", b"new%d" % i) for i in range(5)))
    stop_expiry_timer(queue)  # it would expire the head now
    await settle()
    assert queue.message_count == 55, "nothing expired yet: the timer is off"
    transport.take()
    proto.data_received(marshal(1, commands.Basic.Consume(queue="ttl", no_ack=True)))
    await settle(5)
    assert bodies(transport.take()) == [b"new%d" % i for i in range(5)]
    assert core.vhosts["/"].queues["dead"].message_count == 50


async def test_a_priority_queue_with_ttl_checks_every_message(core: Broker) -> None:
    # A newer high-priority message is the head: an expired older one is behind it.
    proto, transport = await connect(core)
    proto.data_received(
        marshal(
            1,
            commands.Queue.Declare(
                queue="prio", arguments={"x-message-ttl": TTL, "x-max-priority": 5}
            ),
        )
    )
    await settle()
    queue = core.vhosts["/"].queues["prio"]
    proto.data_received(
        publish(1, "prio", b"low", properties=commands.Basic.Properties(priority=0))
    )
    await settle()
    stop_expiry_timer(queue)
    await asyncio.sleep(TTL * 2 / 1000)
    high = commands.Basic.Properties(priority=5)
    proto.data_received(publish(1, "prio", b"high", properties=high))
    stop_expiry_timer(queue)
    await settle()
    transport.take()
    proto.data_received(marshal(1, commands.Basic.Consume(queue="prio", no_ack=True)))
    await settle(5)
    assert bodies(transport.take()) == [b"high"]
    assert queue.message_count == 0


async def test_without_ttl_the_head_is_not_peeked(
    core: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue with rules but no TTL (here single active consumer) delivers in runs
    too, without reading its head for an expiry check (a copy of the record each
    delivery loop)."""
    proto, transport = await connect(core)
    proto.data_received(
        marshal(1, commands.Queue.Declare(queue="dl", arguments={"x-single-active-consumer": True}))
    )
    await settle()
    monkeypatch.setattr(MessageStore, "peek", lambda self: pytest.fail("peeked"))
    proto.data_received(b"".join(publish(1, "dl", b"m%d" % i) for i in range(20)))
    proto.data_received(marshal(1, commands.Basic.Consume(queue="dl", no_ack=True)))
    await settle(5)
    assert bodies(transport.take()) == [b"m%d" % i for i in range(20)]
