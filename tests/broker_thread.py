"""An in-process broker on port 0, running its own uvloop in a background thread.

Real clients (pika's blocking API, aio-pika in the test's own loop, our client) talk to it
over loopback TCP exactly as they would to a deployed broker. Errors the broker's event
loop reports (unhandled exceptions in callbacks) are collected and fail the test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import uvloop

from lavinmq.broker.broker import Broker
from lavinmq.config import Config
from lavinmq.launcher import Launcher

T = TypeVar("T")


class BrokerThread:
    """Start/stop a broker on ``data_dir``; ``call`` runs code inside its loop."""

    def __init__(self, data_dir: Path, **overrides: Any) -> None:
        self.config = Config(data_dir=str(data_dir), amqp_port=0, http_port=0, **overrides)
        self.launcher: Launcher | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.errors: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    @property
    def broker(self) -> Broker:
        assert self.launcher is not None and self.launcher.broker is not None
        return self.launcher.broker

    @property
    def amqp_port(self) -> int:
        assert self.launcher is not None
        return self.launcher.amqp_port

    @property
    def http_port(self) -> int:
        assert self.launcher is not None
        return self.launcher.http_port

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2f"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> BrokerThread:
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("broker did not start in 15 s")
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def _run(self) -> None:
        loop = uvloop.new_event_loop()
        self.loop = loop
        loop.set_exception_handler(self._on_loop_error)
        asyncio.set_event_loop(loop)
        self.launcher = Launcher(self.config)
        try:
            loop.run_until_complete(self.launcher.start())
        except BaseException as exc:  # reported to the starting thread
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)
        loop.default_exception_handler(context)

    def call(self, fn: Callable[[], T], timeout: float = 10) -> T:
        """Run ``fn`` in the broker's loop thread and return its result."""
        assert self.loop is not None
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def stop(self) -> None:
        """Graceful shutdown, as on SIGTERM."""
        if self.loop is None or self._thread is None:
            return
        assert self.launcher is not None
        fut = asyncio.run_coroutine_threadsafe(self.launcher.stop(), self.loop)
        fut.result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(15)
        self._thread = None
        self.loop = None

    def restart(self) -> BrokerThread:
        """Stop and start again on the same data dir and ports."""
        amqp_port, http_port = self.amqp_port, self.http_port
        self.stop()
        self.config.amqp_port, self.config.http_port = amqp_port, http_port
        return self.start()
