"""A real TVM process on its simulators, timed: cold start to home, resident memory.

``measure_tvm`` enrols a TVM at AAA with a running central (``stationkit tvm
enrol`` with a one-time code, as on a machine), writes a profile with the
simulated bank terminal (pty), printer (TCP) and scanner (pty) and a
headless kiosk at 1280x800 (SDL's dummy video driver), and starts
``stationkit tvm run`` as the end-to-end tests do.

- A cold start is timed from launching the process to its ``tvm_ready``
  event: its simulators are up, central was asked for the station's name,
  the journal recovered, and the home view handed to the kiosk, which
  draws it at its next frame. Memory at home is read one second later.
- Memory after a purchase: a scripted run (``--script``, ``--linger``)
  buys one ticket by card through the screens; once its ``journey_done``
  says the journey went as written, the process's ``VmRSS`` and ``VmHWM``
  (peak) are read. Memory is the TVM process's own, its simulators apart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.gate_process_bench import DISPLAY_ENV, environment, memory_mb
from stationkit.unit_process import UnitProcess, enrol_unit

WAIT_S = 60.0
JOURNEY_S = 120.0
SETTLE_S = 1.0  # at home before memory is read: the kiosk has drawn a few frames
KIOSK_SIZE = (1280, 800)


@dataclass
class TvmRun:
    """What the TVM process measured (seconds, and MiB)."""

    cold_starts_s: list[float] = field(default_factory=list)
    rss_home_mb: float = 0.0
    rss_mb: float = 0.0  # after a purchase
    rss_peak_mb: float = 0.0


def measure_tvm(
    central_url: str, code: str, journey: list[object], starts: int, folder: Path
) -> TvmRun:
    """Enrol with ``code``, start ``starts`` times to home, then play ``journey`` once."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = write_profile(folder, central_url)
    enrol_unit("tvm", profile, central_url, code)
    measured = TvmRun()
    with environment(DISPLAY_ENV):
        for _ in range(starts):
            seconds, rss = cold_start(profile, folder)
            measured.cold_starts_s.append(seconds)
            measured.rss_home_mb = max(measured.rss_home_mb, rss)
        script = folder / "journey.json"
        script.write_text(json.dumps({"name": "bench purchase", "steps": journey}))
        unit = UnitProcess("tvm", profile, folder / "tvm.log", "--script", str(script), "--linger")
        unit.start("tvm_ready", WAIT_S)
        try:
            done = unit.expect("journey_done", JOURNEY_S)
            if not done["ok"]:
                failed = [s for s in unit.events("journey_step") if not s["ok"]]
                raise RuntimeError(f"the bench purchase failed in the TVM process: {failed}")
            after = memory_mb(unit)
            measured.rss_mb, measured.rss_peak_mb = after["VmRSS"], after["VmHWM"]
        finally:
            unit.stop()
    return measured


def cold_start(profile: Path, folder: Path) -> tuple[float, float]:
    """Seconds from launching the TVM to ``tvm_ready``; its RSS (MiB) a moment later."""
    unit = UnitProcess("tvm", profile, folder / "tvm.log")
    started = time.monotonic()
    try:
        unit.start("tvm_ready", WAIT_S)
        elapsed = time.monotonic() - started
        time.sleep(SETTLE_S)
        return elapsed, memory_mb(unit)["VmRSS"]
    finally:
        unit.stop()


def write_profile(folder: Path, central_url: str) -> Path:
    """A TVM on its simulators with a headless 1280x800 kiosk; its files in ``folder``."""
    profile = folder / "tvm.toml"
    width, height = KIOSK_SIZE
    profile.write_text(f"""
[unit]
kind = "tvm"
central_url = "{central_url}"
store = "{folder / "unit.db"}"
central_timeout_s = 5.0

[tvm]
idle_timeout_s = 60.0

[bank_terminal]
backend = "sim"
currency = 156
acquirer = "SIM-BANK"
control_socket = "{folder / "pos.sock"}"
answer_timeout_s = 5.0

[printer]
backend = "sim"

[printer.sim]
output_dir = "{folder / "printed"}"
control_socket = "{folder / "printer.sock"}"

[scanner]
backend = "sim"
control_socket = "{folder / "scanner.sock"}"

[kiosk]
size = [{width}, {height}]
""")
    return profile
