"""Ring-buffer rate history (lavinmq.stats)."""

from __future__ import annotations

from lavinmq.stats import Sampler, Series


class Entity:
    pass


def test_series_rates_and_samples() -> None:
    s = Series(("a", "b"), size=3)
    assert s.rates() == [0.0, 0.0]
    for i, ts in enumerate((1000, 2000, 3000, 4000)):
        s.record(ts, (i * 10, i))
    assert len(s) == 3  # the ring keeps the newest three
    assert s.rates() == [10.0, 1.0]
    d = s.details(0, age_ms=60_000, incr_ms=1000)
    assert [x["timestamp"] for x in d["samples"]] == [4000, 3000, 2000]
    assert d["avg_rate"] == 10.0 and d["avg"] == 20.0
    assert [x["timestamp"] for x in s.details(0, age_ms=1000)["samples"]] == [4000, 3000]


def test_sampler_lazy_series_and_totals() -> None:
    sampler = Sampler(size=5, interval_ms=10)
    idle, busy = Entity(), Entity()
    assert sampler.observe(idle, ("x",), (0,), 1) == (0,)
    assert sampler.series(idle) is None  # no traffic, no ring buffer
    assert sampler.observe(busy, ("x",), (5,), 1) == (5,)
    assert sampler.observe(busy, ("x",), (8,), 2) == (3,)
    assert sampler.pending(busy, (10,)) == (2,)
    sampler.add_total("t", ("x",), (3,))
    sampler.record_total("t", ("x",), 2)
    assert sampler.total("t") == [3]
    details = sampler.details(sampler.series(busy), (8,), ("x",))
    assert details == {"x": 8, "x_details": {"rate": 3000.0}}
    del busy
    import gc

    gc.collect()
    assert len(sampler._series) == 0  # history goes away with the entity
