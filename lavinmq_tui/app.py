"""lavinmq-tui: a live terminal dashboard of a LavinMQ broker, over its management API.

One worker polls the API every ``interval`` seconds: ``/api/overview`` (for the status
line and the overview's rate history) and then whatever the visible screen shows. A poll
still in flight when the timer fires again is left to finish (a slow broker is polled
less often, never concurrently); ``r`` cancels it and polls at once. Failures only
change the status line: the poller keeps retrying until the broker answers again.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker

from lavinmq_tui.api import DEFAULT_URI, ApiError, Json, ManagementClient, Target
from lavinmq_tui.history import OverviewHistory
from lavinmq_tui.screens import (
    ConnectionsScreen,
    ExchangesScreen,
    OverviewScreen,
    PolledScreen,
    QueuesScreen,
    RefreshRequest,
)
from lavinmq_tui.widgets import Status

ENV_PREFIX = "LAVINMQ_TUI_"


class LavinMQApp(App[None]):
    """Overview, queues, connections and exchanges, one mode each (keys 1-4)."""

    CSS_PATH = "app.tcss"
    TITLE = "LavinMQ"
    BINDINGS = [
        Binding("1", "switch_mode('overview')", "Overview"),
        Binding("2", "switch_mode('queues')", "Queues"),
        Binding("3", "switch_mode('connections')", "Connections"),
        Binding("4", "switch_mode('exchanges')", "Exchanges"),
        Binding("r", "refresh", "Refresh"),
        Binding("q", "quit", "Quit"),
    ]

    status: reactive[Status] = reactive(Status("connecting", "connecting…"))

    def __init__(self, target: Target, interval: float = 1.0, history_size: int = 60) -> None:
        super().__init__()
        self.target = target
        self.interval = interval
        self.client = ManagementClient(target)
        self.history = OverviewHistory(history_size)
        self.poller: Worker[None] | None = None
        self.set_reactive(LavinMQApp.status, Status("connecting", f"connecting to {target.uri}…"))

    def on_mount(self) -> None:
        screens: dict[str, Callable[[], Screen[None]]] = {
            "overview": lambda: OverviewScreen(self.client, self.history),
            "queues": lambda: QueuesScreen(self.client),
            "connections": lambda: ConnectionsScreen(self.client),
            "exchanges": lambda: ExchangesScreen(self.client),
        }
        for mode, factory in screens.items():
            self.add_mode(mode, factory)
        self.switch_mode("overview")
        self.set_interval(self.interval, self.tick)
        self.tick()

    async def on_unmount(self) -> None:
        await self.client.close()

    def tick(self) -> None:
        """Start a poll unless the previous one is still running."""
        if self.poller is None or self.poller.is_finished:
            self.poller = self.poll()

    def action_refresh(self) -> None:
        self.poller = self.poll()  # exclusive: cancels a poll in flight

    def on_refresh_request(self, _: RefreshRequest) -> None:
        self.action_refresh()

    async def action_switch_mode(self, mode: str) -> None:
        await self.switch_mode(mode)
        self.action_refresh()  # show the new screen's data now, not in up to a second

    @work(exclusive=True, group="poll")
    async def poll(self) -> None:
        try:
            overview = await self.client.overview()
            self.history.record(overview)
            screen = self.polled_screen()
            if screen is not None:
                await screen.poll()
        except ApiError as exc:
            self.status = Status("error", f"{exc} (retrying every {self.interval:g} s)")
        else:
            self.status = Status("ok", self.connected_text(overview))

    def polled_screen(self) -> PolledScreen[object] | None:
        """The top polled screen, when visible (a dialog over it keeps it visible)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, PolledScreen):
                return screen if screen.is_current and screen.is_ready else None
        return None

    def connected_text(self, overview: Json) -> str:
        product = f"{overview.get('product_name', 'LavinMQ')} {overview.get('product_version', '')}"
        return f"{self.target.uri} as {self.target.user} · {product.strip()}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="lavinmq-tui", description="A terminal dashboard of a LavinMQ broker."
    )
    parser.add_argument(
        "--uri",
        default=env.get(f"{ENV_PREFIX}URI", DEFAULT_URI),
        help=f"management API URI, may carry user:password@ (env {ENV_PREFIX}URI, "
        f"default {DEFAULT_URI})",
    )
    parser.add_argument(
        "--user", default=env.get(f"{ENV_PREFIX}USER", "guest"), help=f"env {ENV_PREFIX}USER"
    )
    parser.add_argument(
        "--password",
        default=env.get(f"{ENV_PREFIX}PASSWORD", "guest"),
        help=f"env {ENV_PREFIX}PASSWORD",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=env.get(f"{ENV_PREFIX}INTERVAL", "1"),  # argparse applies ``type``
        help=f"seconds between refreshes (env {ENV_PREFIX}INTERVAL, default 1)",
    )
    return parser.parse_args(argv)


def make_app(argv: Sequence[str] | None = None) -> LavinMQApp:
    args = parse_args(argv)
    if args.interval <= 0:
        raise SystemExit("lavinmq-tui: error: --interval must be > 0")
    try:
        target = Target.parse(args.uri, args.user, args.password)
    except ValueError as exc:
        raise SystemExit(f"lavinmq-tui: error: {exc}") from None
    return LavinMQApp(target, interval=args.interval)


def main(argv: Sequence[str] | None = None) -> None:
    make_app(argv).run()
