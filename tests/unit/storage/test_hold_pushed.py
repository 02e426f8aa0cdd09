"""MessageStore.hold_pushed: large records just pushed is delivered as it is, not read
back from its segment (lavinmq/storage/message_store.py)."""

from __future__ import annotations

from pathlib import Path

from lavinmq.storage import MessageStore
from lavinmq.storage.message_store import HOLD_MAX, HOLD_MIN

LARGE = bytearray(b"L" * HOLD_MIN)


def test_the_held_record_is_what_shift_returns(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    record = memoryview(LARGE)
    pos = store.push(record)
    store.hold_pushed([record])
    item = store.shift()
    assert item is not None and item[0] == pos and item[1] is record
    store.push(record)
    again = store.shift()  # not held: read back from the segment, equal
    assert again is not None and again[1] is not record and again[1] == record


def test_small_records_are_not_held(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    small = memoryview(bytearray(b"s" * (HOLD_MIN - 1)))
    store.push(small)
    store.hold_pushed([small])
    item = store.shift()
    assert item is not None and item[1] is not small and type(item[1]) is bytes


def test_held_behind_a_backlog_it_waits_for_its_turn(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    store.push(b"first")
    record = bytes(LARGE)
    store.push(record)
    store.hold_pushed([record])
    assert store.shift()[1] == b"first"  # type: ignore[index]
    assert store.shift()[1] is record  # type: ignore[index]


def test_several_are_held_up_to_hold_max_and_release_forgets_them(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    one, two = bytes(LARGE), bytes(LARGE) + b"2"
    big = b"B" * (HOLD_MAX - len(one) - len(two) + 1)  # one byte too many to hold too
    for record in (one, two, big):
        store.push(record)
        store.hold_pushed([record])
    assert store.shift()[1] is one  # type: ignore[index]
    assert store.shift()[1] is two  # type: ignore[index]
    item = store.shift()
    assert item is not None and item[1] is not big and item[1] == big
    store.push(one)
    store.hold_pushed([one])
    store.release_held()
    item = store.shift()
    assert item is not None and item[1] is not one and item[1] == one


def test_purge_and_close_drop_it(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    record = bytes(LARGE)
    store.push(record)
    store.hold_pushed([record])
    assert store.purge() == 1
    store.push(b"x" * HOLD_MIN)
    item = store.shift()
    assert item is not None and item[1] == b"x" * HOLD_MIN
    store.push(record)
    store.hold_pushed([record])
    store.close()
    item = store.shift()
    assert item is not None and item[1] is not record and item[1] == record


def test_a_batch_is_held_where_push_many_put_it(tmp_path: Path) -> None:
    store = MessageStore(tmp_path)
    batch = [bytes(LARGE), b"small", bytes(LARGE) + b"2", b"s" * 3000, bytes(LARGE) + b"3"]
    store.push(b"before")
    store.push_many(batch)
    store.hold_pushed(batch)
    shifted = [store.shift() for _ in range(6)]
    payloads = [item[1] for item in shifted if item is not None]
    assert payloads == [b"before", *batch]
    assert [p is b for p, b in zip(payloads[1:], batch, strict=True)] == [
        True,
        False,
        True,
        False,
        True,
    ]


def test_records_pushed_to_earlier_segments_are_held_too(tmp_path: Path) -> None:
    # A batch of 1 MiB messages crosses a roll every few batches: its first records went
    # to the end of the segment before, and are delivered from memory all the same.
    store = MessageStore(tmp_path, segment_size=3 * HOLD_MIN)
    store.push(b"older")
    batch = [bytes(LARGE) + b"%d" % i for i in range(5)]  # two per segment
    store.push_many(batch)
    store.hold_pushed(batch)
    assert store.shift()[1] == b"older"  # type: ignore[index]
    payloads = [item[1] for item in iter(store.shift, None) if item is not None]
    assert payloads == batch
    assert all(p is b for p, b in zip(payloads, batch, strict=True))


def test_a_batch_longer_than_the_live_segments_holds_what_it_can(tmp_path: Path) -> None:
    store = MessageStore(tmp_path, segment_size=3 * HOLD_MIN)
    first = [bytes(LARGE) + b"a", bytes(LARGE) + b"b"]  # the first segment
    store.push_many(first)
    while (item := store.shift()) is not None:
        store.ack(item[0])  # that segment is gone
    later = [bytes(LARGE) + b"c", bytes(LARGE) + b"d"]
    store.push_many(later)
    store.hold_pushed(first + later)  # more than was pushed since: the rest is not held
    payloads = [item[1] for item in iter(store.shift, None) if item is not None]
    assert payloads == later
    assert all(p is b for p, b in zip(payloads, later, strict=True))
