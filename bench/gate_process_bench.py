"""A real gate process on its simulators, timed: cold start, scan to relay, resident memory.

``measure_gate`` enrols the store it is given as an entry gate whose central
is nowhere (the gate decides from its cache, as offline gates do), writes a
profile with simulated scanner and mechanism and the passenger display on
(SDL's dummy video driver, no screenshots), and starts ``stationkit gate
run`` as the end-to-end tests do. It times each start to the gate's
``gate_started`` event, then sends each ticket's code to the scanner
simulator and waits for the mechanism simulator's ``relay`` event: that
event carries the ``time.monotonic()`` of the pin change inside the gate
process, and CLOCK_MONOTONIC is one clock for every process of the machine.
The scanner simulator's ``scanned`` event carries no time, so a scan is
timed from the moment its command is sent: an upper bound that includes
the hop over the simulator's control socket. Memory is the gate process's
own (its simulator children apart), read from ``/proc``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from device.gate.unit import DIRECTION_FACT, GROUP_FACT
from drivers.sim.control import Message, SimulatorClient
from offline_store import UnitMode, UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.ids import StationCode
from stationkit.processes import free_port
from stationkit.unit_process import UnitProcess

WAIT_S = 30.0
WALK_MS = 60  # the simulated passenger: quick, so many scans fit in the run
DISPLAY_ENV = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


@dataclass
class GateRun:
    """What one run of the gate measured (seconds, and MiB)."""

    cold_starts_s: list[float] = field(default_factory=list)
    tap_to_relay_s: list[float] = field(default_factory=list)
    rss_started_mb: float = 0.0
    rss_mb: float = 0.0
    rss_peak_mb: float = 0.0


def measure_gate(
    store: Path, station: StationCode, codes: Sequence[tuple[str, str]], starts: int, folder: Path
) -> GateRun:
    """Start the gate ``starts`` times, then once more to scan ``codes`` (ticket id, QR text)."""
    enrol_offline(store, station)
    profile = write_profile(folder, store)
    measured = GateRun()
    with environment(DISPLAY_ENV):
        measured.cold_starts_s = [cold_start(profile, folder) for _ in range(starts)]
        unit = UnitProcess("gate", profile, folder / "gate.log")
        unit.start("gate_started", WAIT_S)
        try:
            measured.rss_started_mb = memory_mb(unit)["VmRSS"]
            measured.tap_to_relay_s = tap_latencies(unit, folder, codes)
            after = memory_mb(unit)
            measured.rss_mb, measured.rss_peak_mb = after["VmRSS"], after["VmHWM"]
        finally:
            unit.stop()
    return measured


def enrol_offline(store: Path, station: StationCode) -> None:
    """An entry gate at ``station`` whose central is nowhere: it decides from its cache."""
    now = dt.datetime.now(dt.UTC)
    central = f"http://127.0.0.1:{free_port()}"
    identity = DeviceIdentity("gate-bench", "gate", station, central, "bench-credential", now)
    with UnitStore.open(store) as opened, opened.transaction():
        opened.enrolment.replace(identity)
        opened.state.set_fact(GROUP_FACT, "")
        opened.state.set_fact(DIRECTION_FACT, "entry")
        opened.state.set_mode(UnitMode.IN_SERVICE, now)


def write_profile(folder: Path, store: Path) -> Path:
    """A simulated gate with its display on, on ``store``; its sockets in ``folder``."""
    profile = folder / "gate.toml"
    profile.write_text(f"""
[unit]
kind = "gate"
central_url = "http://127.0.0.1:9"
store = "{store}"

[mechanism]
backend = "sim"
relay_active_high = false
buzzer = 22
walk_through_ms = {WALK_MS}
control_socket = "{folder / "mechanism.sock"}"
entry = {{ flap_relay = 17, passage_sensor = 27, lamps = {{ green = 5, red = 6 }} }}
exit = {{ flap_relay = 23, passage_sensor = 24, lamps = {{ green = 13, red = 19 }} }}

[entry.scanner]
backend = "sim"
control_socket = "{folder / "scanner.sock"}"

[display]
enabled = true
""")
    return profile


def cold_start(profile: Path, folder: Path) -> float:
    """Seconds from launching the gate to its ``gate_started`` event."""
    unit = UnitProcess("gate", profile, folder / "gate.log")
    started = time.monotonic()
    unit.start("gate_started", WAIT_S)
    elapsed = time.monotonic() - started
    unit.stop()
    return elapsed


def tap_latencies(unit: UnitProcess, folder: Path, codes: Sequence[tuple[str, str]]) -> list[float]:
    """For each code: from the scan command to the relay energising (the mechanism's stamp)."""
    latencies = []
    with (
        SimulatorClient(folder / "mechanism.sock") as mechanism,
        SimulatorClient(folder / "scanner.sock") as scanner,
    ):
        mechanism.send("status")
        mechanism.expect("status", WAIT_S)  # listening before the first scan
        for ticket_id, text in codes:
            sent = time.monotonic()
            scanner.send("scan", text=text)
            _admitted(unit, ticket_id)
            opened = mechanism.expect("relay", WAIT_S, _opened_after(sent))
            latencies.append(float(opened["at"]) - sent)
            unit.expect("passage_completed", WAIT_S, _about(ticket_id))
    return latencies


def _about(ticket_id: str) -> Callable[[Message], bool]:
    return lambda event: event.get("ticket_id") == ticket_id


def _admitted(unit: UnitProcess, ticket_id: str) -> None:
    decision = unit.expect("decision", WAIT_S, _about(ticket_id))
    if decision["result"] != "admit":
        raise RuntimeError(f"the gate refused a bench ticket: {decision}")


def _opened_after(sent: float) -> Callable[[Message], bool]:
    return lambda event: event["energised"] is True and float(event["at"]) >= sent


def memory_mb(unit: UnitProcess) -> dict[str, float]:
    """The gate process's ``VmRSS`` and ``VmHWM`` (peak), in MiB, its simulators apart."""
    assert unit.process is not None
    status = Path(f"/proc/{unit.process.pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the processes started inside, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
