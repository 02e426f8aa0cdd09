"""Message-rate statistics: cumulative counters sampled into numpy ring buffers.

The broker only bumps plain integer counters on its hot paths (``Queue.stat_publish``,
``Channel.stat_confirm``...). Every ``interval`` a sampler reads them and records the
cumulative values of each entity into a ``Series``: a ring buffer of the last ``size``
samples (RabbitMQ's ``*_details`` with ``samples``, LavinMQ's ``stats_log_size``).

Memory is spent only on entities that have seen traffic: an entity whose counters are
all zero gets no ring buffer, and numpy itself is imported on the first one (an idle
broker never loads it). Entities are tracked through weak references, so a deleted
queue's history goes away with the queue.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Counts = tuple[int, ...]


def _numpy() -> Any:
    import numpy

    return numpy


class Series:
    """The last ``size`` samples of a fixed set of cumulative counters."""

    __slots__ = ("_count", "_pos", "_times", "_values", "names")

    def __init__(self, names: Sequence[str], size: int) -> None:
        np_ = _numpy()
        self.names = tuple(names)
        self._values: npt.NDArray[np.int64] = np_.zeros((size, len(self.names)), dtype=np_.int64)
        self._times: npt.NDArray[np.int64] = np_.zeros(size, dtype=np_.int64)
        self._pos = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def record(self, timestamp_ms: int, values: Sequence[int]) -> None:
        """Append one sample of every counter (cumulative values)."""
        self._values[self._pos] = values
        self._times[self._pos] = timestamp_ms
        self._pos = (self._pos + 1) % len(self._times)
        self._count = min(self._count + 1, len(self._times))

    def _order(self) -> npt.NDArray[np.int64]:
        """Ring indices of the stored samples, newest first."""
        size = len(self._times)
        np_ = _numpy()
        result: npt.NDArray[np.int64] = (self._pos - 1 - np_.arange(self._count)) % size
        return result

    def rates(self) -> list[float]:
        """Per-second rate of every counter between the two newest samples."""
        if self._count < 2:
            return [0.0] * len(self.names)
        new, old = self._order()[:2]
        seconds = max(int(self._times[new] - self._times[old]), 1) / 1000
        return [float(v) for v in (self._values[new] - self._values[old]) / seconds]

    def details(
        self, index: int, age_ms: int | None = None, incr_ms: int | None = None
    ) -> dict[str, Any]:
        """RabbitMQ's ``<name>_details``: the rate, plus samples when ``age_ms`` is given."""
        out: dict[str, Any] = {"rate": self.rates()[index]}
        if age_ms is None or self._count == 0:
            return out
        order = self._order()
        newest = int(self._times[order[0]])
        picked: list[int] = []
        for i in order:
            ts = int(self._times[i])
            if ts < newest - age_ms:
                break
            if not picked or int(self._times[picked[-1]]) - ts >= (incr_ms or 0):
                picked.append(int(i))
        samples = [
            {"sample": int(self._values[i, index]), "timestamp": int(self._times[i])}
            for i in picked
        ]
        out["samples"] = samples
        first, last = samples[-1], samples[0]
        span = (last["timestamp"] - first["timestamp"]) / 1000
        out["avg_rate"] = (last["sample"] - first["sample"]) / span if span else 0.0
        out["avg"] = sum(s["sample"] for s in samples) / len(samples)
        return out


def zero_details(age_ms: int | None = None) -> dict[str, Any]:
    """The ``*_details`` of an entity that has no history (never had traffic)."""
    if age_ms is None:
        return {"rate": 0.0}
    return {"rate": 0.0, "samples": [], "avg_rate": 0.0, "avg": 0.0}


class Sampler:
    """Keeps one ``Series`` per entity with traffic, and running totals per group."""

    def __init__(self, size: int = 120, interval_ms: int = 5000) -> None:
        self.size = max(size, 2)
        self.interval_ms = interval_ms
        self.last_sample_ms = 0
        self._series: weakref.WeakKeyDictionary[Any, Series] = weakref.WeakKeyDictionary()
        self._last: weakref.WeakKeyDictionary[Any, Counts] = weakref.WeakKeyDictionary()
        self._totals: dict[Any, list[int]] = {}
        self._total_series: dict[Any, Series] = {}

    def observe(self, entity: Any, names: Sequence[str], counts: Counts, now_ms: int) -> Counts:
        """Record ``entity``'s cumulative ``counts``; returns the increase since last time.

        An entity seen for the first time counts from zero (its counters start at zero
        when it is created).
        """
        last = self._last.get(entity)
        deltas = tuple(c - p for c, p in zip(counts, last, strict=True)) if last else counts
        # An entity that never had traffic costs nothing (100,000 idle queues would keep
        # a tuple and a weak reference each).
        if last != counts and (last is not None or any(counts)):
            self._last[entity] = counts
        series = self._series.get(entity)
        if series is None and any(counts):
            series = self._series[entity] = Series(names, self.size)
        if series is not None:
            series.record(now_ms, counts)
        return tuple(max(d, 0) for d in deltas)

    def add_total(self, key: Any, names: Sequence[str], deltas: Sequence[int]) -> None:
        """Accumulate ``deltas`` into the running total ``key`` (a vhost, the broker)."""
        total = self._totals.get(key)
        if total is None:
            total = self._totals[key] = [0] * len(names)
        for i, d in enumerate(deltas):
            total[i] += d

    def record_total(self, key: Any, names: Sequence[str], now_ms: int) -> None:
        """Record the running total ``key`` into its series, once it has counted anything."""
        total = self._totals.get(key)
        if total is None:
            return
        series = self._total_series.get(key)
        if series is None:
            if not any(total):
                return
            series = self._total_series[key] = Series(names, self.size)
        series.record(now_ms, total)
        self.last_sample_ms = now_ms

    def pending(self, entity: Any, counts: Counts) -> Counts:
        """How much ``counts`` grew since ``entity`` was last observed."""
        last = self._last.get(entity)
        if last is None:
            return counts
        return tuple(c - p for c, p in zip(counts, last, strict=True))

    def total_keys(self) -> list[Any]:
        return list(self._totals)

    def drop_total(self, key: Any) -> None:
        self._totals.pop(key, None)
        self._total_series.pop(key, None)

    def series(self, entity: Any) -> Series | None:
        return self._series.get(entity)

    def total_series(self, key: Any) -> Series | None:
        return self._total_series.get(key)

    def total(self, key: Any) -> list[int] | None:
        return self._totals.get(key)

    def details(
        self,
        series: Series | None,
        counts: Sequence[int],
        names: Sequence[str],
        age_ms: int | None = None,
        incr_ms: int | None = None,
    ) -> dict[str, Any]:
        """RabbitMQ's ``message_stats`` object: ``name`` and ``name_details`` per counter."""
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            out[name] = counts[i]
            out[f"{name}_details"] = (
                series.details(i, age_ms, incr_ms) if series is not None else zero_details(age_ms)
            )
        return out
