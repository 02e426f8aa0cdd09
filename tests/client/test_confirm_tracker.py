"""ConfirmTracker bookkeeping without a broker: multiple, out-of-order and nacks."""

from __future__ import annotations

import asyncio

import pytest

from lavinmq.client import ChannelClosed, PublishNacked
from lavinmq.client.confirms import ConfirmTracker


async def test_multiple_ack_settles_everything_up_to_the_tag() -> None:
    tracker = ConfirmTracker(asyncio.get_running_loop())
    tracker.published = 10
    tracker.settle(4, multiple=True, ack=True)
    assert tracker.outstanding == 6
    tracker.settle(10, multiple=True, ack=True)
    assert tracker.outstanding == 0
    await tracker.wait()


async def test_out_of_order_single_acks() -> None:
    tracker = ConfirmTracker(asyncio.get_running_loop())
    tracker.published = 5
    for tag in (3, 5, 2):
        tracker.settle(tag, multiple=False, ack=True)
    assert tracker.outstanding == 2
    tracker.settle(1, multiple=False, ack=True)
    assert tracker.outstanding == 1
    tracker.settle(4, multiple=False, ack=True)
    assert tracker.outstanding == 0


async def test_waiters_resolve_with_ack_or_nack() -> None:
    tracker = ConfirmTracker(asyncio.get_running_loop())
    tracker.published = 4
    futures = [tracker.waiter(seq) for seq in range(1, 5)]
    tracker.settle(2, multiple=False, ack=False)
    tracker.settle(3, multiple=True, ack=True)
    tracker.settle(4, multiple=False, ack=True)
    assert [f.result() for f in futures] == [True, False, True, True]
    with pytest.raises(PublishNacked, match="1 published"):
        await tracker.wait()
    await tracker.wait()  # the nack was reported once


async def test_wait_blocks_until_settled_and_fail_wakes_it() -> None:
    tracker = ConfirmTracker(asyncio.get_running_loop())
    tracker.published = 2
    waiting = asyncio.ensure_future(tracker.wait())
    await asyncio.sleep(0)
    tracker.settle(1, multiple=False, ack=True)
    await asyncio.sleep(0)
    assert not waiting.done()
    tracker.fail(lambda: ChannelClosed(406, "PRECONDITION_FAILED - x"))
    with pytest.raises(ChannelClosed):
        await waiting
