"""Memory regressions, measured with tracemalloc in-process (the RSS figures of a real
broker are in ``make bench``): queue length costs disk, not RAM; an idle queue stays
around 1 KB; fresh stores share their empty containers safely."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lavinmq.broker.broker import Broker
from lavinmq.broker.message import encode_record
from lavinmq.config import Config
from lavinmq.storage import MessageStore


def allocated_by(fn: Callable[[], object]) -> int:
    """Bytes still allocated after ``fn`` ran (what it keeps alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        keep = fn()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    del keep
    return sum(s.size_diff for s in after.compare_to(before, "filename"))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    loop = asyncio.new_event_loop()
    b = Broker(Config(data_dir=str(tmp_path / "data")), loop)
    b.start()
    yield b
    b.close()
    loop.close()


def test_queued_messages_cost_no_ram(broker: Broker) -> None:
    vhost = broker.vhosts["/"]
    q = vhost.declare_queue("long", durable=True)
    record = encode_record(b"\x00\x04long", b"\x10\x00\x02", b"0123456789abcdef")
    q.publish(record)  # first segment mapped, files open

    def publish() -> None:
        q.publish_many([record] * 1000)
        for _ in range(200):
            q.publish_many([record] * 1000)

    grown = allocated_by(publish)
    assert q.store.count == 201_001
    assert grown < 64 * 1024, f"{grown} bytes kept for 200,000 queued messages"


def test_idle_queues_cost_under_a_kilobyte(broker: Broker) -> None:
    vhost = broker.vhosts["/"]
    for i in range(100):  # warm up dict sizes and caches
        vhost.declare_queue(f"warm{i}")
    names = [f"queue-{i:06d}" for i in range(5000)]  # the names are the caller's

    def declare() -> None:
        for name in names:
            vhost.declare_queue(name)

    per_queue = allocated_by(declare) / len(names)
    assert per_queue < 770, f"{per_queue:.0f} bytes per idle queue"  # 763 measured


def test_fresh_stores_do_not_share_state(tmp_path: Path) -> None:
    a = MessageStore(tmp_path / "a", segment_size=4096)
    b = MessageStore(tmp_path / "b", segment_size=4096)
    pos = a.push(b"one")
    assert (a.count, b.count) == (1, 0)
    assert b.shift() is None
    item = a.shift()
    assert item is not None and item[1] == b"one"
    a.requeue(pos)
    assert b.peek() is None
    item = a.shift()
    assert item is not None and item[2] is True
    a.ack(pos)
    b.push(b"two")
    a.flush()
    b.flush()
    assert [p.name for p in sorted((tmp_path / "b").iterdir())] == ["msgs.0000000001"]
    c = MessageStore(tmp_path / "c", segment_size=4096)
    assert c.count == 0 and c.shift() is None and c.purge() == 0
    c.delete()
    d = MessageStore(tmp_path / "d", segment_size=4096)
    d.push(b"three")
    assert (b.count, c.count, d.count) == (1, 0, 1)
    for store in (a, b, d):
        store.close()


def test_recovered_acks_are_compact_and_exact(tmp_path: Path) -> None:
    """After a crash, the acked offsets of partly consumed segments are kept as 4-byte
    arrays (not sets of ints), and exactly the unacked records come back."""
    import random

    from lavinmq.storage.segment import OFFSETS_TYPECODE

    store = MessageStore(tmp_path / "q", segment_size=64 * 1024)
    total = 20_000
    positions = [store.push(b"%05d" % i) for i in range(total)]
    for _ in range(15_000):
        assert store.shift() is not None
    kept = set(range(0, 15_000, 7))  # shifted, never acked
    acks = [i for i in range(15_000) if i not in kept]
    random.Random(4).shuffle(acks)  # acks arrive out of order
    for i in acks:
        store.ack(positions[i])
    store.flush()  # as at the end of an event-loop iteration; then "kill -9"

    again = MessageStore(tmp_path / "q", segment_size=64 * 1024)
    assert again._acked and all(a.typecode == OFFSETS_TYPECODE for a in again._acked.values())
    assert again.count == total - len(acks)
    got = []
    while (item := again.shift()) is not None:
        got.append((item[1], item[2]))
    expected = [(b"%05d" % i, True) for i in sorted(kept)]
    expected += [(b"%05d" % i, False) for i in range(15_000, total)]
    assert got == expected
    again.close()
    store.close()
