"""Priority queues (``x-max-priority`` 1-255): higher-priority messages are delivered
first; equal priorities stay FIFO. Messages are kept in one store per level."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from lavinmq.amqp.properties import FLAG_PRIORITY, peek_priority
from lavinmq.broker.message import Record, RecordView
from lavinmq.broker.queue.queue import Queue
from lavinmq.storage.priority_store import PriorityStore


def record_priority(record: bytes) -> int:
    view = RecordView(record)
    if not record[view.props_start] & (FLAG_PRIORITY >> 8):
        return 0
    return peek_priority(view.properties)


class PriorityQueue(Queue):
    """A queue whose store has a level per priority."""

    __slots__ = ()

    def _open_store(self, directory: Path | str, segment_size: int) -> Any:
        levels = int(self.arguments.get("x-max-priority", 0))
        return PriorityStore(directory, max(0, min(levels, 255)), segment_size)

    @property
    def accepts_batches(self) -> bool:
        return False

    def _fifo_rules(self) -> bool:
        # Higher priorities overtake older messages: the head says nothing of the rest.
        return super()._fifo_rules() and self.settings.message_ttl is None

    def publish(self, record: Record) -> bool:
        if not self._publish_checked(bytes(record)):
            return False
        self._schedule_after_publish()
        return True

    def _push(self, record: bytes) -> None:
        cast(PriorityStore, self.store).push(record, record_priority(record))

    def publish_many(self, records: list[Record]) -> None:
        for record in records:
            self.publish(record)
