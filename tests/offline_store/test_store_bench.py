"""The offline store's benchmark runs end to end on a small cache and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import offline_store_bench

pytestmark = pytest.mark.slow


def test_the_benchmark_reports_every_figure(tmp_path: Path) -> None:
    figures = offline_store_bench.run(1500, tmp_path, passages=1000, appends_timed=8)
    assert figures["offline_store.tickets"] == 1500
    assert figures["offline_store.load_tickets_per_s"] > 0
    assert 109 < figures["offline_store.bytes_per_ticket"] < 2000
    for name in ("get_hit", "get_miss", "holder_hit", "holder_miss"):
        for phase in ("cold", "warm"):
            assert figures[f"offline_store.{name}_{phase}_p99_us"] > 0
    for name in ("passback_used", "passback_unused", "append", "append_no_ckpt"):
        assert figures[f"offline_store.{name}_p50_us"] > 0
    assert figures["offline_store.purged"] > 0
    assert list(tmp_path.iterdir()) == []  # the temporary store is gone


def test_main_writes_one_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--tickets", "600", "--dir", str(tmp_path), "--passages", "600", "--appends", "4"]
    assert offline_store_bench.main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["offline_store.tickets"] == 600
