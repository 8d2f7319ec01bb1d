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
    """A goal for one result key: at least or at most ``limit``."""

    key: str
    label: str
    limit: float
    is_minimum: bool
    unit: str

    def is_met(self, value: float) -> bool:
        """True when the measured value reaches the goal (NaN never does)."""
        if math.isnan(value):
            return False
        return value >= self.limit if self.is_minimum else value <= self.limit

    def describe(self) -> str:
        """The goal as text, e.g. ``>= 3000 /s``."""
        return f"{'>=' if self.is_minimum else '<='} {self.limit:g} {self.unit}"


TARGETS = (
    Target("central.http_sales_per_s", "HTTP complete sales, 16 clients", 700, True, "/s"),
    Target("central.http_sale_to_hold_ratio", "complete sales / holds", 0.5, True, ""),
    Target("central.availability_http_storm_ratio", "availability p99 storm / idle", 3, False, "x"),
    Target("central.alloc_p99_us", "allocate 1 passenger p99", 10, False, "us"),
    Target("central.availability_p99_us", "availability p99", 20, False, "us"),
    Target("central.od_matrix_ms", "full OD matrix (3 classes)", 2, False, "ms"),
)


def table(results: dict[str, float]) -> str:
    """Targets first with their verdict, then every other figure."""
    lines = [f"{'figure':<30} {'measured':>12}  {'target':<12} verdict"]
    for target in TARGETS:
        if target.key not in results:
            continue
        value = results[target.key]
        verdict = "ok" if target.is_met(value) else "MISSED"
        lines.append(f"{target.label:<30} {value:>12.3f}  {target.describe():<12} {verdict}")
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
