"""Publishing, consuming, acknowledgements and returns against a real broker (``amqp_url``)."""

from __future__ import annotations

import asyncio

import pytest

from lavinmq.amqp.errors import NotFound
from lavinmq.client import BasicProperties, Channel, ChannelClosed, Connection, Message, connect
from tests.client.helpers import wait_for

pytestmark = pytest.mark.usefixtures("loop_errors")


async def test_publish_and_get_with_properties(ch: Channel, queue: str) -> None:
    props = BasicProperties(
        content_type="text/plain", headers={"a": 1, "b": "two"}, delivery_mode=2,
        priority=3, correlation_id="corr", reply_to="rq", message_id="id-1", timestamp=1700000000,
    )  # fmt: skip
    assert ch.basic_publish(b"hello", "", queue, props) == 0
    msg = await get(ch, queue)
    assert isinstance(msg, Message)
    assert (msg.body, msg.exchange, msg.routing_key) == (b"hello", "", queue)
    assert msg.properties == props
    assert msg.raw_properties == props.encode()
    assert msg.message_count == 0
    assert msg.delivery_tag == 1 and not msg.redelivered


async def test_get_empty_returns_none(ch: Channel, queue: str) -> None:
    assert await ch.basic_get(queue) is None


async def test_get_message_count_and_raw_property_forwarding(ch: Channel, queue: str) -> None:
    raw = BasicProperties(app_id="forwarder").encode()
    ch.basic_publish(b"1", "", queue, raw)
    ch.basic_publish(b"2", "", queue)
    first = await get(ch, queue, no_ack=True)
    assert first.message_count == 1
    assert first.properties.app_id == "forwarder"
    ch.basic_publish(first.body, "", queue, first.raw_properties)  # forwarded unchanged
    second, third = await get(ch, queue, no_ack=True), await get(ch, queue, no_ack=True)
    assert (second.body, third.body) == (b"2", b"1")
    assert third.raw_properties == raw


async def test_consume_1000_messages_in_order(conn: Connection, queue: str) -> None:
    publisher = await conn.channel()
    for i in range(1000):
        publisher.basic_publish(str(i).encode(), "", queue)
    consumer = await conn.channel()
    bodies: list[bytes] = []
    tag = await consumer.basic_consume(queue, lambda m: bodies.append(m.body), no_ack=True)
    await wait_for(lambda: len(bodies) == 1000)
    assert bodies == [str(i).encode() for i in range(1000)]
    await consumer.basic_cancel(tag)


async def test_consume_with_acks_and_consumer_tag(ch: Channel, queue: str) -> None:
    received: list[Message] = []
    tag = await ch.basic_consume(queue, received.append, consumer_tag="my-tag")
    assert tag == "my-tag"
    ch.publish_many(b"m", 10, "", queue)
    await wait_for(lambda: len(received) == 10)
    assert {m.consumer_tag for m in received} == {"my-tag"}
    assert [m.delivery_tag for m in received] == list(range(1, 11))
    ch.basic_ack(5, multiple=True)
    for msg in received[5:]:
        msg.ack()
    await ch.basic_cancel(tag)
    assert (await ch.queue_declare(queue, passive=True))[1] == 0


async def test_basic_cancel_stops_deliveries(ch: Channel, queue: str) -> None:
    received: list[Message] = []
    tag = await ch.basic_consume(queue, received.append, no_ack=True)
    await ch.basic_cancel(tag)
    ch.basic_publish(b"after cancel", "", queue)
    assert (await get(ch, queue)).body == b"after cancel"
    assert received == []


async def test_consume_iter(ch: Channel, queue: str) -> None:
    ch.publish_many(b"it", 5, "", queue)
    seen = []
    async with ch.consume_iter(queue) as it:
        assert it.consumer_tag
        async for msg in it:
            seen.append(msg.delivery_tag)
            msg.ack()
            if len(seen) == 5:
                break
    assert seen == [1, 2, 3, 4, 5]
    assert (await ch.queue_declare(queue, passive=True))[2] == 0  # cancelled on exit


async def test_reject_nack_and_requeue(ch: Channel, queue: str) -> None:
    ch.basic_publish(b"a", "", queue)
    ch.basic_publish(b"b", "", queue)
    a = await get(ch, queue)
    ch.basic_reject(a.delivery_tag, requeue=True)
    again = await get(ch, queue)
    assert (again.body, again.redelivered) == (b"a", True)
    again.nack(requeue=False)  # dropped
    b = await get(ch, queue)
    ch.basic_nack(b.delivery_tag, multiple=True, requeue=True)
    b2 = await get(ch, queue)
    assert (b2.body, b2.redelivered) == (b"b", True)
    b2.reject(requeue=False)
    assert await ch.basic_get(queue) is None


async def test_basic_recover_redelivers_unacked(ch: Channel, queue: str) -> None:
    received: list[Message] = []
    await ch.basic_consume(queue, received.append)
    ch.publish_many(b"r", 3, "", queue)
    await wait_for(lambda: len(received) == 3)
    await ch.basic_recover(requeue=True)
    await wait_for(lambda: len(received) == 6)
    assert [m.redelivered for m in received[3:]] == [True, True, True]


async def test_qos_limits_unacked_deliveries(ch: Channel, queue: str) -> None:
    await ch.basic_qos(2)
    received: list[Message] = []
    await ch.basic_consume(queue, received.append)
    ch.publish_many(b"q", 5, "", queue)
    await wait_for(lambda: len(received) == 2)
    await asyncio.sleep(0.05)
    assert len(received) == 2
    received[1].ack(multiple=True)
    await wait_for(lambda: len(received) == 4)
    await ch.basic_qos(0, global_=True)


async def test_mandatory_unroutable_message_is_returned(ch: Channel) -> None:
    returned: list[Message] = []
    ch.on_return = returned.append
    props = BasicProperties(message_id="ret")
    ch.basic_publish(b"lost", "amq.direct", "no-such-binding", props, mandatory=True)
    ch.basic_publish(b"dropped", "amq.direct", "no-such-binding")  # not mandatory
    await wait_for(lambda: returned)
    await ch.basic_qos(0)  # a round trip: the second publish would be returned by now
    [msg] = returned
    assert (msg.reply_code, msg.reply_text) == (312, "NO_ROUTE")
    assert (msg.body, msg.exchange, msg.routing_key) == (b"lost", "amq.direct", "no-such-binding")
    assert msg.properties.message_id == "ret"


async def test_a_batch_of_unroutable_mandatory_messages_all_return(ch: Channel) -> None:
    # publish_many writes them in one buffer: the broker reads and routes them as a batch
    returned: list[Message] = []
    ch.on_return = returned.append
    props = BasicProperties(message_id="many")
    ch.publish_many(b"lost", 50, "amq.direct", "no-such-binding", props, mandatory=True)
    await wait_for(lambda: len(returned) == 50)
    assert {(m.reply_code, m.body, m.routing_key) for m in returned} == {
        (312, b"lost", "no-such-binding")
    }
    assert all(m.properties.message_id == "many" for m in returned)


async def test_a_batch_to_a_missing_exchange_closes_the_channel_with_404(
    conn: Connection,
) -> None:
    ch = await conn.channel()
    ch.publish_many(b"x", 20, "no-such-exchange", "k")
    with pytest.raises(ChannelClosed) as info:
        await ch.basic_qos(0)  # the next round trip sees the close
    assert info.value.reply_code == 404 and "no-such-exchange" in info.value.reply_text


async def test_consumer_cancel_notification(conn: Connection) -> None:
    ch = await conn.channel()
    name, _, _ = await ch.queue_declare("", auto_delete=False)
    cancelled: list[str] = []
    ch.on_cancel = cancelled.append
    tag = await ch.basic_consume(name, lambda m: None)
    other = await conn.channel()
    async with ch.consume_iter(name) as it:
        await other.queue_delete(name)
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(it.__anext__(), 5)
    await wait_for(lambda: len(cancelled) == 2)
    assert tag in cancelled and it.consumer_tag in cancelled
    assert ch.is_open


async def test_consumer_iterator_raises_when_the_channel_closes(conn: Connection) -> None:
    ch = await conn.channel()
    name, _, _ = await ch.queue_declare("", exclusive=True)
    async with ch.consume_iter(name) as it:
        with pytest.raises(NotFound):
            await ch.queue_declare(name + "-missing", passive=True)
        with pytest.raises(ChannelClosed):
            await it.__anext__()


@pytest.mark.parametrize("size", [0, 1, 4087, 4088, 4089, 100_000, 1_000_000])
async def test_bodies_larger_than_frame_max(amqp_url: str, size: int) -> None:
    url = amqp_url + ("&" if "?" in amqp_url else "?") + "frame_max=4096"
    async with connect(url) as conn, conn.channel() as ch:
        assert conn.frame_max == 4096
        name, _, _ = await ch.queue_declare("", exclusive=True)
        body = bytes(i % 251 for i in range(size))
        ch.basic_publish(body, "", name)
        assert (await get(ch, name, no_ack=True)).body == body
        received: list[bytes] = []
        await ch.basic_consume(name, lambda m: received.append(m.body), no_ack=True)
        ch.basic_publish(body, "", name)
        await wait_for(lambda: received)
        assert received == [body]


async def get(ch: Channel, queue: str, no_ack: bool = False) -> Message:
    async with asyncio.timeout(5):
        while (msg := await ch.basic_get(queue, no_ack)) is None:  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.002)
    return msg


async def test_a_failing_callback_is_logged_and_consumption_goes_on(
    ch: Channel, queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[bytes] = []

    def callback(msg: Message) -> None:
        received.append(msg.body)
        if msg.body == b"boom":
            raise RuntimeError("consumer bug")

    await ch.basic_consume(queue, callback, no_ack=True)
    ch.basic_publish(b"boom", "", queue)
    ch.basic_publish(b"after", "", queue)
    await wait_for(lambda: len(received) == 2)
    assert received == [b"boom", b"after"]
    assert "callback failed" in caplog.text
    assert "consumer bug" in caplog.text
    assert ch.is_open
