"""A publisher to a queue whose consumers wait for their own acks is read in short
slices (``Reading.read_less``), so that those consumers get their round trips: with
prefetch 1000 and an ack per message they were starved to 78k msgs/s by a publisher
handing in 512 KiB per loop iteration."""

from __future__ import annotations

import pytest
from pamqp import commands

from lavinmq.broker.broker import Broker
from lavinmq.broker.queue import delivery
from lavinmq.broker.queue.delivery import FLOW_BACKLOG
from lavinmq.server.protocol import AMQPProtocol
from lavinmq.server.reading import READ_SHORT, READ_SIZE
from tests.protocol.helpers import MockTransport, connect, marshal, publish, settle

BACKLOG = FLOW_BACKLOG + 100


def burst(count: int) -> bytes:
    return b"".join(publish(1, "gated", b"m") for _ in range(count))


async def prefetch_consumer(core: Broker, no_ack: bool) -> tuple[AMQPProtocol, MockTransport]:
    """A connection consuming queue ``gated`` with prefetch 10."""
    consumer, transport = await connect(core)
    consumer.data_received(
        marshal(
            1,
            commands.Queue.Declare(queue="gated"),
            commands.Basic.Qos(prefetch_count=10),
            commands.Basic.Consume(queue="gated", no_ack=no_ack),
        )
    )
    return consumer, transport


async def test_publisher_reads_less_while_consumers_wait_for_acks(core: Broker) -> None:
    consumer, ctransport = await prefetch_consumer(core, no_ack=False)
    producer, ptransport = await connect(core)
    await settle()
    queue = core.vhosts["/"].queues["gated"]
    producer.data_received(burst(BACKLOG))
    await settle()
    assert queue.ack_gated, "a backlog, and the consumer's 10 unacked fill its prefetch"
    assert len(producer.get_buffer(-1)) == READ_SIZE  # that publish came before

    producer.data_received(burst(10))
    assert len(producer.get_buffer(-1)) == READ_SHORT
    assert ptransport.read_paused, "the read was the last of this loop iteration"
    await settle()
    assert not ptransport.read_paused
    assert len(producer.get_buffer(-1)) == READ_SHORT, "short until an iteration without"

    # The consumer catches up: acks until the backlog is gone, and the queue lets go.
    while queue.message_count > FLOW_BACKLOG:
        consumer.data_received(marshal(1, commands.Basic.Ack(delivery_tag=0, multiple=True)))
        await settle()
    assert not queue.ack_gated
    # The next short slice's publishes reach no such queue: full reads again after it.
    producer.data_received(burst(READ_SHORT // 40))
    assert ptransport.read_paused
    await settle(3)
    assert len(producer.get_buffer(-1)) == READ_SIZE
    ctransport.take()


async def test_no_ack_consumers_and_queues_without_backlog_do_not_gate(core: Broker) -> None:
    await prefetch_consumer(core, no_ack=True)
    producer, _ = await connect(core)
    await settle()
    producer.data_received(burst(BACKLOG))
    await settle()
    queue = core.vhosts["/"].queues["gated"]
    assert not queue.ack_gated
    producer.data_received(burst(10))
    assert len(producer.get_buffer(-1)) == READ_SIZE


@pytest.mark.parametrize("arguments", [{}, {"x-message-ttl": 60000}], ids=["plain", "ttl"])
async def test_a_basic_get_poller_gates_publishers_while_it_polls(
    core: Broker, monkeypatch: pytest.MonkeyPatch, arguments: dict[str, int]
) -> None:
    poller, _ = await connect(core)
    poller.data_received(marshal(1, commands.Queue.Declare(queue="gated", arguments=arguments)))
    producer, _ = await connect(core)
    await settle()
    producer.data_received(burst(BACKLOG))
    await settle()
    queue = core.vhosts["/"].queues["gated"]
    assert not queue.ack_gated, "nobody takes messages yet"
    poller.data_received(marshal(1, commands.Basic.Get(queue="gated", no_ack=True)))
    await settle()
    assert queue.ack_gated
    producer.data_received(burst(10))
    assert len(producer.get_buffer(-1)) == READ_SHORT
    await settle()
    monkeypatch.setattr(delivery, "POLL_IDLE", 0.0)  # the poller went quiet
    producer.data_received(burst(1))
    assert not queue.ack_gated
