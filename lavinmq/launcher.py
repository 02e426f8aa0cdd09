"""Broker lifecycle: start listeners, run until a signal, shut down in order.

Shutdown order (as LavinMQ's launcher): stop accepting, close client connections with
320 CONNECTION_FORCED, give their buffers a moment to drain, flush and close the stores,
release the data-dir lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lavinmq.broker.broker import Broker
from lavinmq.config import Config
from lavinmq.server.listeners import listen_tcp, listen_unix

log = logging.getLogger(__name__)
DRAIN_SECONDS = 0.5


def tls_context(config: Config) -> ssl.SSLContext:
    """The server TLS context from ``--cert``/``--key``/``--ciphers``/``--tls-min-version``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = (ssl.TLSVersion.TLSv1_3 if config.tls_min_version in ("1.3", "TLSv1.3")
                           else ssl.TLSVersion.TLSv1_2)
    ctx.load_cert_chain(config.tls_cert_path, config.tls_key_path or None)
    if config.tls_ciphers:
        ctx.set_ciphers(config.tls_ciphers)
    if config.tls_ca_cert_path:
        ctx.load_verify_locations(config.tls_ca_cert_path)
        if config.tls_verify_peer:
            ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class Launcher:
    """Owns the broker and its listeners."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.broker: Broker | None = None
        self.servers: list[asyncio.Server] = []
        self.amqp_port = 0
        self.amqps_port = 0
        self.http_port = 0
        self._http_cleanup: Callable[[], Awaitable[None]] | None = None
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        cfg = self.config
        self.broker = Broker(cfg, loop)
        self.broker.start()
        if cfg.amqp_port >= 0:
            server = await listen_tcp(self.broker, cfg.amqp_host, cfg.amqp_port)
            self.servers.append(server)
            self.amqp_port = server.sockets[0].getsockname()[1]
        if cfg.amqps_port >= 0 and cfg.tls_cert_path:
            server = await listen_tcp(self.broker, cfg.amqp_host, cfg.amqps_port, tls_context(cfg))
            self.servers.append(server)
            self.amqps_port = server.sockets[0].getsockname()[1]
        if cfg.unix_path:
            self.servers.append(await listen_unix(self.broker, cfg.unix_path))
        if cfg.http_port >= 0:
            await self._start_http()
        if cfg.pidfile:
            Path(cfg.pidfile).write_text(f"{os.getpid()}\n")

    async def _start_http(self) -> None:
        try:
            from lavinmq.http.server import start_http  # noqa: PLC0415 - optional layer
        except ImportError:
            log.warning("management HTTP API not available")
            return
        assert self.broker is not None
        self.http_port, self._http_cleanup = await start_http(self.broker, self.config)

    async def stop(self) -> None:
        """Graceful shutdown (SIGTERM)."""
        if self.broker is None or self.broker.closed:
            return
        log.info("shutting down")
        for server in self.servers:
            server.close()
        if self._http_cleanup is not None:
            await self._http_cleanup()
        self.broker.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connections_gone(), DRAIN_SECONDS)
        if self.config.pidfile:
            with contextlib.suppress(OSError):
                os.unlink(self.config.pidfile)
        self._stopped.set()

    async def _connections_gone(self) -> None:
        assert self.broker is not None
        while self.broker.connections:
            await asyncio.sleep(0.01)

    async def run(self, on_ready: Callable[[Launcher], Any] | None = None) -> None:
        """Start, wait for SIGTERM/SIGINT, stop."""
        await self.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(self.stop()))
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        if on_ready is not None:
            on_ready(self)
        await self._stopped.wait()

    def reload(self) -> None:
        """SIGHUP: re-read the log level from the config file (safe to change live)."""
        from lavinmq import log as lavinmq_log  # noqa: PLC0415
        from lavinmq.config import Config, apply_ini  # noqa: PLC0415

        if not self.config.config_file:
            return
        fresh = Config()
        try:
            apply_ini(fresh, Path(self.config.config_file))
        except ValueError as exc:
            log.error("reload failed: %s", exc)
            return
        self.config.log_level = fresh.log_level
        lavinmq_log.setup(fresh.log_level, self.config.log_file)
        log.info("configuration reloaded")
