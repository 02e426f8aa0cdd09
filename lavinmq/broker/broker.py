"""The broker: vhosts, users and live connections of one data directory.

The core never touches sockets: the server layer registers connections here through the
``ClientConnection`` protocol, and the HTTP API reads and changes state through this
object.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from lavinmq.amqp.errors import ConnectionForced, InternalError
from lavinmq.auth import Permissions, User, UserStore
from lavinmq.broker.alarms import Blockable, DiskAlarm, MemoryAlarm, ResourceAlarm, memory_limit
from lavinmq.broker.interfaces import ClientConnection
from lavinmq.broker.parameters import GlobalParameters
from lavinmq.broker.tick import Tick
from lavinmq.broker.vhost import VHost
from lavinmq.config import Config
from lavinmq.storage import DataDirLock, read_json, segment, write_json_atomic

log = logging.getLogger(__name__)
COMPACT_INTERVAL = 60.0
"""Seconds between compactions of definitions logs that have deletions in them."""
DIRECT_USER = "__direct"
"""The internal user shovels and federation links log in as over ``local_uri`` (LavinMQ's)."""


class AnyVHost(dict[str, Permissions]):
    """Full permissions on every vhost, present and future (the direct user's)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> Permissions:
        return Permissions()

    def get(self, key: str, default: Any = None) -> Permissions:
        return self[key]


class Broker:
    """Owns every vhost, the user store and the registry of client connections."""

    def __init__(self, config: Config, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.config = config
        self.data_dir = Path(config.data_dir)
        self.loop = loop or asyncio.get_event_loop()
        self.tick = Tick(self.loop)
        self.tick.on_sync_failure = self._sync_failed
        self.vhosts: dict[str, VHost] = {}
        self.connections: dict[int, ClientConnection] = {}
        self.listen_ports: dict[str, int] = {}  # protocol -> bound port, set by the launcher
        self.started_at = time.time()
        self._lock: DataDirLock | None = None
        publishers: set[Blockable] = set()  # shared: blocked by either alarm
        self.disk_alarm = DiskAlarm(
            str(self.data_dir), self._free_disk_min, self.loop, publishers=publishers
        )
        self.memory_alarm = MemoryAlarm(self._memory_limit, self.loop, publishers=publishers)
        self.alarms: tuple[ResourceAlarm, ...] = (self.disk_alarm, self.memory_alarm)
        self._compact_timer: asyncio.TimerHandle | None = None
        self.users: UserStore
        self.global_parameters: GlobalParameters
        self.closed = False
        self.local_uri = ""
        """``amqp://host:port`` of this broker's own AMQP listener, set by the launcher."""
        self.services: dict[str, Any] = {}
        """Services above the core (``shovels``, ``federation``) by name, for the API."""
        self._direct_password = secrets.token_urlsafe(24)
        self.direct_user = User.create(DIRECT_USER, self._direct_password, ["administrator"])
        self.direct_user.permissions = AnyVHost()  # never saved, never listed

    def start(self) -> None:
        """Lock the data directory, load users, vhosts and their definitions."""
        segment.background_removal = True  # keep unlink of acked segments off the loop
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = DataDirLock(self.data_dir)
        self._lock.acquire()
        self.users = UserStore(self.data_dir)
        self.users.ensure_default(self.config.default_user, self.config.default_password)
        self.global_parameters = GlobalParameters(self.data_dir)
        names = read_json(self.data_dir / "vhosts.json", None)
        if not isinstance(names, list):
            names = [{"name": "/"}]
        for item in names:
            self._open_vhost(item["name"])
        self._save_vhosts()
        for alarm in self.alarms:
            alarm.start()
        self._compact_timer = self.loop.call_later(COMPACT_INTERVAL, self._compact_definitions)

    def direct_uri(self, vhost: str) -> str:
        """A URI logging in to ``vhost`` of this broker as the direct user ("" if not listening)."""
        if not self.local_uri:
            return ""
        parts = urlsplit(self.local_uri)
        return (
            f"{parts.scheme}://{DIRECT_USER}:{self._direct_password}@{parts.netloc}/"
            f"{quote(vhost, safe='')}"
        )

    @property
    def cluster_name(self) -> str:
        """The ``cluster_name`` global parameter (as RabbitMQ), else ``lavinmq@host:port``;
        announced in Connection.Start, federation's loop detection compares it."""
        name = self.global_parameters.values.get("cluster_name")
        if isinstance(name, str) and name:
            return name
        port = urlsplit(self.local_uri).port if self.local_uri else None
        return f"lavinmq@{socket.gethostname()}" + (f":{port}" if port else "")

    def _memory_limit(self) -> int:
        return memory_limit(self.config.memory_high_watermark)

    def _free_disk_min(self) -> int:
        # LavinMQ's rule: never let the disk get so full that a store can't roll a segment.
        return max(self.config.free_disk_min, 3 * self.config.segment_size)

    def _compact_definitions(self) -> None:
        """Timer: rewrite the definitions logs that hold deleted entities."""
        self._compact_timer = self.loop.call_later(COMPACT_INTERVAL, self._compact_definitions)
        for vhost in list(self.vhosts.values()):
            try:
                vhost.compact_if_dirty()
            except OSError as exc:
                log.error("vhost %s: compacting definitions failed: %s", vhost.name, exc)

    def _sync_failed(self, exc: BaseException) -> None:
        """A group commit failed: close every connection, so that publishers waiting
        for confirms learn that their messages are not safe (they republish)."""
        for conn in list(self.connections.values()):
            conn.close_by_server(
                InternalError.reply_code, f"INTERNAL_ERROR - writing to disk failed: {exc}"
            )

    def _open_vhost(self, name: str) -> VHost:
        vhost = VHost(name, self.data_dir, self.tick, self.config.segment_size)
        vhost.load_definitions()
        self.vhosts[name] = vhost
        return vhost

    def _save_vhosts(self) -> None:
        write_json_atomic(
            self.data_dir / "vhosts.json",
            [{"name": v.name, "dir": v.dir.name} for v in self.vhosts.values()],
        )

    def close(self) -> None:
        """Close every connection (320) and vhost, flush stores, release the lock."""
        if self.closed:
            return
        self.closed = True
        for alarm in self.alarms:
            alarm.stop()
        if self._compact_timer is not None:
            self._compact_timer.cancel()
        for conn in list(self.connections.values()):
            conn.close_by_server(ConnectionForced.reply_code, "CONNECTION_FORCED - broker shutdown")
        self.tick.flush_now()
        for vhost in self.vhosts.values():
            vhost.close()
        segment.drain_removals()
        if self._lock is not None:
            self._lock.release()

    # -- vhosts -------------------------------------------------------------------------

    def add_vhost(self, name: str, grant_to: str | None = None) -> VHost:
        """Create a vhost (idempotent); ``grant_to`` gets full permissions on it."""
        vhost = self.vhosts.get(name)
        if vhost is None:
            vhost = self._open_vhost(name)
            self._save_vhosts()
        if grant_to and grant_to in self.users:
            self.users.set_permissions(grant_to, name, Permissions())
        return vhost

    def delete_vhost(self, name: str) -> bool:
        vhost = self.vhosts.pop(name, None)
        if vhost is None:
            return False
        for conn in list(self.connections.values()):
            if conn.vhost_name == name:
                conn.close_by_server(
                    ConnectionForced.reply_code, "CONNECTION_FORCED - vhost deleted"
                )
        vhost.delete_all()
        self.users.drop_vhost(name)
        self._save_vhosts()
        return True

    # -- connections --------------------------------------------------------------------

    def register(self, conn: ClientConnection) -> None:
        self.connections[id(conn)] = conn

    def unregister(self, conn: ClientConnection) -> None:
        self.connections.pop(id(conn), None)

    def connection_count(self, vhost: str | None = None) -> int:
        if vhost is None:
            return len(self.connections)
        return sum(1 for c in self.connections.values() if c.vhost_name == vhost)

    def overview_counts(self) -> dict[str, Any]:
        queues = [q for v in self.vhosts.values() for q in v.queues.values()]
        return {
            "connections": len(self.connections),
            "queues": len(queues),
            "exchanges": sum(len(v.exchanges) for v in self.vhosts.values()),
            "consumers": sum(q.consumer_count for q in queues),
            "messages": sum(q.store.count for q in queues),
        }
