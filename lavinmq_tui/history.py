"""Ring buffers of values seen per poll, for the sparklines.

The API's own ``samples`` are as coarse as the broker's ``stats_interval`` (5 s by
default) and only come with ``msg_rates_age``; the TUI instead keeps the last ``size``
values it polled (one a second), so a sparkline moves with every refresh.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from lavinmq_tui.api import Json
from lavinmq_tui.format import as_float, stat_rate

OVERVIEW_RATES = ("publish", "deliver_get", "ack", "confirm", "redeliver", "return_unroutable")
QUEUE_RATES = ("publish", "deliver_get", "ack", "redeliver")
MESSAGE_COUNTS = ("messages_ready", "messages_unacknowledged")
DEFAULT_SIZE = 60


class History:
    """The last ``size`` values of each named series."""

    def __init__(self, names: Iterable[str], size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._series: dict[str, deque[float]] = {n: deque(maxlen=size) for n in names}

    def push(self, name: str, value: float) -> None:
        self._series[name].append(value)

    def values(self, name: str) -> list[float]:
        return list(self._series[name])

    def latest(self, name: str) -> float:
        series = self._series[name]
        return series[-1] if series else 0.0


class OverviewHistory(History):
    """Broker-wide message rates and message counts, plus the last overview seen."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        super().__init__(OVERVIEW_RATES + MESSAGE_COUNTS, size)
        self.overview: Json = {}

    def record(self, overview: Json) -> None:
        self.overview = overview
        for name in OVERVIEW_RATES:
            self.push(name, stat_rate(overview, name))
        totals = overview.get("queue_totals")
        totals = totals if isinstance(totals, dict) else {}
        for name in MESSAGE_COUNTS:
            self.push(name, as_float(totals.get(name)))


class QueueHistory(History):
    """One queue's message rates and counts."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        super().__init__(QUEUE_RATES + MESSAGE_COUNTS, size)

    def record(self, queue: Json) -> None:
        for name in QUEUE_RATES:
            self.push(name, stat_rate(queue, name))
        for name in MESSAGE_COUNTS:
            self.push(name, as_float(queue.get(name)))
