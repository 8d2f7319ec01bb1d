"""A test rig for gates in separate processes, beside central (``central_rig``).

Each gate runs as ``stationkit gate run`` with simulated hardware from a
profile written here; tests steer the scanner, card emulator and mechanism
over their control sockets and read the gates' JSON lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central_rig import Central

from drivers.sim.control import SimulatorClient
from stationkit.unit_process import UnitProcess, enrol_unit


@dataclass
class Gate:
    """One gate unit in its own process on simulated hardware."""

    name: str
    folder: Path
    central: Central
    card_port: int | None = None  # the vpcd port of its virtual card reader, if it has one
    unit: UnitProcess | None = None

    @property
    def profile(self) -> Path:
        return self.folder / "gate.toml"

    def socket(self, part: str) -> Path:
        return self.folder / f"{part}.sock"

    def enrol(self, direction: str = "entry", gate_group: str | None = None) -> None:
        """Register this gate at AAA (in ``gate_group``) and enrol it with its one-time code."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.profile.write_text(self._profile())
        body = {"device_id": self.name, "kind": "gate", "station": "AAA", "direction": direction}
        if gate_group is not None:
            body["gate_group"] = gate_group
        code = self.central.post("/v1/devices", body)["enrolment_code"]
        enrol_unit("gate", self.profile, self.central.url, code)

    def start(self) -> Gate:
        self.unit = UnitProcess("gate", self.profile, self.folder / "gate.log")
        self.unit.start("gate_started")
        return self

    def stop(self) -> None:
        if self.unit is not None:
            self.unit.stop()

    def scan(self, text: str) -> None:
        with SimulatorClient(self.socket("entry-scanner")) as scanner:
            scanner.send("scan", text=text)
            scanner.expect("scanned")

    def decision(self, **where: Any) -> dict[str, Any]:
        """The next decision line matching ``where`` (field = value)."""
        assert self.unit is not None
        return self.unit.expect(
            "decision", timeout=20, where=lambda e: all(e.get(k) == v for k, v in where.items())
        )

    def feed_cursor(self) -> int:
        """The highest feed cursor this gate has reported so far."""
        assert self.unit is not None
        return max((int(e["cursor"]) for e in self.unit.events("feed_synced")), default=0)

    def synced_after(self, cursor: int, timeout: float = 20) -> dict[str, Any]:
        """Wait until the gate has stored a feed page past ``cursor``."""
        assert self.unit is not None
        return self.unit.expect(
            "feed_synced", timeout=timeout, where=lambda e: int(e["cursor"]) > cursor
        )

    def event(
        self,
        name: str,
        timeout: float = 20,
        **where: Any,
    ) -> dict[str, Any]:
        """The next event ``name`` whose fields match ``where``."""
        assert self.unit is not None
        return self.unit.expect(
            name, timeout=timeout, where=lambda e: all(e.get(k) == v for k, v in where.items())
        )

    def _profile(self) -> str:
        card = ""
        if self.card_port is not None:
            reader = f"Virtual PCD 00 {self.card_port - 35963:02d}"
            card = (
                '\n[entry.card_reader]\nbackend = "sim"\n'
                f'reader = "{reader}"\nvpcd_port = {self.card_port}\n'
                f'control_socket = "{self.socket("entry-card")}"\n'
            )
        return f"""
[unit]
kind = "gate"
central_url = "{self.central.url}"
store = "{self.folder / "unit.db"}"
central_timeout_s = 2.0

[gate]
passage_timeout_s = 3.0

[sync]
interval_s = 0.5
backoff_max_s = 1.0

[mechanism]
backend = "sim"
relay_active_high = false
buzzer = 22
walk_through_ms = 200
control_socket = "{self.socket("mechanism")}"
entry = {{ flap_relay = 17, passage_sensor = 27, lamps = {{ green = 5, red = 6 }} }}
exit = {{ flap_relay = 23, passage_sensor = 24, lamps = {{ green = 13, red = 19 }} }}

[entry.scanner]
backend = "sim"
control_socket = "{self.socket("entry-scanner")}"
{card}"""
