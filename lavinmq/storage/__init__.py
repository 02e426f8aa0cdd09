"""Storage: files, bytes and positions; no queues, vhosts or AMQP.

- ``MessageStore``: a queue's append-only, segmented, mmap'd record store.
- ``DefinitionsLog``: the append-only log of definition frames, replayed at boot.
- ``write_json_atomic`` / ``read_json``: JSON state files.
- ``DataDirLock``: one broker per data directory.
- ``dir_name``: vhost and queue directory names.
"""

from __future__ import annotations

from lavinmq.storage.definitions_log import DefinitionsLog
from lavinmq.storage.errors import CorruptSegmentError, StoreFullError
from lavinmq.storage.jsonfile import read_json, write_json_atomic
from lavinmq.storage.lock import DataDirLock, DataDirLocked
from lavinmq.storage.message_store import SEGMENT_SIZE, MessageStore
from lavinmq.storage.names import dir_name
from lavinmq.storage.position import make_position, offset_of, segment_of
from lavinmq.storage.segment import SEGMENT_MAGIC

__all__ = [
    "SEGMENT_MAGIC",
    "SEGMENT_SIZE",
    "CorruptSegmentError",
    "DataDirLock",
    "DataDirLocked",
    "DefinitionsLog",
    "MessageStore",
    "StoreFullError",
    "dir_name",
    "make_position",
    "offset_of",
    "read_json",
    "segment_of",
    "write_json_atomic",
]
