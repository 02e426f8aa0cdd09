"""lavinmqperf throughput: what it reports equals what the broker counted."""

from __future__ import annotations

import json

from tests.broker_thread import BrokerThread
from tests.perf.conftest import perf, queue_stats, run_json


def test_counts_match_the_broker(broker: BrokerThread) -> None:
    out = run_json(broker, "-x", "1", "-y", "1", "-C", "20000", "-D", "20000")
    assert out["published"] == out["consumed"] == 20000
    assert {"elapsed_seconds", "avg_pub_rate", "avg_consume_rate"} <= out.keys()
    stats = queue_stats(broker, "perf-test")
    assert stats["publish"] == stats["deliver"] == 20000
    assert stats["ready"] == 0


def test_timed_run_reports_what_was_published(broker: BrokerThread) -> None:
    out = run_json(broker, "-z", "1")
    stats = queue_stats(broker, "perf-test")
    assert out["published"] > 1000
    assert stats["publish"] == out["published"]
    # no acks: what was not delivered is still queued; the tool saw at most what was sent
    assert stats["deliver"] + stats["ready"] == stats["publish"]
    assert 0 < out["consumed"] <= stats["deliver"]
    assert abs(out["avg_pub_rate"] - out["published"] / out["elapsed_seconds"]) <= 1


def test_several_processes(broker: BrokerThread) -> None:
    out = run_json(broker, "-x", "3", "-y", "3", "-C", "30001", "-D", "30001", "-a", "100")
    assert out["published"] == 30001
    # -D is a total over the consumers, which may overshoot it together (as in LavinMQ)
    stats = queue_stats(broker, "perf-test")
    assert stats["publish"] == 30001
    assert 30001 <= out["consumed"] <= stats["deliver"] <= 30001 + 3 * 100


def test_confirm_and_ack_every_message(broker: BrokerThread) -> None:
    out = run_json(broker, "-c", "1", "-a", "1", "-C", "500", "-D", "500")
    assert out["published"] == out["consumed"] == 500
    stats = queue_stats(broker, "perf-test")
    assert stats["ack"] == 500 and stats["unacked"] == 0


def test_ack_every_n_with_prefetch(broker: BrokerThread) -> None:
    out = run_json(broker, "-a", "10", "-P", "100", "-c", "1000", "-C", "5000", "-D", "5000")
    assert out["consumed"] == 5000
    assert queue_stats(broker, "perf-test")["ack"] == 5000


def test_poll_with_basic_get(broker: BrokerThread) -> None:
    out = run_json(broker, "-g", "-a", "1", "-r", "2000", "-C", "300", "-D", "300")
    assert out["consumed"] == 300
    stats = queue_stats(broker, "perf-test")
    assert stats["get"] == 300 and stats["ack"] == 300


def test_transactions(broker: BrokerThread) -> None:
    out = run_json(broker, "-t", "10", "-T", "10", "-a", "1", "-C", "300", "-D", "300")
    assert out["published"] == out["consumed"] == 300
    stats = queue_stats(broker, "perf-test")
    assert stats["publish"] == 300 and stats["ack"] == 300


def test_verify_and_latency(broker: BrokerThread) -> None:
    out = run_json(broker, "-V", "-l", "-r", "5000", "-C", "3000", "-D", "3000")
    assert out["consumed"] == out["latency_count"] == 3000
    for key in ("min", "median", "p75", "p95", "p99", "p999", "max"):
        assert out[f"latency_{key}_ms"] >= 0
    assert out["latency_min_ms"] <= out["latency_median_ms"] <= out["latency_max_ms"]


def test_latency_scenario_text_output(broker: BrokerThread) -> None:
    proc = perf("latency", "--uri", broker.amqp_url, "-z", "1.2", "-r", "2000", "--histogram")
    assert proc.returncode == 0, proc.stderr
    assert "| Latency (ms) min/median/75th/95th/99th: " in proc.stdout
    for line in (
        "Average publish rate:",
        "Average consume rate:",
        "  99.9th:",
        "Latency histogram",
    ):
        assert line in proc.stdout


def test_properties_persistent_random_bodies(broker: BrokerThread) -> None:
    props = json.dumps({"content_type": "text/plain", "headers": {"a": 1}, "priority": 1})
    out = run_json(broker, "-p", "--random-bodies", "--properties", props,
                   "--queue-args", '{"x-max-priority": 5}', "-C", "200", "-D", "200")  # fmt: skip
    assert out["consumed"] == 200
    assert broker.call(lambda: broker.broker.vhosts["/"].queues["perf-test"].durable)


def test_queue_pattern_spreads_over_queues(broker: BrokerThread) -> None:
    args = ["-x", "2", "-y", "2", "--queue-pattern", "pq-%", "--queue-pattern-to", "2"]
    out = run_json(broker, *args, "-C", "1000", "-D", "1000")
    assert out["consumed"] == 1000
    publishes = [queue_stats(broker, f"pq-{i}")["publish"] for i in (1, 2)]
    assert sum(publishes) == 1000 and min(publishes) > 0


def test_fanout_exchange(broker: BrokerThread) -> None:
    args = ["-e", "amq.fanout", "-y", "2", "--queue-pattern", "fq-%", "--queue-pattern-to", "2"]
    out = run_json(broker, *args, "-C", "500", "-D", "1000")
    assert out["published"] == 500 and out["consumed"] == 1000
    assert [queue_stats(broker, f"fq-{i}")["deliver"] for i in (1, 2)] == [500, 500]


def test_publish_only_rate_limited(broker: BrokerThread) -> None:
    out = run_json(broker, "-y", "0", "-u", "nowhere", "-r", "1000", "-z", "1.5")
    assert 1000 <= out["published"] <= 1700
    stats = broker.call(lambda: list(broker.broker.vhosts["/"].exchanges[""].stats))
    assert stats[0] == out["published"] and stats[1] == 0  # all in, none routed


def test_consume_rate_limited(broker: BrokerThread) -> None:
    out = run_json(broker, "-R", "500", "-z", "1.5")
    assert 300 <= out["consumed"] <= 1100


def test_live_lines_and_plot(broker: BrokerThread, tmp_path) -> None:
    plot = tmp_path / "rates.png"
    proc = perf("throughput", "--uri", broker.amqp_url, "-z", "2", "--plot", str(plot))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("Publish rate: ") for line in lines) == 2
    assert "Summary:" in lines and any(line.startswith("Peak consume rate: ") for line in lines)
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
