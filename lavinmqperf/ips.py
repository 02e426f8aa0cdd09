"""Iterations per second of one operation, as Crystal's ``Benchmark.ips`` that LavinMQ's
churn scenarios use: a warmup, then samples of ~100 ms whose rates give mean and spread.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

SAMPLE_SECONDS = 0.1


@dataclass(slots=True)
class IpsReport:
    """The measurement of one labelled operation."""

    label: str
    iterations: int
    """Iterations in the measured period."""
    warmup_iterations: int
    seconds: float
    stddev_pct: float

    @property
    def ips(self) -> float:
        return self.iterations / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "ips": round(self.ips, 1),
            "mean_us": round(1e6 / self.ips, 3) if self.ips else None,
            "stddev_pct": round(self.stddev_pct, 2),
            "iterations": self.iterations,
            "warmup_iterations": self.warmup_iterations,
            "total_iterations": self.iterations + self.warmup_iterations,
        }


async def measure(
    label: str, op: Callable[[], Awaitable[None]], warmup: float, seconds: float
) -> IpsReport:
    """Run ``op`` for ``warmup`` seconds, then for ``seconds`` in ~100 ms samples."""
    warm = 0
    deadline = time.perf_counter() + warmup
    while time.perf_counter() < deadline:
        await op()
        warm += 1
    rates: list[float] = []
    total = 0
    start = now = time.perf_counter()
    end = start + seconds
    while now < end or total == 0:
        sample_start, count = now, 0
        sample_end = min(now + SAMPLE_SECONDS, end)
        while now < sample_end or count == 0:
            await op()
            count += 1
            now = time.perf_counter()
        rates.append(count / (now - sample_start))
        total += count
    spread = statistics.pstdev(rates) / statistics.fmean(rates) * 100 if len(rates) > 1 else 0.0
    return IpsReport(label, total, warm, now - start, spread)


def _human(value: float, units: tuple[str, ...], step: float) -> str:
    for unit in units[:-1]:
        if abs(value) < step:
            return f"{value:.2f}{unit}"
        value /= step
    return f"{value:.2f}{units[-1]}"


def format_reports(reports: list[IpsReport]) -> list[str]:
    """Crystal's ``Benchmark.ips`` table: label, ips, time per op, spread, comparison."""
    width = max((len(r.label) for r in reports), default=0)
    best = max((r.ips for r in reports), default=0.0)
    lines = []
    for r in reports:
        per_op = _human(1e9 / r.ips, ("ns", "µs", "ms", "s"), 1000.0) if r.ips else "-"
        speed = _human(r.ips, ("", "k", "M", "G"), 1000.0)
        versus = "fastest" if r.ips == best else f"{best / r.ips:.2f}× slower" if r.ips else ""  # noqa: RUF001 - as Crystal prints it
        lines.append(
            f"{r.label:>{width}} {speed:>8} ({per_op:>9}) (±{r.stddev_pct:>6.2f}%)  {versus}"
        )
    return lines


__all__ = ["IpsReport", "format_reports", "measure"]
