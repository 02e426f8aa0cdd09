"""Rates, latency percentiles (numpy), the summary text and JSON, an HDR-style histogram."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

RESERVOIR_SIZE = 128 * 1024
"""Latency samples kept for the summary, as LavinMQ's ``LATENCY_RESERVOIR_SIZE``."""
Samples = npt.NDArray[np.float64]


class LatencyReservoir:
    """A uniform random sample (reservoir sampling) of all latencies seen, in ms."""

    def __init__(self, size: int = RESERVOIR_SIZE, seed: int | None = None) -> None:
        self.size = size
        self.count = 0
        """How many latencies were measured in total."""
        self._seen = 0
        self._samples: Samples = np.empty(0, dtype=np.float64)
        self._rng = np.random.default_rng(seed)

    def add(self, samples: Samples, count: int | None = None) -> None:
        """Add a batch of samples that stands for ``count`` measurements (default: all)."""
        self.count += len(samples) if count is None else count
        room = self.size - len(self._samples)
        if room > 0:
            self._samples = np.concatenate((self._samples, samples[:room]))
            self._seen += min(room, len(samples))
            samples = samples[room:]
        if len(samples):
            index = np.arange(self._seen, self._seen + len(samples))
            slots = self._rng.integers(0, index + 1)
            keep = slots < self.size
            self._samples[slots[keep]] = samples[keep]
            self._seen += len(samples)

    @property
    def samples(self) -> Samples:
        """The kept samples."""
        return self._samples


def percentiles(samples: Samples) -> dict[str, float] | None:
    """min/median/p75/p95/p99/p99.9/max of ``samples`` in ms (None when empty)."""
    if len(samples) == 0:
        return None
    p50, p75, p95, p99, p999 = np.percentile(samples, [50, 75, 95, 99, 99.9])
    return {
        "min": float(samples.min()), "median": float(p50), "p75": float(p75),
        "p95": float(p95), "p99": float(p99), "p999": float(p999), "max": float(samples.max()),
    }  # fmt: skip


@dataclass(slots=True)
class Result:
    """The outcome of a throughput run."""

    elapsed: float
    published: int
    consumed: int
    pub_rates: list[int] = field(default_factory=list)
    consume_rates: list[int] = field(default_factory=list)
    latency: LatencyReservoir | None = None

    @property
    def avg_pub_rate(self) -> int:
        return round(self.published / self.elapsed) if self.elapsed > 0 else 0

    @property
    def avg_consume_rate(self) -> int:
        return round(self.consumed / self.elapsed) if self.elapsed > 0 else 0

    def to_json(self) -> dict[str, Any]:
        """LavinMQ's JSON keys, then ours (totals, peaks, p99.9 and max latency)."""
        out: dict[str, Any] = {
            "elapsed_seconds": self.elapsed,
            "avg_pub_rate": self.avg_pub_rate,
            "avg_consume_rate": self.avg_consume_rate,
        }
        stats = percentiles(self.latency.samples) if self.latency is not None else None
        if stats is not None and self.latency is not None:
            for key in ("min", "median", "p75", "p95", "p99"):
                out[f"latency_{key}_ms"] = round(stats[key], 3)
            out["latency_count"] = self.latency.count
            out["latency_sample_size"] = len(self.latency.samples)
            out["latency_p999_ms"] = round(stats["p999"], 3)
            out["latency_max_ms"] = round(stats["max"], 3)
        out["published"] = self.published
        out["consumed"] = self.consumed
        out["peak_pub_rate"] = max(self.pub_rates, default=0)
        out["peak_consume_rate"] = max(self.consume_rates, default=0)
        return out

    def summary_lines(self) -> list[str]:
        """The human summary: LavinMQ's lines, then peaks and the latency percentiles."""
        lines = [
            "Summary:",
            f"Average publish rate: {self.avg_pub_rate} msgs/s",
            f"Average consume rate: {self.avg_consume_rate} msgs/s",
            f"Peak publish rate: {max(self.pub_rates, default=0)} msgs/s",
            f"Peak consume rate: {max(self.consume_rates, default=0)} msgs/s",
        ]
        reservoir = self.latency
        stats = percentiles(reservoir.samples) if reservoir is not None else None
        if reservoir is not None and stats is not None:
            n = len(reservoir.samples)
            if reservoir.count > n:
                lines.append(f"Latency (ms, n={n} sampled from {reservoir.count}):")
            else:
                lines.append(f"Latency (ms, n={reservoir.count}):")
            labels = (("min", "min"), ("median", "median"), ("75th", "p75"), ("95th", "p95"),
                      ("99th", "p99"), ("99.9th", "p999"), ("max", "max"))  # fmt: skip
            lines += [f"  {label + ':':<8}{stats[key]:.3f}" for label, key in labels]
        return lines


def live_latency(samples: Samples) -> str:
    """The per-second latency suffix of LavinMQ's live line ("" without samples)."""
    stats = percentiles(samples)
    if stats is None:
        return ""
    values = "/".join(f"{stats[k]:.3f}" for k in ("min", "median", "p75", "p95", "p99"))
    return f" | Latency (ms) min/median/75th/95th/99th: {values}"


def histogram_lines(samples: Samples, width: int = 40) -> list[str]:
    """An HDR-style latency histogram: logarithmic buckets (4 per power of two) with
    count, cumulative percentile and a bar."""
    if len(samples) == 0:
        return []
    low = max(float(samples.min()), 1e-3)
    edges = low * 2.0 ** (np.arange(0, 64) / 4)
    edges = edges[: int(np.searchsorted(edges, samples.max())) + 2]
    counts, _ = np.histogram(np.clip(samples, edges[0], edges[-1]), bins=edges)
    total = counts.sum()
    cumulative = np.cumsum(counts) / total * 100
    scale = width / max(int(counts.max()), 1)
    lines = ["Latency histogram (ms):", f"  {'up to':>10} {'count':>9} {'cumul.':>8}"]
    for edge, count, cum in zip(edges[1:], counts, cumulative, strict=True):
        if count:
            lines.append(
                f"  {edge:>10.3f} {count:>9} {cum:>7.3f}% {'#' * max(1, round(count * scale))}"
            )
    return lines


__all__ = ["LatencyReservoir", "Result", "histogram_lines", "live_latency", "percentiles"]
