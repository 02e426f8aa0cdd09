"""The interactive ``connection-count`` and ``queue-count`` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from lavinmqperf.cli_options import Uri, json_object
from lavinmqperf.options import DEFAULT_URI


def register(app: typer.Typer, fail: Callable[[str], typer.Exit]) -> None:
    """Add the two commands to ``app``; ``fail`` turns an error into an exit."""
    _register_connection_count(app, fail)
    _register_queue_count(app, fail)


def _register_connection_count(app: typer.Typer, fail: Callable[[str], typer.Exit]) -> None:
    @app.command("connection-count", help="Open many connections, repeat on Enter.")
    def connection_count(
        uri: Uri = DEFAULT_URI,
        count: Annotated[int, typer.Option("-x", "--count", help="Number of connections")] = 100,
        channels: Annotated[int, typer.Option("-c", "--channels", help="Channels per connection")] = 1,
        consumers: Annotated[int, typer.Option("-C", "--consumers", help="Consumers per channel")] = 0,
        queue: Annotated[str, typer.Option("-u", "--queue", help="Queue name")] = "connection-count",
        localhost: Annotated[bool, typer.Option("-l", "--localhost", help="Random 127.0.0.0/16 address")] = False,
        keepalive: Annotated[str | None, typer.Option("-k", "--keepalive", help="TCP keepalive IDLE:COUNT:INTERVAL")] = None,
    ) -> None:  # fmt: skip
        import uvloop

        from lavinmqperf import connection_count as scenario
        from lavinmqperf.errors import describe
        from lavinmqperf.interactive import maximize_fd_limit

        print(f"FD limit: {maximize_fd_limit()}")  # noqa: T201
        state = scenario.ConnectionCount(uri, channels, consumers, queue, localhost, keepalive)
        try:
            uvloop.run(scenario.run(state, count))
        except Exception as exc:  # noqa: BLE001 - the CLI edge: any failure becomes one line
            raise fail(describe(exc)) from None


def _register_queue_count(app: typer.Typer, fail: Callable[[str], typer.Exit]) -> None:
    @app.command("queue-count", help="Declare many queues, repeat on Enter.")
    def queue_count(
        uri: Uri = DEFAULT_URI,
        queues: Annotated[int, typer.Option("-q", "--queues", help="Number of queues")] = 100,
        durable: Annotated[bool, typer.Option("-D", "--durable", help="Durable queues")] = False,
        arguments: Annotated[str | None, typer.Option("--arguments", help="Queue arguments (JSON)")] = None,
        no_wait: Annotated[bool, typer.Option("-n", "--no-wait", help="Don't wait for declare-ok")] = False,
    ) -> None:  # fmt: skip
        import uvloop

        from lavinmqperf import queue_count as scenario
        from lavinmqperf.errors import describe

        args = json_object(arguments, "--arguments")
        try:
            uvloop.run(scenario.run(uri, queues, durable, args, no_wait))
        except Exception as exc:  # noqa: BLE001 - the CLI edge: any failure becomes one line
            raise fail(describe(exc)) from None


__all__ = ["register"]
