"""Turning API JSON into table cells and short human text (rates, counts, sizes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from rich.text import Text

from lavinmq_tui.api import Json

SortKey = tuple[int, float, str]


@dataclass(frozen=True, slots=True)
class Cell:
    """What a table shows (``text``) and what it sorts by (``sort_key``)."""

    text: str
    sort_key: SortKey
    numeric: bool = False

    def __rich__(self) -> Text:
        return Text(self.text, justify="right" if self.numeric else "left", no_wrap=True)

    def __str__(self) -> str:
        return self.text


def text_cell(value: Any) -> Cell:
    """A string cell; missing values sort last."""
    if value is None:
        return Cell("", (1, 0.0, ""))
    text = str(value)
    return Cell(text, (0, 0.0, text.lower()))


def number_cell(value: Any, render: str | None = None) -> Cell:
    number = as_float(value)
    return Cell(render if render is not None else count(number), (0, number, ""), numeric=True)


def rate_cell(value: Any) -> Cell:
    number = as_float(value)
    return Cell(rate(number), (0, number, ""), numeric=True)


def as_float(value: Any) -> float:
    """A JSON number as a float; anything else (null, missing) as 0."""
    return float(value) if isinstance(value, int | float) else 0.0


def count(value: float) -> str:
    """``1234567`` as ``1,234,567``."""
    return f"{int(value):,}"


def rate(value: float) -> str:
    """A per-second rate: ``0/s``, ``3.5/s``, ``1,250/s``."""
    if value == 0:
        return "0/s"
    if abs(value) < 100:
        return f"{value:.1f}/s"
    return f"{value:,.0f}/s"


def size(value: float) -> str:
    """Bytes as ``512 B``, ``1.5 KiB``, ``3.0 MiB``..."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    step = 0
    while abs(value) >= 1024 and step < len(units) - 1:
        value /= 1024
        step += 1
    return f"{value:.0f} B" if step == 0 else f"{value:.1f} {units[step]}"


def stat_rate(data: Json, name: str) -> float:
    """``data["message_stats"][name + "_details"]["rate"]``, 0 when missing."""
    stats = data.get("message_stats")
    if not isinstance(stats, dict):
        return 0.0
    return detail_rate(stats, name)


def detail_rate(data: Json, name: str) -> float:
    """``data[name + "_details"]["rate"]``, 0 when missing."""
    details = data.get(f"{name}_details")
    return as_float(details.get("rate")) if isinstance(details, dict) else 0.0


def row_id(data: Json) -> str:
    """A stable, unambiguous id of a vhost-scoped object: ``["vhost","name"]``."""
    return orjson.dumps([data.get("vhost", ""), data.get("name", "")]).decode()
