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
from lavinmq.federation.store import FederationStore
from lavinmq.lazy_http import LazyProtocolFactory, ProtocolFactory
from lavinmq.server.listeners import bind_hosts, listen_tcp, listen_unix
from lavinmq.shovel.store import ShovelStore

log = logging.getLogger(__name__)
DRAIN_SECONDS = 0.5


def tls_context(config: Config) -> ssl.SSLContext:
    """The server TLS context from ``--cert``/``--key``/``--ciphers``/``--tls-min-version``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = (
        ssl.TLSVersion.TLSv1_3
        if config.tls_min_version in ("1.3", "TLSv1.3")
        else ssl.TLSVersion.TLSv1_2
    )
    ctx.load_cert_chain(config.tls_cert_path, config.tls_key_path or None)
    if config.tls_ciphers:
        ctx.set_ciphers(config.tls_ciphers)
    # Client certificates: required with tls_verify_peer, else verified when one is sent
    # (it enables EXTERNAL authentication) if a CA is configured.
    ca = config.tls_ca_cert_path
    if ca and Path(ca).is_dir():
        ctx.load_verify_locations(capath=ca)
    elif ca:
        ctx.load_verify_locations(ca)
    elif config.tls_verify_peer:
        ctx.load_default_certs(ssl.Purpose.CLIENT_AUTH)
    if config.tls_verify_peer:
        ctx.verify_mode = ssl.CERT_REQUIRED
    elif ca:
        ctx.verify_mode = ssl.CERT_OPTIONAL
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
        self.https_port = 0
        self._http_cleanup: Callable[[], Awaitable[None]] | None = None
        self.http_lazy: LazyProtocolFactory | None = None
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
            self.broker.listen_ports["amqp"] = self.amqp_port
            host = cfg.amqp_host if cfg.amqp_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
            self.broker.local_uri = (
                f"amqp://{f'[{host}]' if ':' in host else host}:{self.amqp_port}"
            )
        if cfg.amqps_port >= 0 and cfg.tls_cert_path:
            server = await listen_tcp(self.broker, cfg.amqp_host, cfg.amqps_port, tls_context(cfg))
            self.servers.append(server)
            self.amqps_port = server.sockets[0].getsockname()[1]
        if cfg.unix_path:
            self.servers.append(await listen_unix(self.broker, cfg.unix_path))
        if cfg.http_port >= 0 or cfg.http_unix_path or (cfg.https_port >= 0 and cfg.tls_cert_path):
            await self._start_http()
        self._start_services()
        if cfg.pidfile:
            _write_pidfile(cfg.pidfile)

    async def _start_http(self) -> None:
        """Take the HTTP(S) ports now; load the API on the first connection (lazy_http)."""
        assert self.broker is not None
        cfg = self.config
        lazy = LazyProtocolFactory(self._load_http)
        self.http_lazy = lazy
        loop = asyncio.get_running_loop()
        if cfg.http_port >= 0:
            server = await loop.create_server(
                lazy, bind_hosts(cfg.http_host), cfg.http_port, reuse_address=True
            )
            self.http_port = self._remember(server, "http", "management API")
        if cfg.https_port >= 0 and cfg.tls_cert_path:
            server = await loop.create_server(
                lazy,
                bind_hosts(cfg.http_host),
                cfg.https_port,
                ssl=tls_context(cfg),
                reuse_address=True,
            )
            self.https_port = self._remember(server, "https", "management API (HTTPS)")
        if cfg.http_unix_path:
            self.servers.append(await loop.create_unix_server(lazy, cfg.http_unix_path))
            log.info("management API listening on unix:%s", cfg.http_unix_path)

    def _remember(self, server: asyncio.Server, protocol: str, what: str) -> int:
        assert self.broker is not None
        self.servers.append(server)
        port = int(server.sockets[0].getsockname()[1])
        self.broker.listen_ports[protocol] = port
        log.info("%s listening on %s:%d", what, self.config.http_host, port)
        return port

    async def _load_http(self) -> ProtocolFactory:
        from lavinmq.http.server import make_runner
        from lavinmq.server.websocket import websocket_transport

        assert self.broker is not None
        runner = await make_runner(self.broker, websocket_factory=websocket_transport(self.broker))
        self._http_cleanup = runner.cleanup
        assert runner.server is not None
        return runner.server

    def _start_services(self) -> None:
        """Shovels and federation links: started from the stored parameters, and again
        whenever parameters or policies change."""
        assert self.broker is not None
        for service in (ShovelStore(self.broker), FederationStore(self.broker)):
            self.broker.services[service.NAME] = service
            service.start()

    async def stop(self) -> None:
        """Graceful shutdown (SIGTERM)."""
        if self.broker is None or self.broker.closed:
            return
        log.info("shutting down")
        for service in list(self.broker.services.values()):
            await service.stop()  # links close their connections gracefully, keep upstream queues
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
        while self.broker.connections:  # noqa: ASYNC110 - many closers, no single event
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
        """SIGHUP: re-read the settings that are safe to change live from the config file:
        the log level and ``free_disk_min`` (checked again at once)."""
        from lavinmq import log as lavinmq_log
        from lavinmq.config import Config, apply_ini

        if not self.config.config_file:
            return
        fresh = Config()
        try:
            apply_ini(fresh, Path(self.config.config_file))
        except ValueError as exc:
            log.error("reload failed: %s", exc)
            return
        self.config.log_level = fresh.log_level
        self.config.free_disk_min = fresh.free_disk_min
        self.config.memory_high_watermark = fresh.memory_high_watermark
        lavinmq_log.setup(fresh.log_level, self.config.log_file)
        log.info("configuration reloaded")
        if self.broker is not None and not self.broker.closed:
            for alarm in self.broker.alarms:
                alarm.check()


def _write_pidfile(path: str) -> None:
    Path(path).write_text(f"{os.getpid()}\n")
