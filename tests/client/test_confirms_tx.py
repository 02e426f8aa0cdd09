"""Publisher confirms and transactions against a real broker (``amqp_url``)."""

from __future__ import annotations

import asyncio

import pytest

from lavinmq.client import Channel, ClientError, Connection, PublishNacked
from lavinmq.client.confirms import ConfirmTracker

pytestmark = pytest.mark.usefixtures("loop_errors")


async def test_confirms_sequence_numbers_and_wait(ch: Channel, queue: str) -> None:
    with pytest.raises(ClientError, match="confirm_select"):
        await ch.wait_for_confirms()
    await ch.confirm_select()
    await ch.confirm_select()  # idempotent
    assert [ch.basic_publish(b"c", "", queue) for _ in range(3)] == [1, 2, 3]
    await ch.wait_for_confirms()
    assert ch.unconfirmed == 0
    assert ch.publish_many(b"c", 10, "", queue) == 13


class SpyTracker(ConfirmTracker):
    __slots__ = ("settled",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.settled: list[tuple[int, bool, bool]] = []

    def settle(self, tag: int, multiple: bool, ack: bool) -> None:
        self.settled.append((tag, multiple, ack))
        super().settle(tag, multiple, ack)


async def test_many_confirms(ch: Channel, queue: str) -> None:
    await ch.confirm_select()
    spy = ch._confirms = SpyTracker(asyncio.get_running_loop())
    for _ in range(5):
        ch.publish_many(b"m", 1000, "", queue)
    assert ch.unconfirmed == 5000
    await ch.wait_for_confirms()
    assert ch.unconfirmed == 0
    assert max(tag for tag, _, _ in spy.settled) == 5000
    assert all(ack for _, _, ack in spy.settled)
    # a broker acks such a burst with far fewer frames than messages (``multiple``)
    assert any(multiple for _, multiple, _ in spy.settled)


async def test_publish_confirmed(ch: Channel, queue: str) -> None:
    with pytest.raises(ClientError, match="confirm_select"):
        ch.publish_confirmed(b"x", "", queue)
    await ch.confirm_select()
    results = await asyncio.gather(*(ch.publish_confirmed(b"x", "", queue) for _ in range(5)))
    assert results == [True] * 5
    # unroutable messages are acked too (after a return, when mandatory)
    assert await ch.publish_confirmed(b"x", "amq.direct", "nowhere") is True


async def test_nacks(ch: Channel) -> None:
    args = {"x-max-length": 1, "x-overflow": "reject-publish"}
    name, _, _ = await ch.queue_declare("", exclusive=True, arguments=args)
    await ch.confirm_select()
    assert await ch.publish_confirmed(b"fits", "", name) is True
    assert await ch.publish_confirmed(b"rejected", "", name) is False
    with pytest.raises(PublishNacked, match="1 published message"):
        await ch.wait_for_confirms()
    await ch.wait_for_confirms()  # reported once
    ch.basic_publish(b"rejected too", "", name)
    with pytest.raises(PublishNacked):
        await ch.wait_for_confirms()


async def test_tx_commit_and_rollback(conn: Connection) -> None:
    ch = await conn.channel()
    name, _, _ = await ch.queue_declare("", exclusive=True)
    await ch.tx_select()
    ch.basic_publish(b"rolled back", "", name)
    await ch.tx_rollback()
    assert (await ch.queue_declare(name, passive=True))[1] == 0
    ch.basic_publish(b"committed", "", name)
    await ch.tx_commit()
    assert (await ch.queue_declare(name, passive=True))[1] == 1
    msg = await ch.basic_get(name)
    assert msg is not None and msg.body == b"committed"
    await ch.tx_commit()  # nothing pending; the get's delivery is still unacked
    msg.ack()
    await ch.tx_rollback()  # the ack is undone
    await ch.basic_recover(requeue=True)
    assert (await ch.queue_declare(name, passive=True))[1] == 1
    msg = await ch.basic_get(name)
    assert msg is not None
    msg.ack()
    await ch.tx_commit()
    assert (await ch.queue_declare(name, passive=True))[1] == 0
