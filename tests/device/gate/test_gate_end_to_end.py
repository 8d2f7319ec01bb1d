"""A gate's day, end to end, in separate processes, on simulated hardware.

Central on SQLite sells through its API; two gates at station AAA enrol with
their one-time codes and sync. The first reads a ticket's QR code from its
serial scanner simulator and opens its flap (the mock pins' history says so),
then refuses the same ticket (anti-passback). Central goes down: the gates
keep deciding from their caches, and the second gate, which knows nothing of
the first's passage, admits the same ticket. When central is back, the second
gate's sync reports the double admission and central lists the anomaly. A
refund stops the ticket at the next sync, and a card tap admits its holder's
real-name ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from card_reader.conftest import VpcdSlot, pcscd_shared, vpcd_slot
from central_rig import Central, train_run
from gate_rig import Gate

from drivers.sim.control import SimulatorClient

__all__ = ["pcscd_shared", "vpcd_slot"]  # fixtures this module uses, from the card tests

pytestmark = pytest.mark.slow


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    server = Central(tmp_path / "central").start()
    yield server
    server.stop()


def test_a_gates_day(central: Central, tmp_path: Path, vpcd_slot: VpcdSlot) -> None:
    spec = train_run("G7101", dt.timedelta(minutes=40))
    central.post("/v1/train-runs", spec)
    first = central.sell(spec, "张三", "110101199001011234")
    second = central.sell(spec, "李四", "110101199202021234")
    refunded = central.sell(spec, "王五", "110101199303031234")
    gate_a = Gate("gate-aaa-a", tmp_path / "a", central, card_port=vpcd_slot.port)
    gate_b = Gate("gate-aaa-b", tmp_path / "b", central)
    for gate in (gate_a, gate_b):
        gate.enrol()
        gate.start()
    try:
        day(central, gate_a, gate_b, first, second, refunded)
        card_tap(central, gate_a, spec)
    finally:
        for gate in (gate_a, gate_b):
            gate.stop()


def day(
    central: Central,
    gate_a: Gate,
    gate_b: Gate,
    first: dict[str, object],
    second: dict[str, object],
    refunded: dict[str, object],
) -> None:
    for gate in (gate_a, gate_b):
        gate.event("sync_online")
    with SimulatorClient(gate_a.socket("mechanism")) as mechanism:
        mechanism.send("status")
        mechanism.expect("status")
        gate_a.scan(str(first["token"]))
        assert gate_a.decision(ticket_id=first["ticket_id"])["result"] == "admit"
        opened = mechanism.expect("relay", where=lambda e: e["energised"] is True)
        closed = mechanism.expect("relay", where=lambda e: e["energised"] is False)
        assert opened["direction"] == closed["direction"] == "entry"
        gate_a.event("passage_completed", ticket_id=first["ticket_id"])
    gate_a.scan(str(first["token"]))
    assert gate_a.decision(ticket_id=first["ticket_id"])["reason"] == "already_used"
    gate_a.event("journal_uploaded")  # central has the first admission

    central.stop()  # the network is gone
    gate_a.event("sync_offline")
    gate_b.event("sync_offline")
    gate_a.scan(str(second["token"]))
    assert gate_a.decision(ticket_id=second["ticket_id"])["result"] == "admit"  # offline
    gate_b.scan(str(first["token"]))  # B never heard of A's passage
    assert gate_b.decision(ticket_id=first["ticket_id"])["result"] == "admit"

    central.start()  # the network is back
    conflict = gate_b.event("conflict_reported", timeout=30, ticket_id=first["ticket_id"])
    assert conflict["kind"] == "double_admission" and conflict["other_device"] == gate_a.name
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    anomalies = central.get("/v1/anomalies", date=today, station="AAA")
    assert [(a["kind"], a["ticket_id"], a["device_id"]) for a in anomalies] == [
        ("double_admission", first["ticket_id"], gate_b.name)
    ]

    cursor = gate_a.feed_cursor()
    central.post(f"/v1/tickets/{refunded['ticket_id']}/refund")
    gate_a.synced_after(cursor)
    gate_a.scan(str(refunded["token"]))
    assert gate_a.decision(ticket_id=refunded["ticket_id"])["reason"] == "revoked"


def card_tap(central: Central, gate: Gate, spec: dict[str, object]) -> None:
    """A real-name ticket admits its holder's ID card, and a card without a ticket is refused."""
    cursor = gate.feed_cursor()
    ticket = central.sell(spec, "赵六", "11010119940404123X")
    gate.synced_after(cursor)
    with SimulatorClient(gate.socket("entry-card")) as card:
        card.send("status")
        card.expect("status")
        card.send("insert", id_number="11010119940404123X", name="赵六")
        decision = gate.decision(by="card")
        assert (decision["result"], decision["ticket_id"]) == ("admit", ticket["ticket_id"])
        gate.event("passage_completed", ticket_id=ticket["ticket_id"])
        card.send("remove")
        card.send("insert", id_number="110101199909091234", name="无票")
        assert gate.decision(by="card")["reason"] == "no_ticket"
