"""The status line every screen shows: connected, or why the broker can't be polled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.widgets import Static

State = Literal["connecting", "ok", "error"]


@dataclass(frozen=True, slots=True)
class Status:
    """The outcome of the last poll."""

    state: State
    text: str


class StatusLine(Static):
    """Mirrors the app's ``status`` reactive; red while the broker is unreachable."""

    def on_mount(self) -> None:
        self.watch(self.app, "status", self.show_status, init=True)

    def show_status(self, status: Status) -> None:
        marks = {"connecting": "…", "ok": "●", "error": "✖"}
        self.update(Text(f"{marks[status.state]} {status.text}"))
        self.set_class(status.state == "error", "-error")
        self.set_class(status.state == "ok", "-ok")
