"""connection-count: open many connections (with channels and consumers), repeat on Enter."""

from __future__ import annotations

import asyncio
import random
import socket
import sys
import time
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from lavinmq.amqp.frames import method_frame
from lavinmq.amqp.spec import BasicConsume
from lavinmq.client import Connection, connect
from lavinmqperf.connection import PerfConnection
from lavinmqperf.interactive import humanize_bytes, rss_bytes, wait_for_enter

SLICE = 100


def random_localhost(uri: str) -> str:
    """``uri`` with its host replaced by a random 127.0.x.y address."""
    parts = urlsplit(uri)
    host = f"127.0.{random.randrange(256)}.{random.randrange(1, 256)}"
    netloc = parts.netloc.rsplit("@", 1)
    hostport = host if parts.port is None else f"{host}:{parts.port}"
    netloc[-1] = hostport
    return urlunsplit(parts._replace(netloc="@".join(netloc)))


def set_keepalive(conn: PerfConnection, spec: str) -> None:
    """Apply ``IDLE:COUNT:INTERVAL`` TCP keepalive settings to the connection's socket."""
    idle, count, interval = (int(v) for v in spec.split(":"))
    sock = conn.socket()
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, count)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)


class ConnectionCount:
    """The scenario's state: its options and the open connections."""

    def __init__(self, uri: str, channels: int, consumers: int, queue: str,
                 localhost: bool, keepalive: str | None, out: TextIO | None = None) -> None:  # fmt: skip
        self.uri, self.channels, self.consumers, self.queue = uri, channels, consumers, queue
        self.localhost, self.keepalive = localhost, keepalive
        self.out = out or sys.stdout
        self.connections: list[Connection] = []

    async def _open(self) -> None:
        uri = random_localhost(self.uri) if self.localhost else self.uri
        conn = await connect(
            uri, name="lavinmqperf connection-count", connection_class=PerfConnection
        )
        self.connections.append(conn)
        if self.keepalive and isinstance(conn, PerfConnection):
            set_keepalive(conn, self.keepalive)
        for j in range(self.channels):
            ch = await conn.channel()
            for k in range(self.consumers):
                if j == k == 0:
                    await ch.queue_declare(self.queue, durable=True)
                consume = BasicConsume(0, self.queue, "", False, True, False, True, {})
                conn.send_frame(method_frame(ch.number, consume))  # nowait, as LavinMQ's
        print(".", end="", file=self.out, flush=True)

    async def add(self, count: int) -> None:
        """Open ``count`` more connections, ``SLICE`` at a time, timing each slice."""
        for first in range(0, count, SLICE):
            start = time.monotonic()
            await asyncio.gather(*(self._open() for _ in range(min(SLICE, count - first))))
            print(f" {round((time.monotonic() - start) * 1000)}ms", file=self.out)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)


async def run(state: ConnectionCount, connections: int) -> int:
    """Add ``connections`` per round until end of input; return how many were opened."""
    out = state.out
    try:
        while True:
            await state.add(connections)
            n = len(state.connections)
            print(file=out)
            print(f"{n} connections {n * state.channels} channels "
                  f"{n * state.channels * state.consumers} consumers. "
                  f"Using {humanize_bytes(rss_bytes())} memory.", file=out)  # fmt: skip
            print(f"Press enter to do add {connections} connections or ctrl-c to abort",
                  file=out, flush=True)  # fmt: skip
            if not await wait_for_enter():
                break
        return len(state.connections)
    finally:
        await state.close()
