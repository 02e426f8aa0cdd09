"""Exchanges, queues and channel-level errors against a real broker (``amqp_url``)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from lavinmq.amqp.errors import AMQPError, NotFound, PreconditionFailed, SoftError
from lavinmq.client import Channel, ChannelClosed, Connection, Message

pytestmark = pytest.mark.usefixtures("loop_errors")


def unique(prefix: str) -> str:
    return f"test-client-{prefix}-{uuid.uuid4().hex[:8]}"


async def test_exchange_declare_delete_and_passive(ch: Channel) -> None:
    name = unique("x")
    await ch.exchange_declare(name, "fanout", auto_delete=False)
    await ch.exchange_declare(name, "fanout", passive=True)
    await ch.exchange_delete(name)
    with pytest.raises(NotFound):
        await ch.exchange_declare(name, passive=True)


async def test_exchange_redeclare_with_other_type_fails(conn: Connection) -> None:
    ch = await conn.channel()
    name = unique("x")
    await ch.exchange_declare(name, "direct")
    with pytest.raises(PreconditionFailed) as info:
        await ch.exchange_declare(name, "topic")
    assert isinstance(info.value, ChannelClosed)
    cleanup = await conn.channel()
    await cleanup.exchange_delete(name)


async def test_exchange_to_exchange_binding(ch: Channel, queue: str) -> None:
    source, destination = unique("src"), unique("dst")
    await ch.exchange_declare(source, "direct")
    await ch.exchange_declare(destination, "fanout")
    try:
        await ch.exchange_bind(destination, source, "rk")
        await ch.queue_bind(queue, destination)
        ch.basic_publish(b"via e2e", source, "rk")
        ch.basic_publish(b"not routed", source, "other")
        assert (await get_eventually(ch, queue)).body == b"via e2e"
        await ch.exchange_unbind(destination, source, "rk")
        ch.basic_publish(b"after unbind", source, "rk")
        await ch.basic_qos(0)  # a round trip, so the publish has been routed
        assert await ch.basic_get(queue) is None
    finally:
        await ch.exchange_delete(source)
        await ch.exchange_delete(destination)


async def test_queue_declare_bind_unbind_purge_delete(ch: Channel) -> None:
    name = unique("q")
    assert await ch.queue_declare(name, auto_delete=False) == (name, 0, 0)
    await ch.queue_bind(name, "amq.direct", "key")
    for _ in range(3):
        ch.basic_publish(b"m", "amq.direct", "key")
    assert (await ch.queue_declare(name, passive=True))[1] == 3 or await wait_count(ch, name, 3)
    assert await ch.queue_purge(name) == 3
    await ch.queue_unbind(name, "amq.direct", "key")
    ch.basic_publish(b"m", "amq.direct", "key")
    ch.basic_publish(b"direct", "", name)
    await wait_count(ch, name, 1)
    assert await ch.queue_delete(name) == 1


async def test_queue_delete_if_empty_fails_on_a_non_empty_queue(conn: Connection) -> None:
    ch = await conn.channel()
    name, _, _ = await ch.queue_declare("", exclusive=True)
    ch.basic_publish(b"m", "", name)
    await wait_count(ch, name, 1)
    with pytest.raises(PreconditionFailed):
        await ch.queue_delete(name, if_empty=True)


async def test_server_named_queue_and_counts(ch: Channel) -> None:
    name, messages, consumers = await ch.queue_declare("", exclusive=True)
    assert name.startswith("amq.gen-")
    assert (messages, consumers) == (0, 0)
    await ch.basic_consume(name, lambda msg: None)
    assert (await ch.queue_declare(name, passive=True))[2] == 1


async def test_passive_declare_of_a_missing_queue(conn: Connection) -> None:
    ch = await conn.channel()
    missing = unique("missing")
    with pytest.raises(ChannelClosed) as info:
        await ch.queue_declare(missing, passive=True)
    exc = info.value
    assert isinstance(exc, NotFound)
    assert isinstance(exc, SoftError)
    assert (exc.reply_code, exc.class_id, exc.method_id) == (404, 50, 10)
    assert missing in exc.reply_text
    assert not ch.is_open
    # every later call raises the same error, sync or async
    with pytest.raises(NotFound):
        await ch.queue_declare("")
    with pytest.raises(NotFound):
        ch.basic_publish(b"x", routing_key="q")
    with pytest.raises(NotFound):
        ch.basic_ack(1)
    await ch.close()  # closing a closed channel is a no-op
    # the connection and other channels are unaffected
    other = await conn.channel()
    assert (await other.queue_declare("", exclusive=True))[0]


async def test_error_fails_the_pending_call_and_queued_calls(conn: Connection) -> None:
    ch = await conn.channel()
    missing = unique("missing")
    calls = [ch.queue_declare(missing, passive=True), ch.basic_qos(5), ch.queue_declare("")]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, NotFound) for r in results), results


async def test_rpcs_are_serialized_in_order(ch: Channel) -> None:
    names = [unique(f"s{i}") for i in range(20)]
    declared = await asyncio.gather(*(ch.queue_declare(n, exclusive=True) for n in names))
    assert [d[0] for d in declared] == names


async def test_cancelled_rpc_does_not_desynchronize_replies(ch: Channel) -> None:
    first = asyncio.ensure_future(ch.queue_declare(unique("c"), exclusive=True))
    await asyncio.sleep(0)
    first.cancel()
    name = unique("after")
    assert (await ch.queue_declare(name, exclusive=True))[0] == name


async def test_flow(ch: Channel) -> None:
    assert await ch.flow(True) is True
    assert ch.active


async def test_amqp_error_catches_everything(conn: Connection) -> None:
    ch = await conn.channel()
    with pytest.raises(AMQPError):
        await ch.exchange_declare(unique("x"), "no-such-type")


async def get_eventually(ch: Channel, queue: str) -> Message:
    async with asyncio.timeout(5):
        while (msg := await ch.basic_get(queue, no_ack=True)) is None:  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.005)
    return msg


async def wait_count(ch: Channel, queue: str, count: int) -> bool:
    async with asyncio.timeout(5):
        while (await ch.queue_declare(queue, passive=True))[1] != count:  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.005)
    return True
