"""Overview widgets: a labelled number, and a rate with a sparkline of its history."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline, Static


class StatBox(Static):
    """``Queues`` over ``12``: one total of the overview."""

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="stat-box")
        self.label = label
        self.value = ""

    def on_mount(self) -> None:
        self.show("-")

    def show(self, value: str) -> None:
        if value != self.value:
            self.value = value
            self.update(Text.assemble((value, "bold"), "\n", (self.label, "dim")))


class RateGraph(Horizontal):
    """``Publish  12.0/s  ▁▂▃▅▇``: a name, its latest value and a sparkline."""

    def __init__(self, label: str, *, span: int = 60, id: str | None = None) -> None:
        super().__init__(id=id, classes="rate-graph")
        self.label = label
        self.span = span
        self.value = ""
        self.samples: list[float] = []

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="rate-label")
        yield Label("-", classes="rate-value")
        yield Sparkline([], classes="rate-sparkline")

    def show(self, samples: Sequence[float], value: str) -> None:
        self.samples = list(samples)
        self.value = value
        self.query_one(".rate-value", Label).update(value)
        # zeros on the left until ``span`` samples are in, so the graph fills from the
        # right, and one leading zero so a steady rate is drawn from the baseline
        padding = [0.0] * (self.span - len(self.samples) + 1)
        self.query_one(Sparkline).data = padding + self.samples
