"""The demo's ticket gate: a real gate process on simulated hardware checks tickets.

The operator loads one run of the timetable to leave within the hour (check-in
is open), registers a gate at its first station and hands the gate its
one-time code; ``stationkit gate enrol`` and ``stationkit gate run`` start it
on simulators (QR scanner on a pty, card reader on pcscd's virtual reader,
flaps on mock GPIO pins) with its screen saving a PNG of every view. Then
passengers come: a QR ticket opens the flap, the same ticket is refused, a
forged one too, and an ID card finds its holder's real-name ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.card_reader.pcscd import ensure_pcscd
from drivers.errors import DriverError
from drivers.sim.control import SimulatorClient, SimulatorError
from stationkit.demo.books import Demo
from stationkit.demo.client import DemoError, Json
from stationkit.demo.report import say, yuan
from stationkit.demo.soon import leaving_soon
from stationkit.demo.timetable import Run
from stationkit.unit_process import UnitProcess, enrol_unit

VIRTUAL_READER = "Virtual PCD 00 00"
WAIT_S = 30.0
REFUSALS_ZH = {
    "already_used": "车票已检票",
    "bad_signature": "车票无效",
    "no_ticket": "未查到本人车票",
}


@dataclass
class DemoGate:
    """The gate the demo started, its folder and its process."""

    folder: Path
    unit: UnitProcess
    run: Run
    has_card_reader: bool

    def socket(self, part: str) -> Path:
        """A simulator's control socket."""
        return self.folder / f"{part}.sock"


def gate_day(demo: Demo) -> None:
    """Load a run leaving soon, start a gate at its first station, let passengers through."""
    run = leaving_soon(demo)
    if run is None:
        say("gate     no run can leave within the hour before midnight: the gate scene is skipped")
        return
    gate = start_gate(demo, run)
    try:
        passengers_at_the_gate(demo, gate)
    finally:
        status = gate.unit.stop()
        say(f"gate     stopped (exit {status})")


def start_gate(demo: Demo, run: Run) -> DemoGate:
    """Register, enrol and start a gate at the run's first station."""
    folder = demo.workdir / "gate"
    folder.mkdir(parents=True, exist_ok=True)
    station = run.codes[0]
    has_reader = _card_reader_can_run()
    profile = folder / "gate.toml"
    profile.write_text(_profile(folder, demo.api.base_url, has_reader))
    body = {
        "device_id": f"gate-{station.lower()}-1",
        "kind": "gate",
        "station": station,
        "direction": "entry",
    }
    code = demo.api.post("/v1/devices", body)["enrolment_code"]
    say(f"gate     registered at {run.name(station)}; its one-time enrolment code is {code}")
    say(f"gate     {enrol_unit('gate', profile, demo.api.base_url, code)}")
    unit = UnitProcess("gate", profile, folder / "gate.log").start("gate_started")
    unit.expect("feed_synced", WAIT_S)
    say(
        "gate     running on simulators: QR scanner on a pty, flaps on mock GPIO pins"
        + (
            ", ID card reader on pcscd's virtual reader"
            if has_reader
            else " (no pcscd: no card reader)"
        )
    )
    return DemoGate(folder, unit, run, has_reader)


def _card_reader_can_run() -> bool:
    try:
        ensure_pcscd(VIRTUAL_READER)
    except DriverError:
        return False
    return True


def passengers_at_the_gate(demo: Demo, gate: DemoGate) -> None:
    """A QR ticket admitted, the same refused, a forgery refused, an ID card admitted."""
    run = gate.run
    riders = [demo.people.one(), demo.people.one()]
    order = _sell(demo, run, riders)
    tickets = order["tickets"]
    cursor = max(int(e["cursor"]) for e in gate.unit.events("feed_synced"))
    gate.unit.expect("feed_synced", WAIT_S, where=lambda e: int(e["cursor"]) > cursor)
    first = tickets[0]
    _scan(gate, first["token"], f"{riders[0]['name']} shows the QR code of {first['ticket_id']}")
    gate.unit.expect(
        "passage_completed", WAIT_S, where=lambda e: e["ticket_id"] == first["ticket_id"]
    )
    say("gate     the flap opened, the passenger walked through, the flap locked again")
    _scan(gate, first["token"], "the same QR code again")
    forged = first["token"][:-1] + ("0" if first["token"][-1] != "0" else "1")
    _scan(gate, forged, "a QR code with one character changed")
    if gate.has_card_reader:
        _tap(gate, riders[1], tickets[1])
    if "tvm_ticket" in demo.kept:
        ticket, rider = demo.kept["tvm_ticket"]
        _scan(gate, ticket["token"], f"{rider['name']} shows the ticket the TVM printed")
    screens = sorted((gate.folder / "screens").glob("*.png"))
    say(f"gate     {len(screens)} screens saved as PNG, e.g. {screens[0].name if screens else '-'}")


def _sell(demo: Demo, run: Run, riders: list[Json]) -> Json:
    seat_class = run.classes_by_fare()[-1]
    body = {
        **run.journey(0, run.last, seat_class),
        "channel": "window",
        "station": run.codes[0],
        "passengers": riders,
    }
    held = demo.api.post("/v1/orders", body)
    payment = {"method": "cash", "amount_fen": held["total_fen"], "reference": "gate-demo"}
    paid: Json = demo.api.post(f"/v1/orders/{held['order_id']}/pay", payment)
    demo.ledger.paid(paid, "window")
    say(f"sold     2 tickets {run.od(0, run.last)} at the window for {yuan(paid['total_fen'])}")
    return paid


def _scan(gate: DemoGate, text: str, what: str) -> dict[str, Any]:
    try:
        with SimulatorClient(gate.socket("entry-scanner")) as scanner:
            scanner.send("scan", text=text)
            scanner.expect("scanned")
    except SimulatorError as exc:
        raise DemoError(f"the gate's scanner simulator: {exc}") from exc
    decision = _next_decision(gate)
    say(f"gate     {what}: {_verdict(decision)}")
    return decision


def _tap(gate: DemoGate, rider: Json, ticket: Json) -> None:
    with SimulatorClient(gate.socket("entry-card")) as card:
        card.send("status")
        card.expect("status")
        card.send("insert", id_number=rider["id_number"], name=rider["name"])
        decision = _next_decision(gate)
        card.send("remove")
    say(f"gate     {rider['name']} taps an ID card: {_verdict(decision)}")
    if decision["result"] != "admit" or decision["ticket_id"] != ticket["ticket_id"]:
        raise DemoError(f"the card tap should admit {ticket['ticket_id']}: {decision}")


def _next_decision(gate: DemoGate) -> dict[str, Any]:
    try:
        decision: dict[str, Any] = gate.unit.expect("decision", timeout=WAIT_S)
        return decision
    except SimulatorError as exc:
        raise DemoError(f"the gate made no decision: {exc}") from exc


def _verdict(decision: dict[str, Any]) -> str:
    if decision["result"] == "admit":
        return "admitted, 请通过"
    reason = decision["reason"]
    return f"refused ({reason}, {REFUSALS_ZH.get(reason, '')})"


def _profile(folder: Path, central_url: str, has_reader: bool) -> str:
    reader = ""
    if has_reader:
        reader = (
            '\n[entry.card_reader]\nbackend = "sim"\n'
            f'reader = "{VIRTUAL_READER}"\ncontrol_socket = "{folder / "entry-card.sock"}"\n'
        )
    return f"""
[unit]
kind = "gate"
central_url = "{central_url}"
store = "{folder / "unit.db"}"

[sync]
interval_s = 1.0

[mechanism]
backend = "sim"
relay_active_high = false
buzzer = 22
walk_through_ms = 600
control_socket = "{folder / "mechanism.sock"}"
entry = {{ flap_relay = 17, passage_sensor = 27, lamps = {{ green = 5, red = 6 }} }}
exit = {{ flap_relay = 23, passage_sensor = 24, lamps = {{ green = 13, red = 19 }} }}

[display]
enabled = true
size = [800, 480]
screenshot_dir = "{folder / "screens"}"

[entry.scanner]
backend = "sim"
control_socket = "{folder / "entry-scanner.sock"}"
{reader}"""
