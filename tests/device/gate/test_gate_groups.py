"""Gate groups (检票口) at the gate: a train checking in at another group is refused at entry.

Central runs on SQLite in its own process and loads a run whose boarding
stop AAA names gate group ``A1``; it sells tickets through its API. Each
gate's store syncs its station's feed page as the gate's sync task does
(``store_page``) and the gate's checker decides on the tickets' QR codes: a
gate of group ``B2`` refuses at entry with ``wrong_group``, a gate of ``A1``
admits, and so does a gate with no group. Exit is never refused for the
group. A ticket whose group the gate does not know (sold after its last
sync, or on a run that names no group) is not refused for it either. Last,
two gate processes that central registered in groups B2 and A1 decide on
one ticket as the gates in the field would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from central_rig import Central, train_run
from gate_rig import Gate

from device.gate.checker import TicketChecker
from device.gate.rules import CheckinWindow, GateSide
from device.gate.sync import store_page
from offline_store import UnitStore
from protocol.units import FeedPage, GateReason

BOARDING_GROUP = "A1"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    server = Central(tmp_path_factory.mktemp("central")).start()
    yield server
    server.stop()


def grouped_run(train: str) -> dict[str, Any]:
    """A run leaving AAA in 40 minutes (check-in open) that checks in at AAA's group A1."""
    run = train_run(train, dt.timedelta(minutes=40))
    run["stops"][0]["gate_group"] = BOARDING_GROUP
    return run


def synced_store(central: Central, station: str, path: Path) -> UnitStore:
    """A gate store at ``station`` holding its station's whole feed, as a gate's sync stores it."""
    store = UnitStore.open(path)
    cursor, more = 0, True
    while more:
        page = FeedPage.model_validate(
            central.get(f"/v1/stations/{station}/feed", cursor=str(cursor))
        )
        store_page(store, page)
        cursor, more = page.cursor, page.more
    return store


def check(
    store: UnitStore, side: GateSide, ticket: dict[str, Any], now: dt.datetime
) -> GateReason | None:
    """None when the gate admits the ticket's QR code, else its refusal."""
    checked = TicketChecker(side, CheckinWindow()).check_code(store, str(ticket["token"]), now)
    return None if checked.decision.admit else checked.decision.reason


def departure(run: dict[str, Any], stop: int) -> dt.datetime:
    stop_spec = run["stops"][stop]
    return dt.datetime.fromisoformat(stop_spec.get("depart") or stop_spec["arrive"])


def test_entry_refuses_a_train_checking_in_at_another_group(
    central: Central, tmp_path: Path
) -> None:
    run = grouped_run("G7201")
    central.post("/v1/train-runs", run)
    ticket = central.sell(run, "张三", "110101199001011234")
    now = departure(run, 0) - dt.timedelta(minutes=30)
    with synced_store(central, "AAA", tmp_path / "aaa.db") as store:
        cached = store.tickets.get(str(ticket["ticket_id"]))
        assert cached is not None and cached.record.gate_group == BOARDING_GROUP
        assert check(store, GateSide("AAA", "entry", "B2"), ticket, now) is GateReason.WRONG_GROUP
        assert check(store, GateSide("AAA", "entry", BOARDING_GROUP), ticket, now) is None
        assert check(store, GateSide("AAA", "entry"), ticket, now) is None  # a gate of no group
        # the group's refusal comes after the window's: too early is said first
        too_early = departure(run, 0) - dt.timedelta(hours=3)
        assert check(store, GateSide("AAA", "entry", "B2"), ticket, too_early) is (
            GateReason.TOO_EARLY
        )


def test_exit_is_never_refused_for_the_group(central: Central, tmp_path: Path) -> None:
    run = grouped_run("G7203")
    central.post("/v1/train-runs", run)
    ticket = central.sell(run, "李四", "110101199202021234")
    arrived = departure(run, 2)  # the last stop's arrival
    with synced_store(central, "CCC", tmp_path / "ccc.db") as store:
        cached = store.tickets.get(str(ticket["ticket_id"]))
        assert cached is not None and cached.record.gate_group == BOARDING_GROUP
        for group in ("B2", BOARDING_GROUP, None):
            assert check(store, GateSide("CCC", "exit", group), ticket, arrived) is None


def test_a_ticket_of_unknown_group_is_not_refused_for_it(central: Central, tmp_path: Path) -> None:
    grouped, plain = grouped_run("G7205"), train_run("G7207", dt.timedelta(minutes=40))
    central.post("/v1/train-runs", grouped)
    central.post("/v1/train-runs", plain)
    no_group = central.sell(plain, "王五", "110101199303031234")
    with synced_store(central, "AAA", tmp_path / "aaa.db") as store:
        after_sync = central.sell(grouped, "赵六", "110101199404041234")  # not cached yet
        assert store.tickets.get(str(after_sync["ticket_id"])) is None
        other_group = GateSide("AAA", "entry", "B2")
        for run, ticket in ((plain, no_group), (grouped, after_sync)):
            now = departure(run, 0) - dt.timedelta(minutes=30)
            assert check(store, other_group, ticket, now) is None
        # once the gate syncs again, it knows the group and refuses
        store_page(store, FeedPage.model_validate(central.get("/v1/stations/AAA/feed")))
        now = departure(grouped, 0) - dt.timedelta(minutes=30)
        assert check(store, other_group, after_sync, now) is GateReason.WRONG_GROUP


@pytest.mark.slow
def test_gate_processes_registered_in_groups(central: Central, tmp_path: Path) -> None:
    """Two gate processes enrolled by central into groups B2 and A1 decide on one ticket."""
    run = grouped_run("G7209")
    central.post("/v1/train-runs", run)
    ticket = central.sell(run, "孙七", "110101199505051234")
    other = Gate("gate-aaa-b2", tmp_path / "b2", central)
    own = Gate("gate-aaa-a1", tmp_path / "a1", central)
    started: list[Gate] = []
    try:
        for gate, group in ((other, "B2"), (own, BOARDING_GROUP)):
            gate.enrol(gate_group=group)
            started.append(gate.start())
            gate.event("sync_online")
            gate.synced_after(0)
        other.scan(str(ticket["token"]))
        refused = other.decision(ticket_id=ticket["ticket_id"])
        assert (refused["result"], refused["reason"]) == ("refuse", "wrong_group")
        own.scan(str(ticket["token"]))
        assert own.decision(ticket_id=ticket["ticket_id"])["result"] == "admit"
    finally:
        for gate in started:
            gate.stop()
