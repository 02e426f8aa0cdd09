"""Crash recovery: kill -9 the broker at random moments, restart it, lose nothing confirmed.

Every cycle starts a real broker process on the same data directory; several publisher
connections publish persistent messages with confirms to a durable queue while a consumer
drains it with acks made certain by a transaction (Tx.CommitOk means the acks reached the
broker); then the broker gets SIGKILL at a random moment. Every delivery is checked as it
arrives and a final drain checks that nothing confirmed was lost:

- every confirmed message is delivered (in some incarnation);
- no message is delivered after its ack was committed;
- a message delivered before a crash and not acked comes back, flagged redelivered;
- no message is delivered twice without the redelivered flag;
- nothing that was never published is delivered.

``LAVINMQ_CRASH_CYCLES`` and ``LAVINMQ_CRASH_SEED`` override the cycle count and the seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiormq
import pytest
from pamqp.commands import Basic

from tests.durability.helpers import BrokerProcess

QUEUE = "crash-test"
PUBLISHERS = 3
WINDOW = 64  # unconfirmed publishes in flight per publisher
PERSISTENT = Basic.Properties(delivery_mode=2)
LARGE_PAD = 3000  # bytes: above the store's PWRITE_MIN
HUGE_PAD = 70_000  # above the codec's LARGE_MIN: a RecordBuffer and an oversized segment
CYCLES = int(os.environ.get("LAVINMQ_CRASH_CYCLES", "24"))
SEED = int(os.environ.get("LAVINMQ_CRASH_SEED", str(int(time.time()))))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def make_body(tag: str, seq: int) -> bytes:
    # Every third one is large: runs of those take the store's pwritev path; every 40th
    # is huge: assembled in a RecordBuffer, the record built around it.
    if seq % 40 == 0:
        return tag.encode() + b"#" * HUGE_PAD
    return tag.encode() + (b"." * LARGE_PAD if seq % 3 == 0 else b"")


def key_of(body: bytes, ledger: Ledger, incarnation: int) -> bytes:
    """The ledger keeps the tags (not 70 KB bodies); a body that is not exactly what was
    published for its tag is a violation."""
    tag = body.rstrip(b".#")
    seq = int(tag.rsplit(b"-", 1)[1])
    if body != make_body(tag.decode(), seq):
        ledger.violations.append(f"#{incarnation}: {tag!r} arrived corrupted ({len(body)} B)")
    return tag


@dataclass
class Ledger:
    """What the clients know for sure, and every violation seen."""

    published: set[bytes] = field(default_factory=set)  # sent (maybe not confirmed)
    confirmed: set[bytes] = field(default_factory=set)  # Basic.Ack received
    nacked: set[bytes] = field(default_factory=set)
    seen: set[bytes] = field(default_factory=set)  # delivered at least once
    first_seen: set[bytes] = field(default_factory=set)  # delivered with redelivered=False
    acked: set[bytes] = field(default_factory=set)  # ack committed (Tx.CommitOk received)
    unacked: set[bytes] = field(default_factory=set)  # delivered in this incarnation, no ack sent
    must_return: set[bytes] = field(default_factory=set)  # unacked at a crash
    delivered_before: set[bytes] = field(default_factory=set)  # in an earlier incarnation
    violations: list[str] = field(default_factory=list)
    deliveries = 0
    redeliveries = 0

    def on_delivery(self, body: bytes, redelivered: bool, incarnation: int) -> None:
        self.deliveries += 1
        if body not in self.published:
            self.violations.append(f"#{incarnation}: {body!r} was never published")
        if body in self.acked:
            self.violations.append(f"#{incarnation}: {body!r} delivered again after its ack")
        if body in self.delivered_before and not redelivered:
            self.violations.append(
                f"#{incarnation}: {body!r} delivered before a crash, "
                "now without the redelivered flag"
            )
        if not redelivered:
            if body in self.first_seen:
                self.violations.append(
                    f"#{incarnation}: {body!r} delivered twice without the redelivered flag"
                )
            self.first_seen.add(body)
        else:
            self.redeliveries += 1
        self.must_return.discard(body)
        self.seen.add(body)
        self.unacked.add(body)

    def on_crash(self) -> None:
        self.must_return |= self.unacked
        self.delivered_before |= self.seen
        self.unacked = set()


async def publisher(url: str, name: str, ledger: Ledger, stop: asyncio.Event) -> None:
    """Publish persistent messages with confirms, WINDOW at a time, until the broker dies."""
    conn = await aiormq.connect(url)
    try:
        ch = await conn.channel(publisher_confirms=True)
        seq = 0
        while not stop.is_set():
            bodies = []
            for _ in range(random.randint(1, WINDOW)):
                seq += 1
                bodies.append(make_body(f"{name}-{seq}", seq))
            tags = [body.rstrip(b".#") for body in bodies]
            ledger.published.update(tags)
            # Concurrent publishes reach the broker back to back (its batched path);
            # a window of 1 takes the one-by-one path.
            results = await asyncio.gather(
                *(ch.basic_publish(b, routing_key=QUEUE, properties=PERSISTENT) for b in bodies),
                return_exceptions=True,
            )
            for tag, result in zip(tags, results, strict=True):
                if isinstance(result, Basic.Ack):
                    ledger.confirmed.add(tag)
                elif isinstance(result, aiormq.exceptions.DeliveryError):
                    ledger.nacked.add(tag)
            if any(isinstance(r, BaseException) for r in results):
                return
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), 1)


async def consumer(
    url: str, ledger: Ledger, incarnation: int, stop: asyncio.Event, batch: int
) -> None:
    """Consume with manual acks; acks are committed (Tx) in batches of about ``batch``."""
    conn = await aiormq.connect(url)
    try:
        ch = await conn.channel(publisher_confirms=False)
        await ch.basic_qos(prefetch_count=4 * batch)
        await ch.tx_select()
        pending: list[tuple[int, bytes]] = []
        arrived = asyncio.Event()

        async def on_message(msg: aiormq.abc.DeliveredMessage) -> None:
            tag = key_of(msg.body, ledger, incarnation)
            ledger.on_delivery(tag, bool(msg.delivery.redelivered), incarnation)
            pending.append((msg.delivery.delivery_tag, tag))
            arrived.set()

        await ch.basic_consume(QUEUE, on_message)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), 0.05)
            arrived.clear()
            if not pending:
                continue
            take, pending[:] = pending[:batch], pending[batch:]
            for _, body in take:
                ledger.unacked.discard(body)  # sent: from now on it may or may not return
            await ch.basic_ack(take[-1][0], multiple=True)
            await ch.tx_commit()
            ledger.acked.update(body for _, body in take)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), 1)


async def declare(url: str) -> None:
    conn = await aiormq.connect(url)
    ch = await conn.channel()
    await ch.queue_declare(QUEUE, durable=True)
    await conn.close()


async def run_cycle(
    broker: BrokerProcess, ledger: Ledger, incarnation: int, rng: random.Random
) -> None:
    broker.start()
    stop = asyncio.Event()
    tasks = [
        asyncio.ensure_future(publisher(broker.url, f"c{incarnation}p{i}", ledger, stop))
        for i in range(PUBLISHERS)
    ]
    if rng.random() < 0.85:
        batch = rng.choice((1, 10, 50))
        tasks.append(asyncio.ensure_future(consumer(broker.url, ledger, incarnation, stop, batch)))
    # Sometimes very early (clients still connecting), mostly mid-traffic.
    await asyncio.sleep(rng.choice((0.05, rng.uniform(0.2, 1.2))))
    broker.kill()
    stop.set()
    await asyncio.wait(tasks, timeout=5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ledger.on_crash()


async def drain(broker: BrokerProcess, ledger: Ledger, incarnation: int) -> None:
    """Consume and ack everything left; the queue must end up empty."""
    conn = await aiormq.connect(broker.url)
    ch = await conn.channel(publisher_confirms=False)
    await ch.tx_select()
    left = (await ch.queue_declare(QUEUE, durable=True, passive=True)).message_count
    deadline = time.monotonic() + 60
    while True:
        msg = await ch.basic_get(QUEUE)
        if msg.delivery_tag is None:  # Basic.GetEmpty
            break
        tag = key_of(msg.body, ledger, incarnation)
        ledger.on_delivery(tag, bool(msg.delivery.redelivered), incarnation)
        await ch.basic_ack(msg.delivery_tag)
        left -= 1
        if left % 500 == 0 or time.monotonic() > deadline:
            await ch.tx_commit()
    await ch.tx_commit()
    assert (await ch.queue_declare(QUEUE, durable=True, passive=True)).message_count == 0
    await conn.close()


async def test_kill_9_loses_no_confirmed_message(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    random.seed(SEED)
    # Small segments: the cycles cross many segment rolls and whole-segment deletions.
    broker = BrokerProcess(tmp_path, ini={"main": {"segment_size": 64 * 1024}})
    ledger = Ledger()
    started = time.monotonic()
    try:
        broker.start()
        await declare(broker.url)
        broker.kill()
        for incarnation in range(1, CYCLES + 1):
            await run_cycle(broker, ledger, incarnation, rng)
            assert not ledger.violations, (SEED, ledger.violations[:10])
        broker.start()
        await drain(broker, ledger, CYCLES + 1)
        assert broker.terminate() == 0
    finally:
        broker.close()
    elapsed = time.monotonic() - started
    lost = ledger.confirmed - ledger.seen
    print(
        f"\ncrash test: seed {SEED}, {CYCLES} kill cycles in {elapsed:.1f} s, "
        f"{len(ledger.published)} published, {len(ledger.confirmed)} confirmed, "
        f"{ledger.deliveries} deliveries ({ledger.redeliveries} redelivered), "
        f"{len(ledger.acked)} acks committed"
    )
    assert not ledger.violations, (SEED, ledger.violations[:10])
    assert not lost, (SEED, f"{len(lost)} confirmed messages lost", sorted(lost)[:10])
    assert not ledger.must_return, (
        SEED,
        "unacked messages not redelivered",
        sorted(ledger.must_return)[:10],
    )
    assert not ledger.nacked, (SEED, f"{len(ledger.nacked)} publishes nacked")
    assert len(ledger.confirmed) > 100 * CYCLES // 4, "too little traffic to prove anything"
    assert ledger.redeliveries > 0
