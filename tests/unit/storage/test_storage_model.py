"""MessageStore against a simple in-memory model, under random operation sequences."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lavinmq.storage import MessageStore

SEGMENT_SIZE = 256  # tiny, so that sequences cross many segments and oversized records

READY, REQUEUED, IN_FLIGHT = "ready", "requeued", "in flight"


class StoreModel(RuleBasedStateMachine):
    """The model: each live record's payload, position and state.

    ``shift`` must return the lowest requeued position if any (redelivered), else the lowest
    ready one, redelivered when it was shifted before a restart.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="store-model-"))
        self.generation = 0
        self.records: dict[int, tuple[bytes, str]] = {}  # position -> (payload, state)
        self.shifted_ever: set[int] = set()
        self.serial = 0

    @initialize()
    def open_store(self) -> None:
        self.store = MessageStore(self.directory, segment_size=SEGMENT_SIZE)

    @property
    def directory(self) -> Path:
        return self.tmp / f"gen{self.generation}"

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def expected_next(self) -> tuple[int, bytes, bool] | None:
        requeued = [p for p, (_, s) in self.records.items() if s == REQUEUED]
        if requeued:
            pos = min(requeued)
            return pos, self.records[pos][0], True
        ready = [p for p, (_, s) in self.records.items() if s == READY]
        if not ready:
            return None
        pos = min(ready)
        return pos, self.records[pos][0], pos in self.shifted_ever

    def in_flight(self) -> list[int]:
        return sorted(p for p, (_, s) in self.records.items() if s == IN_FLIGHT)

    @rule(size=st.integers(min_value=1, max_value=300))
    def push(self, size: int) -> None:
        self.serial += 1
        payload = f"{self.serial}:".encode().ljust(size, b"x")
        pos = self.store.push(payload)
        assert pos not in self.records
        assert all(pos > p for p in self.records)
        self.records[pos] = (payload, READY)

    @rule()
    def shift(self) -> None:
        expected = self.expected_next()
        assert self.store.shift() == expected
        if expected is not None:
            self.records[expected[0]] = (expected[1], IN_FLIGHT)
            self.shifted_ever.add(expected[0])

    @rule()
    def peek(self) -> None:
        assert self.store.peek() == self.expected_next()

    @precondition(lambda self: bool(self.in_flight()))
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        pos = data.draw(st.sampled_from(self.in_flight()))
        self.store.ack(pos)
        del self.records[pos]

    @precondition(lambda self: bool(self.in_flight()))
    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        pos = data.draw(st.sampled_from(self.in_flight()))
        self.store.requeue(pos)
        self.records[pos] = (self.records[pos][0], REQUEUED)

    @precondition(lambda self: bool(self.records))
    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        pos = data.draw(st.sampled_from(sorted(self.records)))
        assert self.store.read(pos) == self.records[pos][0]

    @rule()
    def purge(self) -> None:
        ready = [p for p, (_, s) in self.records.items() if s != IN_FLIGHT]
        assert self.store.purge() == len(ready)
        for pos in ready:
            del self.records[pos]

    @rule()
    def flush(self) -> None:
        self.store.flush()

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = MessageStore(self.directory, segment_size=SEGMENT_SIZE)
        self.after_restart()

    @rule()
    def crash(self) -> None:
        """kill -9 after a flush: copy the files as they are and recover the copy."""
        self.store.flush()
        old = self.directory
        self.generation += 1
        if old.exists():
            shutil.copytree(old, self.directory)
        self.store.close()
        shutil.rmtree(old, ignore_errors=True)
        self.store = MessageStore(self.directory, segment_size=SEGMENT_SIZE)
        self.after_restart()

    def after_restart(self) -> None:
        self.records = {p: (payload, READY) for p, (payload, _) in self.records.items()}

    @invariant()
    def counts_match(self) -> None:
        if not hasattr(self, "store"):
            return
        ready = [payload for payload, s in self.records.values() if s != IN_FLIGHT]
        assert self.store.count == len(self.records)
        assert self.store.ready == len(ready)
        assert self.store.bytesize == sum(len(payload) for payload, _ in self.records.values())
        assert self.store.ready_bytesize == sum(len(payload) for payload in ready)
        assert len(self.store._mapped_segments()) <= 3


def test_store_matches_model() -> None:
    run_state_machine_as_test(
        StoreModel,
        settings=settings(max_examples=150, stateful_step_count=40, deadline=None),
    )
