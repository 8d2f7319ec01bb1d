"""The TVM benchmark, run small: every figure comes out, measured and finite."""

from __future__ import annotations

import math

import pytest

from bench import tvm_bench
from bench.report import TARGETS

pytestmark = pytest.mark.slow

HEADLINES = (
    "tvm.purchase_software_p95_ms",
    "tvm.purchase_floor_ms",
    "tvm.purchase_pos_p95_ms",
    "tvm.purchase_total_p95_ms",
    "tvm.frame_p99_ms",
    "tvm.rss_home_mb",
    "tvm.rss_mb",
    "tvm.cold_start_s",
)


def test_a_small_run_measures_every_figure() -> None:
    figures = tvm_bench.run(purchases_n=3, warm_up=1, frames=10, starts=1)
    for name in HEADLINES:
        assert math.isfinite(figures[name]) and figures[name] > 0, name
    assert figures["tvm.purchases"] == 3.0
    # the POS's own time is taken out of each purchase, never more than the purchase took
    assert figures["tvm.purchase_software_max_ms"] <= figures["tvm.purchase_total_max_ms"]
    assert figures["tvm.rss_mb"] > 10 and figures["tvm.rss_peak_mb"] >= figures["tvm.rss_mb"]
    assert figures["tvm.purchase_software_over_floor_goal"] == pytest.approx(
        figures["tvm.purchase_software_p95_ms"] / (4 * figures["tvm.purchase_floor_ms"])
    )
    assert {t.key for t in TARGETS if t.key.startswith("tvm.")} <= set(figures)
