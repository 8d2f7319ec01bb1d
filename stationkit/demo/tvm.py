"""The demo's ticket vending machine: a real TVM process on simulated hardware sells and refunds.

The operator registers a TVM at the first station of the run leaving within
the hour and hands it its one-time code; ``stationkit tvm enrol`` and
``stationkit tvm run --script`` start it on simulators (bank card terminal
speaking Concert on a pty, ESC/POS printer over TCP drawing each ticket as a
PNG, QR scanner on a pty) with its touchscreen headless. A passenger's
journey is played as touches on the real screens: two tickets found by the
destination's pinyin initials, paid by card and printed; then one of them is
scanned and refunded to the card, and the other changed to the run's dearest
class, the difference paid by card. The changed ticket is kept for the gate
scene.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drivers.pos.simulator.steering import TerminalScript
from drivers.sim.control import SimulatorClient, SimulatorError
from stationkit.demo.books import Demo
from stationkit.demo.client import DemoError, Json
from stationkit.demo.report import say, yuan
from stationkit.demo.soon import leaving_soon
from stationkit.demo.timetable import Run
from stationkit.unit_process import UnitProcess, enrol_unit

JOURNEY_S = 180.0


def tvm_day(demo: Demo) -> None:
    """Start a TVM at the soon-leaving run's first station; a passenger buys and refunds."""
    run = leaving_soon(demo)
    if run is None:
        say("tvm      no run can leave within the hour before midnight: the TVM scene is skipped")
        return
    folder = demo.workdir / "tvm"
    folder.mkdir(parents=True, exist_ok=True)
    profile = _enrol(demo, run, folder)
    riders = [demo.people.one(), demo.people.one()]
    script = folder / "journey.json"
    script.write_text(json.dumps(_journey(run, riders), ensure_ascii=False, indent=2))
    unit = UnitProcess("tvm", profile, folder / "tvm.log", "--script", str(script), "--linger")
    unit.start("tvm_ready")
    try:
        _watch(demo, unit, folder, riders)
    finally:
        status = unit.stop()
        say(f"tvm      stopped (exit {status})")


def _enrol(demo: Demo, run: Run, folder: Path) -> Path:
    station = run.codes[0]
    profile = folder / "tvm.toml"
    profile.write_text(_profile(folder, demo.api.base_url))
    body = {"device_id": f"tvm-{station.lower()}-1", "kind": "tvm", "station": station}
    code = demo.api.post("/v1/devices", body)["enrolment_code"]
    say(f"tvm      registered at {run.name(station)}; its one-time enrolment code is {code}")
    say(f"tvm      {enrol_unit('tvm', profile, demo.api.base_url, code)}")
    return profile


def _journey(run: Run, riders: list[Json]) -> Json:
    """Buy two tickets to the run's last stop by card, refund the second, change the first."""
    dearest, *_, seat_class = run.classes_by_fare()
    return {
        "name": "two tickets by card, one refunded, one changed",
        "step_timeout_s": 20,
        "steps": [
            "start purchase",
            f"destination {run.chinese_name(run.codes[run.last])}",
            f"train {run.train}",
            f"class {seat_class}",
            *(f"passenger {r['name']} {r['id_number']}" for r in riders),
            "confirm",
            {"step": "pay card", "timeout_s": 60},
            "take ticket",
            "start refund",
            "scan ticket last",
            "expect refund",
            "confirm",
            {"step": "take ticket", "expect": "home"},
            *(_change(run, riders[0], dearest) if dearest != seat_class else []),
        ],
    }


def _change(run: Run, rider: Json, seat_class: str) -> list[Any]:
    """Change the first ticket to ``seat_class`` on the same train, paying the difference."""
    return [
        "start change",
        "scan ticket first",
        "expect change",
        f"train {run.train}",
        f"class {seat_class}",
        f"passenger {rider['name']} {rider['id_number']}",
        "confirm",
        "expect confirm",
        {"step": "pay card", "timeout_s": 60},
        "take ticket",
    ]


def _watch(demo: Demo, unit: UnitProcess, folder: Path, riders: list[Json]) -> None:
    """Tell the journey's story from the TVM's own lines, then check the books."""
    try:
        done = unit.expect("journey_done", JOURNEY_S)
    except SimulatorError as exc:
        raise DemoError(f"the TVM's journey did not finish: {exc}") from exc
    for step in unit.events("journey_step"):
        if not step["ok"]:
            raise DemoError(f"the TVM's journey failed at {step['step']!r}: {step['detail']}")
    if not done["ok"]:
        raise DemoError("the TVM's journey did not play to the end")
    names = " and ".join(r["name"] for r in riders)
    [held] = unit.events("order_held")
    say(f"tvm      {names} find their train by pinyin initials and hold two seats")
    approved = unit.events("payment_approved")[0]
    card = f"{approved['card']} ({approved['acquirer']})"
    say(f"tvm      paid {yuan(held['total_fen'])} by card {card}")
    order = demo.api.get(f"/v1/orders/{held['order_id']}")
    # the order holds the change's new ticket too by now: the sale is what was issued then
    issued = next(e for e in unit.events("tickets_issued") if e["sale_id"] == held["sale_id"])
    order["tickets"] = [t for t in order["tickets"] if t["ticket_id"] in issued["tickets"]]
    demo.ledger.paid(order, "tvm")
    printed = sorted((folder / "printed").glob("ticket-*.png"))
    say(f"tvm      {len(printed)} tickets printed with signed QR codes, e.g. {printed[0].name}")
    [refund] = unit.events("ticket_refunded")
    demo.ledger.refund(refund["ticket_id"], refund["refund_fen"])
    say(
        f"tvm      the second ticket is scanned and refunded: {yuan(refund['refund_fen'])} "
        f"back to the card, {yuan(refund['fee_fen'])} fee"
    )
    kept = next(t for t in order["tickets"] if t["ticket_id"] != refund["ticket_id"])
    kept, difference = _changed(demo, unit, kept)
    _check_terminal(folder, held["total_fen"] + difference)
    demo.kept["tvm_ticket"] = (kept, riders[0])
    screens = sorted((folder / "screens").glob("*.png"))
    say(f"tvm      {len(screens)} screens saved as PNG")


def _changed(demo: Demo, unit: UnitProcess, ticket: Json) -> tuple[Json, int]:
    """The ticket the first one was changed to, and the difference paid (none: unchanged)."""
    changes = unit.events("ticket_changed")
    if not changes:
        return ticket, 0
    if changes[0]["old_ticket_id"] != ticket["ticket_id"]:
        raise DemoError(f"the TVM changed {changes[0]['old_ticket_id']}, not the ticket kept")
    new = demo.api.get(f"/v1/tickets/{changes[0]['ticket_id']}")
    difference = new["price_fen"] - ticket["price_fen"]
    demo.ledger.change(ticket["ticket_id"], new["ticket_id"], difference, 0)
    say(
        f"tvm      the first ticket is scanned and changed to class {new['class']}, "
        f"coach {new['coach']} seat {new['seat']}: {yuan(difference)} more, paid by card"
    )
    return new, difference


def _check_terminal(folder: Path, charged_fen: int) -> None:
    try:
        with SimulatorClient(folder / "pos.sock") as client:
            totals: dict[str, Any] = TerminalScript(client).totals()
    except SimulatorError as exc:
        raise DemoError(f"the card terminal simulator: {exc}") from exc
    if totals["approved_fen"] != charged_fen:
        raise DemoError(f"the terminal's totals {totals} disagree with the sale")
    say(
        f"tvm      the card terminal's own totals: {totals['approved_count']} approved, "
        f"{yuan(totals['approved_fen'])}"
    )


def _profile(folder: Path, central_url: str) -> str:
    return f"""# A TVM on simulated hardware, written by the demo
[unit]
kind = "tvm"
central_url = "{central_url}"
store = "{folder / "unit.db"}"

[tvm]
health_every_s = 2.0

[bank_terminal]
backend = "sim"
currency = 156
acquirer = "SIM-BANK"
control_socket = "{folder / "pos.sock"}"

[printer]
backend = "sim"
footer = ["祝您旅途愉快 Have a good journey"]

[printer.sim]
output_dir = "{folder / "printed"}"
control_socket = "{folder / "printer.sock"}"

[scanner]
backend = "sim"
control_socket = "{folder / "scanner.sock"}"

[kiosk]
size = [1280, 800]
screenshot_dir = "{folder / "screens"}"
"""
