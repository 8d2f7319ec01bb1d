"""A test rig for gates in separate processes: central, gates on simulators, sales through the API.

Central runs as ``stationkit central serve`` on SQLite; each gate as
``stationkit gate run`` with simulated hardware from a profile written here;
tests steer the scanner, card emulator and mechanism over their control
sockets and read the gates' JSON lines.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from drivers.sim.control import SimulatorClient
from stationkit.processes import CentralProcess, free_port
from stationkit.unit_process import UnitProcess, enrol_unit

OPERATOR_TOKEN = "gate-rig-operator"
BEIJING = dt.timezone(dt.timedelta(hours=8))
STATIONS = ("AAA", "BBB", "CCC")


def train_run(train: str, departs_in: dt.timedelta, seats: int = 20) -> dict[str, Any]:
    """A three-stop run leaving AAA ``departs_in`` from now (times in Beijing time)."""
    leaves = (dt.datetime.now(dt.UTC) + departs_in).astimezone(BEIJING).replace(microsecond=0)

    def at(minutes: int) -> str:
        return (leaves + dt.timedelta(minutes=minutes)).isoformat()

    return {
        "train": train,
        "date": leaves.date().isoformat(),
        "stops": [
            {"station": "AAA", "name": "甲站", "km": 0, "depart": at(0)},
            {"station": "BBB", "name": "乙站", "km": 50, "arrive": at(30), "depart": at(32)},
            {"station": "CCC", "name": "丙站", "km": 120, "arrive": at(70)},
        ],
        "coaches": [{"coach": 1, "class": "ZE", "seats": seats}],
        "fares": {"ZE": 46},
    }


@dataclass
class Central:
    """Central in its own process, and the operator's calls the tests make."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: CentralProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Central:
        db = f"sqlite:///{self.workdir / 'central.db'}"
        self.process = CentralProcess(db, self.port, self.workdir, OPERATOR_TOKEN).start()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def post(self, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
        answer = httpx.post(self.url + path, json=body, headers=headers, timeout=10)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def get(self, path: str, **params: str) -> Any:
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        answer = httpx.get(self.url + path, params=params, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sell(self, run: dict[str, Any], name: str, id_number: str) -> dict[str, Any]:
        """Hold and pay one AAA->CCC ticket; the issued ticket (with its token)."""
        journey = {"train": run["train"], "date": run["date"], "from": "AAA", "to": "CCC"}
        held = self.post(
            "/v1/orders",
            {
                **journey,
                "class": "ZE",
                "channel": "window",
                "station": "AAA",
                "passengers": [{"name": name, "id_number": id_number}],
            },
        )
        payment = {"method": "cash", "amount_fen": held["total_fen"], "reference": name}
        paid = self.post(f"/v1/orders/{held['order_id']}/pay", payment)
        ticket: dict[str, Any] = paid["tickets"][0]
        return ticket


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

    def enrol(self, direction: str = "entry") -> None:
        """Register this gate at AAA and enrol it with its one-time code."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.profile.write_text(self._profile())
        body = {"device_id": self.name, "kind": "gate", "station": "AAA", "direction": direction}
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
