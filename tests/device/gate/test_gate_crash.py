"""A gate killed again and again in a storm of passages loses nothing and counts nothing twice.

Central on SQLite sells a few dozen tickets; one gate, in its own process
on simulated hardware, serves them one after another from its scanner
simulator while the simulated passenger walks through (and now and then
does not show up, so the passage is annulled). Each round ends with a
SIGKILL of the gate's whole process group (simulators included) at a moment
picked from a seeded random draw: while the ticket is being decided, with
the flap open, with the passenger in the beam, while the flap waits for a
passenger who never comes, just as it locks behind one, or just after a
passage. The gate restarts, and every time its flaps are locked (the
mechanism simulator sees every relay de-energised). Tickets caught in
flight are scanned again (already used, or admitted if the kill came
before the journal). After a final, clean round, the gate syncs; then:

- every decision the gate printed (it prints only after journaling) has
  its passage in the journal, and the journal and central hold exactly the
  same passages, each once;
- central's counts per slot equal the gate's counters and a recount of the
  journal;
- every annulment the gate printed is in central, cancelling its admission;
- central recorded no double admission: a batch sent again after a kill
  counted nothing twice.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from central_rig import Central, train_run
from gate_rig import Gate

from drivers.sim.control import Message, SimulatorClient
from offline_store.store import UnitStore

pytestmark = pytest.mark.slow

SEED = 20260514
TICKETS = 36
KILLS = 6
PASSAGE_TIMEOUT_S = 0.8
WALK_MS = 100
NO_SHOW_SHARE = 0.15
RESCAN_SHARE = 0.15  # a ticket shown again after it went through: refused, and journaled
WAIT_S = 20.0
# Where in a passage each kill lands: after which mechanism event (name, field, value),
# stamped after the scan, plus a seeded jitter; "deciding" right after the scan.
PHASES: dict[str, tuple[str, str, bool] | None] = {
    "deciding": None,
    "flap_open": ("relay", "energised", True),
    "in_beam": ("sensor", "occupied", True),
    "no_show_wait": ("relay", "energised", True),  # nobody comes: the flap waits
    "locking_no_show": ("relay", "energised", False),  # the flap locks; the annulment follows
    "passed": ("sensor", "occupied", False),  # the passenger is through
}
NO_SHOW_PHASES = frozenset({"no_show_wait", "locking_no_show"})
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    server = Central(tmp_path / "central").start()
    yield server
    server.stop()


class StormGate(Gate):
    """A rig gate whose flap waits briefly and whose passenger walks quickly.

    Its relays are active-high: a mock pin starts low, so de-energised is the
    level a pin has before anyone drives it, and any energising, even while
    the gate builds its parts, is a level change the mechanism simulator
    sees. (Active-low, a relay energised from the start would never change
    level, and the simulator's status could not tell it from a locked one.)
    """

    def _profile(self) -> str:
        text = super()._profile()
        for old, new in (
            ("passage_timeout_s = 3.0", f"passage_timeout_s = {PASSAGE_TIMEOUT_S}"),
            ("walk_through_ms = 200", f"walk_through_ms = {WALK_MS}"),
            ("relay_active_high = false", "relay_active_high = true"),
        ):
            assert old in text, f"the rig's profile no longer says {old!r}"
            text = text.replace(old, new)
        return text


@dataclass
class Storm:
    """Drives one gate through its rounds and remembers what it printed."""

    gate: StormGate
    tickets: list[dict[str, Any]]
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    printed: list[Message] = field(default_factory=list)
    in_flight: list[dict[str, Any]] = field(default_factory=list)
    used: list[dict[str, Any]] = field(default_factory=list)
    killed_with_flap_open: int = 0

    def round(self, phase: str | None) -> None:
        """Start the gate, check it is locked, serve tickets; kill it in ``phase`` (None: stop)."""
        self.gate.start()
        with (
            SimulatorClient(self.gate.socket("mechanism")) as mechanism,
            SimulatorClient(self.gate.socket("entry-scanner")) as scanner,
        ):
            assert_locked(mechanism)
            try:
                self._serve(mechanism, scanner, phase)
            finally:
                self._remember_printed()

    def _serve(
        self, mechanism: SimulatorClient, scanner: SimulatorClient, phase: str | None
    ) -> None:
        retries, self.in_flight = self.in_flight, []
        for ticket in retries:
            self._present(mechanism, scanner, ticket, no_show=False)
        if phase is None:
            while self.tickets:
                self._present_next(mechanism, scanner)
            return
        for _ in range(self.rng.randint(1, 3)):
            self._present_next(mechanism, scanner)
        self._kill_during(mechanism, scanner, phase)

    def _present_next(self, mechanism: SimulatorClient, scanner: SimulatorClient) -> None:
        """A fresh ticket (its passenger a no-show now and then), or one shown again."""
        if self.used and self.rng.random() < RESCAN_SHARE:
            self._present(mechanism, scanner, self.rng.choice(self.used), no_show=False)
            return
        ticket = self.tickets.pop()
        self.used.append(ticket)
        self._present(mechanism, scanner, ticket, self.rng.random() < NO_SHOW_SHARE)

    def _present(
        self,
        mechanism: SimulatorClient,
        scanner: SimulatorClient,
        ticket: dict[str, Any],
        no_show: bool,
    ) -> None:
        """Scan ``ticket`` and wait until the gate has finished with it."""
        scan(mechanism, scanner, ticket, no_show)
        decision = self.gate.decision(ticket_id=ticket["ticket_id"])
        if decision["result"] == "admit":
            ending = "passage_annulled" if no_show else "passage_completed"
            self.gate.event(ending, ticket_id=ticket["ticket_id"])

    def _kill_during(
        self, mechanism: SimulatorClient, scanner: SimulatorClient, phase: str
    ) -> None:
        """Present a fresh ticket and kill the gate at ``phase`` of its passage."""
        ticket = self.tickets.pop()
        self.used.append(ticket)
        self.in_flight.append(ticket)
        sent = scan(mechanism, scanner, ticket, no_show=phase in NO_SHOW_PHASES)
        self._wait_for(phase, mechanism, sent)
        self.killed_with_flap_open += is_flap_open(mechanism)
        assert self.gate.unit is not None
        self.gate.unit.kill()

    def _wait_for(self, phase: str, mechanism: SimulatorClient, sent: float) -> None:
        """Wait for the mechanism to reach ``phase``, then a seeded jitter: the kill's instant."""
        jitter = self.rng.uniform(0, PASSAGE_TIMEOUT_S / 2 if phase == "no_show_wait" else 0.03)
        awaited = PHASES[phase]
        if awaited is not None:
            event, key, value = awaited
            mechanism.expect(
                event, timeout=WAIT_S, where=lambda e: e[key] is value and e["at"] >= sent
            )
        time.sleep(jitter)

    def _remember_printed(self) -> None:
        assert self.gate.unit is not None
        for name in ("decision", "passage_completed", "passage_annulled"):
            self.printed += self.gate.unit.events(name)


def scan(
    mechanism: SimulatorClient, scanner: SimulatorClient, ticket: dict[str, Any], no_show: bool
) -> float:
    """Type the ticket's code (nobody walks through if ``no_show``); when it was sent."""
    if no_show:
        mechanism.send("no_show", count=1)
        mechanism.expect("no_show_set", timeout=WAIT_S)
    sent = time.monotonic()
    scanner.send("scan", text=str(ticket["token"]))
    scanner.expect("scanned", timeout=WAIT_S)
    return sent


def assert_locked(mechanism: SimulatorClient) -> None:
    """Every flap de-energised (locked) and every beam clear, as the simulator sees them."""
    mechanism.send("status")
    status = mechanism.expect("status", timeout=WAIT_S)
    assert status["flaps"] == {"entry": False, "exit": False}, status
    assert status["sensors"] == {"entry": False, "exit": False}, status


def is_flap_open(mechanism: SimulatorClient) -> bool:
    """Whether the last relay change the mechanism reported energised a flap."""
    relays = mechanism.events("relay")
    return bool(relays) and relays[-1]["energised"] is True


def sell(central: Central, spec: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """``count`` AAA->CCC tickets, five passengers an order."""
    journey = {"train": spec["train"], "date": spec["date"], "from": "AAA", "to": "CCC"}
    tickets: list[dict[str, Any]] = []
    for first in range(0, count, 5):
        people = [
            {"name": f"乘客{n}", "id_number": f"11010119900101{n:04d}"}
            for n in range(first, min(first + 5, count))
        ]
        body = {**journey, "class": "ZE", "channel": "window", "station": "AAA"}
        held = central.post("/v1/orders", {**body, "passengers": people})
        payment = {"method": "cash", "amount_fen": held["total_fen"], "reference": f"o{first}"}
        tickets += central.post(f"/v1/orders/{held['order_id']}/pay", payment)["tickets"]
    return tickets


def test_a_gate_killed_in_a_storm_loses_and_doubles_nothing(
    central: Central, tmp_path: Path
) -> None:
    spec = train_run("G7301", dt.timedelta(minutes=40), seats=TICKETS + 4)
    central.post("/v1/train-runs", spec)
    gate = StormGate("gate-aaa-storm", tmp_path / "gate", central)
    gate.enrol()
    storm = Storm(gate, sell(central, spec, TICKETS))
    gate.start()
    try:
        gate.synced_after(0)  # keys and tickets in the cache
        gate.stop()
        phases = [list(PHASES)[n % len(PHASES)] for n in range(KILLS)]
        storm.rng.shuffle(phases)
        for phase in [*phases, None]:
            storm.round(phase)
        synced(gate)
    finally:
        gate.stop()
    assert storm.killed_with_flap_open >= 1  # the restarts had open flaps to lock
    check_against_central(gate, central, storm.printed)


def synced(gate: Gate) -> None:
    """Wait until central has acknowledged every passage and count in the gate's journal."""
    with UnitStore.open(gate.folder / "unit.db") as store:
        while store.journal.pending(limit=1) or store.counters.pending(limit=1):
            gate.event("journal_uploaded", timeout=WAIT_S)


@dataclass(frozen=True)
class Journaled:
    """A passage row, as the gate's journal or central's table holds it."""

    passage_id: str
    ticket_id: str | None
    kind: str
    annuls: str | None


def check_against_central(gate: Gate, central: Central, printed: list[Message]) -> None:
    journal, counters = gate_records(gate.folder / "unit.db")
    stored, counts, annulled, anomalies = central_records(central.workdir / "central.db")
    assert sorted(stored, key=str) == sorted(journal, key=str)  # the same passages, each once
    assert len({p.passage_id for p in stored}) == len(stored)
    assert counts == counters == recount(gate.folder / "unit.db")
    check_printed(printed, journal)
    annulments = {p.annuls for p in stored if p.kind == "annulled"}
    assert annulments == annulled  # each annulment cancels its admission at central
    assert anomalies == []  # nothing re-sent after a kill counted as a second admission
    kinds = Counter(p.kind for p in journal)
    assert kinds["admitted"] >= TICKETS // 2 and kinds["annulled"] >= 2 and kinds["refused"] >= 1


def check_printed(printed: list[Message], journal: list[Journaled]) -> None:
    """Each printed decision and annulment is journaled (as often as it was printed, at least)."""
    in_journal = Counter((p.ticket_id, p.kind) for p in journal)
    shown = Counter(
        (e["ticket_id"], "admitted" if e["result"] == "admit" else "refused")
        for e in printed
        if e["event"] == "decision"
    )
    shown += Counter(
        (e["ticket_id"], "annulled") for e in printed if e["event"] == "passage_annulled"
    )
    missing = shown - in_journal
    assert not missing, f"printed but not journaled: {missing}"


def gate_records(path: Path) -> tuple[list[Journaled], dict[tuple[dt.datetime, str, str], int]]:
    """The gate's journal and its counters per slot."""
    with UnitStore.open(path) as store:
        rows = store.connection.execute(
            "SELECT passage_id, ticket_id, kind, annuls FROM passages_readable"
        ).fetchall()
        slots = store.counters.between(EPOCH, FAR)
    journal = [Journaled(p, None if t is None else t, k, a) for p, t, k, a in rows]
    return journal, {(s.slot_start, s.direction.value, s.kind.value): s.count for s in slots}


def recount(path: Path) -> dict[tuple[dt.datetime, str, str], int]:
    """The counts per slot, counted again from the journal's rows."""
    with UnitStore.open(path) as store:
        minutes = store.counters.slot_minutes
        rows = store.connection.execute(
            "SELECT coalesce(central_time_ms, unit_time_ms), direction, kind FROM passages"
        ).fetchall()
    counts: Counter[tuple[dt.datetime, str, str]] = Counter()
    for at_ms, direction, kind in rows:
        slot = at_ms // 1000 // (minutes * 60) * minutes * 60
        counts[(EPOCH + dt.timedelta(seconds=slot), direction, kind)] += 1
    return dict(counts)


def central_records(
    path: Path,
) -> tuple[list[Journaled], dict[tuple[dt.datetime, str, str], int], set[str], list[Any]]:
    """Central's passages, counts, cancelled admissions and anomalies, read from its database."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT passage_id, ticket_id, kind, annuls FROM passages").fetchall()
        slots = conn.execute("SELECT slot_start, direction, kind, count FROM passage_counts")
        counts = {(_utc(s), d, k): n for s, d, k, n in slots.fetchall()}
        cancelled = conn.execute("SELECT passage_id FROM passages WHERE is_annulled").fetchall()
        anomalies = conn.execute("SELECT kind, ticket_id FROM anomalies").fetchall()
    stored = [Journaled(*row) for row in rows]
    return stored, counts, {row[0] for row in cancelled}, anomalies


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
