"""Unit tests of lavinmqperf's pieces: the delivery scanner, pacing, stats, plot, options."""

from __future__ import annotations

import struct
import time
import zlib

import numpy as np
import pytest

from lavinmq.amqp.frames import HEARTBEAT, content_frames, method_frame
from lavinmq.amqp.spec import BasicCancel, BasicConsumeOk, BasicDeliver
from lavinmqperf.ips import IpsReport, format_reports
from lavinmqperf.options import ThroughputOptions, body_pattern, split
from lavinmqperf.plot import encode_png, render
from lavinmqperf.scanner import DeliveryScanner
from lavinmqperf.stats import LatencyReservoir, Result, histogram_lines, percentiles
from lavinmqperf.throughput import plan_workers
from lavinmqperf.ticker import Ticker


def _deliveries(first: int, count: int, body: bytes, key: str = "perf-test") -> bytes:
    content = b"".join(content_frames(1, body, frame_max=4096))
    return b"".join(
        method_frame(1, BasicDeliver("ctag", tag, False, "", key)) + content
        for tag in range(first, first + count)
    )


@pytest.mark.parametrize("size", [0, 16, 5000])
@pytest.mark.parametrize("chunk", [1, 7, 64, 1000, 100_000])
def test_scanner_counts_deliveries_split_anywhere(size: int, chunk: int) -> None:
    other = method_frame(1, BasicConsumeOk("ctag")) + HEARTBEAT
    stream = other + _deliveries(1, 50, b"x" * size) + method_frame(1, BasicCancel("c", True))
    stream += _deliveries(51, 30, b"y" * size, key="other")
    forwarded: list[bytes] = []
    scanner = DeliveryScanner(forwarded.append)
    total = 0
    tags = []
    for i in range(0, len(stream), chunk):
        n = scanner.feed(stream[i : i + chunk])
        total += n
        if n:
            tags.append(scanner.last_tag)
    assert total == 80
    assert tags[-1] == 80 and tags == sorted(tags)
    expected = [method_frame(1, BasicConsumeOk("ctag")), HEARTBEAT,
                method_frame(1, BasicCancel("c", True))]  # fmt: skip
    assert b"".join(forwarded) == b"".join(expected)


def test_scanner_uses_the_template_for_identical_deliveries() -> None:
    scanner = DeliveryScanner(lambda frames: None)
    assert scanner.feed(_deliveries(1, 1000, b"z" * 16)) == 1000
    assert scanner._template is not None and scanner.last_tag == 1000


def test_ticker_paces_batches() -> None:
    ticker = Ticker(1000)
    assert ticker.allowance(500) == 1
    ticker.done = 1
    assert 0 < ticker.delay() <= 0.002
    time.sleep(0.05)
    assert 40 <= ticker.allowance(500) <= 60
    assert Ticker(0).allowance(123) == 123 and Ticker(0).delay() == 0


def test_split_and_options() -> None:
    assert split(10, 3) == [4, 3, 3]
    assert split(0, 2) == [None, None]
    assert body_pattern(30)[:3] == b"@AB" and body_pattern(30)[27] == 64
    opts = ThroughputOptions(queue_pattern="q-%", queue_pattern_from=2, queue_pattern_to=4)
    assert opts.queue_names() == ["q-2", "q-3", "q-4"]
    assert ThroughputOptions(persistent=True).encoded_properties().delivery_mode == 2
    assert not ThroughputOptions(verify=True).fast_consumers()


def test_plan_spreads_clients_over_processes() -> None:
    plans = plan_workers(ThroughputOptions(publishers=5, consumers=3, processes=2,
                                           pmessages=11, cmessages=7))  # fmt: skip
    consumers = [p for p in plans if p.consume]
    publishers = [p for p in plans if not p.consume]
    assert len(consumers) == len(publishers) == 2
    assert sorted(len(p.quotas) for p in publishers) == [2, 3]
    assert sum(q or 0 for p in publishers for q in p.quotas) == 11
    assert all(q == 7 for p in consumers for q in p.quotas)  # -D is checked as a total
    assert [p.slot for p in plans] == [0, 1, 2, 3]


def test_latency_reservoir_and_percentiles() -> None:
    reservoir = LatencyReservoir(size=1000, seed=1)
    for _ in range(10):
        reservoir.add(np.arange(1000, dtype=np.float64))
    assert reservoir.count == 10_000 and len(reservoir.samples) == 1000
    stats = percentiles(np.arange(1, 101, dtype=np.float64))
    assert stats is not None and stats["min"] == 1 and stats["max"] == 100
    assert stats["median"] == pytest.approx(50.5) and stats["p99"] == pytest.approx(99.01)
    assert percentiles(np.empty(0)) is None


def test_result_json_and_summary() -> None:
    reservoir = LatencyReservoir()
    reservoir.add(np.array([1.0, 2.0, 3.0]))
    result = Result(2.0, 100, 90, [60, 40], [50, 40], reservoir)
    out = result.to_json()
    assert out["avg_pub_rate"] == 50 and out["avg_consume_rate"] == 45
    assert out["latency_median_ms"] == 2.0 and out["latency_count"] == 3
    lines = result.summary_lines()
    assert lines[:3] == ["Summary:", "Average publish rate: 50 msgs/s",
                         "Average consume rate: 45 msgs/s"]  # fmt: skip
    assert "Latency (ms, n=3):" in lines
    assert histogram_lines(reservoir.samples)[0] == "Latency histogram (ms):"


def test_png_plot_is_valid() -> None:
    png = encode_png(render([10, 20, 15], [5, 20, 10]), {"Title": "t"})
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    start = png.index(b"IDAT") + 4
    length = struct.unpack(">I", png[start - 8 : start - 4])[0]
    raw = zlib.decompress(png[start : start + length])
    assert len(raw) == height * (width * 3 + 1)


def test_ips_report_format() -> None:
    reports = [IpsReport("fast op", 2000, 10, 1.0, 3.0), IpsReport("slow", 1000, 5, 1.0, 1.0)]
    lines = format_reports(reports)
    assert lines[0].endswith("fastest") and "2.00× slower" in lines[1]  # noqa: RUF001
    assert reports[0].to_json()["total_iterations"] == 2010
