"""The broker: vhosts, users and live connections of one data directory.

The core never touches sockets: the server layer registers connections here through the
``ClientConnection`` protocol, and the HTTP API reads and changes state through this
object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from lavinmq.amqp.errors import ConnectionForced
from lavinmq.auth import Permissions, UserStore
from lavinmq.broker.interfaces import ClientConnection
from lavinmq.broker.tick import Tick
from lavinmq.broker.vhost import VHost
from lavinmq.config import Config
from lavinmq.storage import DataDirLock, read_json, write_json_atomic

log = logging.getLogger(__name__)


class Broker:
    """Owns every vhost, the user store and the registry of client connections."""

    def __init__(self, config: Config, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.config = config
        self.data_dir = Path(config.data_dir)
        self.loop = loop or asyncio.get_event_loop()
        self.tick = Tick(self.loop)
        self.vhosts: dict[str, VHost] = {}
        self.connections: dict[int, ClientConnection] = {}
        self.started_at = time.time()
        self._lock: DataDirLock | None = None
        self.users: UserStore
        self.closed = False

    def start(self) -> None:
        """Lock the data directory, load users, vhosts and their definitions."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = DataDirLock(self.data_dir)
        self._lock.acquire()
        self.users = UserStore(self.data_dir)
        self.users.ensure_default(self.config.default_user, self.config.default_password)
        names = read_json(self.data_dir / "vhosts.json", None)
        if names is None:
            names = [{"name": "/"}]
        for item in names:  # type: ignore[union-attr]
            self._open_vhost(item["name"])
        self._save_vhosts()

    def _open_vhost(self, name: str) -> VHost:
        vhost = VHost(name, self.data_dir, self.tick, self.config.segment_size)
        vhost.load_definitions()
        self.vhosts[name] = vhost
        return vhost

    def _save_vhosts(self) -> None:
        write_json_atomic(self.data_dir / "vhosts.json",
                          [{"name": v.name, "dir": v.dir.name} for v in self.vhosts.values()])

    def close(self) -> None:
        """Close every connection (320) and vhost, flush stores, release the lock."""
        if self.closed:
            return
        self.closed = True
        for conn in list(self.connections.values()):
            conn.close_by_server(ConnectionForced.reply_code, "CONNECTION_FORCED - broker shutdown")
        self.tick.flush_now()
        for vhost in self.vhosts.values():
            vhost.close()
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
                conn.close_by_server(ConnectionForced.reply_code, "CONNECTION_FORCED - vhost deleted")
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
