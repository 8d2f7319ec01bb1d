"""The gate benchmark, run small: every figure comes out, measured, and the cache is reused."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import gate_bench

pytestmark = pytest.mark.slow

HEADLINES = (
    "gate.decision_p99_ms",
    "gate.decision_floor_ms",
    "gate.tap_to_relay_p99_ms",
    "gate.sync_100k_s",
    "gate.rss_mb",
    "gate.cold_start_s",
    "gate.decision_during_sync_p99_ms",
)


def test_a_small_run_measures_every_figure_and_reuses_its_cache(tmp_path: Path) -> None:
    figures = gate_bench.run(2000, tmp_path, decisions=20, taps=4, delta=600, starts=1)
    for name in HEADLINES:
        assert math.isfinite(figures[name]) and figures[name] > 0, name
    assert figures["gate.decision_admitted_share"] == 1.0  # the timed path is an admission
    assert figures["gate.cache_reused"] == 0.0
    assert figures["gate.rss_mb"] >= figures["gate.rss_started_mb"] > 10
    assert figures["gate.decision_p99_over_goal"] == pytest.approx(
        figures["gate.decision_p99_ms"] / (3 * figures["gate.decision_floor_ms"])
    )
    path, built = gate_bench.cache_store(2000, tmp_path)
    assert built["gate.cache_reused"] == 1.0 and path.exists()
