"""Cells, human-readable numbers and the per-poll history (no broker needed)."""

from __future__ import annotations

from lavinmq_tui.format import count, number_cell, rate, rate_cell, size, stat_rate, text_cell
from lavinmq_tui.history import OverviewHistory


def test_human_numbers() -> None:
    assert [count(0), count(1234567.9)] == ["0", "1,234,567"]
    assert [rate(0), rate(3.14159), rate(1250.4)] == ["0/s", "3.1/s", "1,250/s"]
    assert [size(512), size(1536), size(3 * 1024**3)] == ["512 B", "1.5 KiB", "3.0 GiB"]


def test_cells_sort_by_value_not_text() -> None:
    cells = [rate_cell(12.5), rate_cell(2), rate_cell(100)]
    assert [c.text for c in sorted(cells, key=lambda c: c.sort_key)] == ["2.0/s", "12.5/s", "100/s"]
    names = [text_cell("b"), text_cell(None), text_cell("A")]
    assert [c.text for c in sorted(names, key=lambda c: c.sort_key)] == ["A", "b", ""]
    assert number_cell(None).text == "0" and str(text_cell("[bold]x")) == "[bold]x"


def test_missing_stats_are_zero() -> None:
    assert stat_rate({}, "publish") == 0.0
    assert stat_rate({"message_stats": {"publish_details": {"rate": 2.5}}}, "publish") == 2.5


def test_overview_history_keeps_the_last_n_polls() -> None:
    history = OverviewHistory(size=3)
    for i in range(5):
        history.record(
            {
                "message_stats": {"publish_details": {"rate": float(i)}},
                "queue_totals": {"messages_ready": i * 10},
            }
        )
    assert history.values("publish") == [2.0, 3.0, 4.0]
    assert history.values("messages_ready") == [20.0, 30.0, 40.0]
    assert history.latest("ack") == 0.0 and history.overview["queue_totals"]["messages_ready"] == 40
