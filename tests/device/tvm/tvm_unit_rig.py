"""A whole TVM in its own process for scenario tests: ``stationkit tvm run --script``.

The TVM is registered at AAA and enrolled with its one-time code through
``stationkit tvm enrol``; it runs on its simulators (Concert terminal on a
pty, ESC/POS printer over TCP drawing PNGs, QR scanner on a pty) with its
kiosk headless, and plays a passenger's journey as touches on the real
screens. The test then reads the TVM's JSON lines, its journal, the printed
tickets, the terminal's totals and central's records.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zxingcpp
from central_rig import Central
from PIL import Image

from drivers.pos.simulator.steering import TerminalScript
from drivers.sim.control import SimulatorClient
from offline_store.connection import StoreSettings
from offline_store.sales import Sale
from offline_store.store import UnitStore
from stationkit.unit_process import UnitProcess, enrol_unit

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # a text line may read as 1D

JOURNEY_TIMEOUT_S = 120.0
EVER = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))


@dataclass
class TvmUnit:
    """One TVM: its folder, profile and, while it runs, its process."""

    folder: Path
    central: Central
    device_id: str = "tvm-aaa-1"
    runs: list[UnitProcess] = field(default_factory=list)

    @property
    def profile(self) -> Path:
        return self.folder / "tvm.toml"

    @property
    def printed_dir(self) -> Path:
        return self.folder / "printed"

    def socket(self, part: str) -> Path:
        return self.folder / f"{part}.sock"

    def enrol(self, station: str = "AAA") -> None:
        """Register this TVM with central and enrol it with its one-time code."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.profile.write_text(self._profile())
        body = {"device_id": self.device_id, "kind": "tvm", "station": station}
        code = self.central.post("/v1/devices", body)["enrolment_code"]
        enrol_unit("tvm", self.profile, self.central.url, code)

    def start(self, *options: str) -> UnitProcess:
        """Start ``stationkit tvm run`` (with ``options``) and wait until it is ready."""
        unit = UnitProcess("tvm", self.profile, self.folder / "tvm.log", *options)
        self.runs.append(unit)
        return unit.start("tvm_ready")

    def play(self, steps: list[Any], name: str = "scenario") -> UnitProcess:
        """Run the TVM with a journey of ``steps``; its process, after the journey ended."""
        script = self.folder / f"journey-{len(self.runs)}.json"
        script.write_text(json.dumps({"name": name, "steps": steps}, ensure_ascii=False))
        screens = str(self.folder / "screens")
        unit = self.start("--script", str(script), "--screens", screens, "--linger")
        unit.expect("journey_done", JOURNEY_TIMEOUT_S)
        return unit

    def stop(self) -> None:
        for unit in self.runs:
            unit.stop()

    def terminal(self) -> TerminalScript:
        """The bank terminal simulator of the running TVM, steered from outside."""
        return TerminalScript(SimulatorClient(self.socket("pos")))

    def printer(self, command: str, **fields: Any) -> None:
        with SimulatorClient(self.socket("printer")) as printer:
            printer.send(command, **fields)
            printer.send("status")
            printer.expect("status")

    def printed_tokens(self) -> list[str]:
        """The QR codes read back from every ticket the printer simulator drew, in order."""
        tokens = []
        for page in sorted(self.printed_dir.glob("ticket-*.png")):
            found = zxingcpp.read_barcodes(
                Image.open(io.BytesIO(page.read_bytes())), formats=QR_ONLY
            )
            tokens += [code.text for code in found]
        return tokens

    def sales(self) -> list[Sale]:
        """The TVM's sales journal (the store is read while the TVM is stopped)."""
        with UnitStore.open(self.folder / "unit.db", StoreSettings()) as store:
            return store.sales.between(EVER[0], EVER[1])

    def _profile(self) -> str:
        folder = self.folder
        return f"""
[unit]
kind = "tvm"
central_url = "{self.central.url}"
store = "{folder / "unit.db"}"
central_timeout_s = 5.0

[tvm]
idle_timeout_s = 30.0
health_every_s = 1.0

[bank_terminal]
backend = "sim"
currency = 156
acquirer = "SIM-BANK"
control_socket = "{self.socket("pos")}"
answer_timeout_s = 5.0

[printer]
backend = "sim"

[printer.sim]
output_dir = "{self.printed_dir}"
control_socket = "{self.socket("printer")}"

[scanner]
backend = "sim"
control_socket = "{self.socket("scanner")}"

[kiosk]
size = [800, 480]
"""


def journey_steps(unit: UnitProcess) -> list[dict[str, Any]]:
    """The journey's step lines, as the TVM printed them."""
    return unit.events("journey_step")


def failed_steps(unit: UnitProcess) -> str:
    """The failed steps, for an assertion's message."""
    return "; ".join(
        f"{s['number']} {s['step']}: {s['detail']} ({s['screen']}: {s['message']})"
        for s in journey_steps(unit)
        if not s["ok"]
    )
