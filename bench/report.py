"""Benchmark results: the targets of the issue, a readable table, and ``results.json``.

The targets only label the figures; nothing here changes a measured number.
``results.json`` holds flat keys mapped to numbers and is replaced atomically
(written beside it, then renamed), so a reader never sees half a file.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

RESULTS_PATH = Path(__file__).with_name("results.json")


@dataclass(frozen=True)
class Target:
    """A goal for one result key: at least or at most ``limit``.

    With ``floor_key`` the goal is relative: ``limit`` times the figure under
    ``floor_key`` measured in the same run (e.g. at most 3 x the floor), and
    the table shows that floor beside the figure.
    """

    key: str
    label: str
    limit: float
    is_minimum: bool
    unit: str
    floor_key: str | None = None

    def bound(self, results: dict[str, float]) -> float:
        """The goal in the figure's unit; NaN when its floor was not measured."""
        if self.floor_key is None:
            return self.limit
        return self.limit * results.get(self.floor_key, math.nan)

    def is_met(self, value: float, results: dict[str, float] | None = None) -> bool:
        """True when the measured value reaches the goal (NaN never does)."""
        bound = self.bound(results or {})
        if math.isnan(value) or math.isnan(bound):
            return False
        return value >= bound if self.is_minimum else value <= bound

    def describe(self, results: dict[str, float] | None = None) -> str:
        """The goal as text, e.g. ``>= 3000 /s`` or ``<= 3 x 0.812 (floor) = 2.44 ms``."""
        sign = ">=" if self.is_minimum else "<="
        if self.floor_key is None:
            return f"{sign} {self.limit:g} {self.unit}"
        floor = (results or {}).get(self.floor_key, math.nan)
        name = self.floor_key.rsplit(".", 1)[-1]
        bound = self.limit * floor
        return f"{sign} {self.limit:g} x {floor:.3f} ({name}) = {bound:.3f} {self.unit}"


TARGETS = (
    Target("central.http_sales_per_s", "HTTP complete sales, 16 clients", 700, True, "/s"),
    Target("central.http_sale_to_hold_ratio", "complete sales / holds", 0.5, True, ""),
    Target("central.availability_http_storm_ratio", "availability p99 storm / idle", 3, False, "x"),
    Target("central.alloc_p99_us", "allocate 1 passenger p99", 10, False, "us"),
    Target("central.availability_p99_us", "availability p99", 20, False, "us"),
    Target("central.od_matrix_ms", "full OD matrix (3 classes)", 2, False, "ms"),
    # the gate (bench.gate_bench): relative goals against what the same run measured
    Target(
        "gate.decision_p99_ms", "gate QR decision p99", 3, False, "ms", "gate.decision_floor_ms"
    ),
    Target(
        "gate.tap_to_relay_p99_ms", "gate scan to relay p99", 2, False, "ms", "gate.decision_p99_ms"
    ),
    Target("gate.sync_100k_s", "gate 100k-ticket feed delta", 1, False, "s"),
    Target("gate.rss_mb", "gate process RSS", 64, False, "MiB"),
    Target("gate.cold_start_s", "gate cold start", 1, False, "s"),
    # the TVM (bench.tvm_bench)
    Target("tvm.purchase_software_p95_ms", "TVM purchase software p95", 200, False, "ms"),
    Target(
        "tvm.purchase_software_p95_ms",
        "TVM purchase software p95",
        4,
        False,
        "ms",
        "tvm.purchase_floor_ms",
    ),
    Target("tvm.frame_p99_ms", "TVM frame p99, 1280x800", 16, False, "ms"),
    Target("tvm.rss_mb", "TVM process RSS", 120, False, "MiB"),
    Target("tvm.cold_start_s", "TVM cold start to home", 2, False, "s"),
)


def table(results: dict[str, float]) -> str:
    """Targets first with their verdict (a relative goal with its floor), then every figure."""
    lines = [f"{'figure':<30} {'measured':>12}  {'target':<52} verdict"]
    for target in TARGETS:
        if target.key not in results:
            continue
        value = results[target.key]
        verdict = "ok" if target.is_met(value, results) else "MISSED"
        goal = target.describe(results)
        lines.append(f"{target.label:<30} {value:>12.3f}  {goal:<52} {verdict}")
    lines.append("")
    lines += [f"{key:<36} {value:>12.3f}" for key, value in sorted(results.items())]
    return "\n".join(lines)


def write_results(results: dict[str, float], path: Path = RESULTS_PATH) -> None:
    """Replace ``path`` with the results, atomically; NaN is written as null."""
    clean = {key: (None if math.isnan(v) else v) for key, v in sorted(results.items())}
    data = orjson.dumps(clean, option=orjson.OPT_INDENT_2) + b"\n"
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
