"""``benchmarks/churn.py`` (part of ``make bench``): measures each churn command's
operations and tabulates medians and ratios."""

from __future__ import annotations

from benchmarks import churn
from tests.broker_thread import BrokerThread


def test_measure_reports_every_operation_of_a_command(broker: BrokerThread) -> None:
    rates = churn.measure("queue-churn", broker.amqp_port, 0.3)
    assert list(rates) == ["create/delete transient queue", "create/delete durable queue"]
    assert all(ips > 0 for ips in rates.values())


def test_markdown_has_medians_and_ours_over_rabbitmq() -> None:
    rates = {"open-close channel": {"ours": [3.0, 1.0, 2.0], "rabbit": [1.0, 1.0, 1.0]}}
    table = churn._markdown(rates, ["ours", "rabbit"], 3, 2.0)
    assert "| open-close channel | 2 | 1 | 2.00× |" in table  # noqa: RUF001
    lone = churn._markdown({"x": {"ours": [5.0]}}, ["ours"], 1, 1.0)
    assert "| x | 5 | - |" in lone
