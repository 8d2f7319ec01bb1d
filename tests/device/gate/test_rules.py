"""The gate's decision rules, checked as the pure function they are."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.gate.rules import (
    ADMIT,
    CheckinWindow,
    Decision,
    GateSide,
    TicketFacts,
    decide,
    window_of,
)
from protocol.token import TicketClaims
from protocol.units import GateReason

UTC = dt.UTC
DEPARTS = dt.datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
ARRIVES = dt.datetime(2026, 12, 3, 11, 30, tzinfo=UTC)
CLAIMS = TicketClaims.for_passenger(
    ticket_id="0123456789abcdef",
    train="G101",
    service_date=dt.date(2026, 12, 3),
    from_station="VNP",
    to_station="AOH",
    seat_class="ZE",
    coach=5,
    seat=12,
    name="张三",
    id_number="110101199001011234",
    not_before=DEPARTS - dt.timedelta(hours=2),
    not_after=ARRIVES + dt.timedelta(hours=2),
)
FACTS = TicketFacts(departs_at=DEPARTS, arrives_at=ARRIVES)
ENTRY = GateSide("VNP", "entry")
EXIT = GateSide("AOH", "exit")
WINDOW = CheckinWindow()


def at(minutes_from_departure: float) -> dt.datetime:
    return DEPARTS + dt.timedelta(minutes=minutes_from_departure)


def test_entry_inside_the_window_admits() -> None:
    assert decide(CLAIMS, FACTS, ENTRY, WINDOW, at(-30)) == ADMIT


def test_exit_after_departure_admits_until_the_grace_ends() -> None:
    assert decide(CLAIMS, FACTS, EXIT, WINDOW, at(200)) == ADMIT
    late = ARRIVES + dt.timedelta(minutes=121)
    assert decide(CLAIMS, FACTS, EXIT, WINDOW, late) == Decision.refuse(GateReason.TOO_LATE)


@pytest.mark.parametrize(
    ("minutes", "reason"),
    [
        (-121, GateReason.TOO_EARLY),
        (-120, None),
        (-3, None),
        (-2.9, GateReason.TOO_LATE),
        (-60 * 24 - 121, GateReason.WRONG_DATE),
        (60 * 24, GateReason.WRONG_DATE),
    ],
)
def test_the_entry_window_edges(minutes: float, reason: GateReason | None) -> None:
    decision = decide(CLAIMS, FACTS, ENTRY, WINDOW, at(minutes))
    assert decision.reason == reason and decision.admit == (reason is None)


def test_a_ticket_of_another_station_or_the_wrong_way_is_refused() -> None:
    assert decide(CLAIMS, FACTS, GateSide("JGK", "entry"), WINDOW, at(-30)).reason == (
        GateReason.WRONG_STATION
    )
    # entering at the alighting station is the wrong way through
    assert decide(CLAIMS, FACTS, GateSide("AOH", "entry"), WINDOW, at(-30)).reason == (
        GateReason.WRONG_STATION
    )


def test_revoked_and_used_tickets_are_refused() -> None:
    revoked = replace(FACTS, is_revoked=True)
    assert decide(CLAIMS, revoked, ENTRY, WINDOW, at(-30)).reason == GateReason.REVOKED
    used = replace(FACTS, is_used=True)
    assert decide(CLAIMS, used, ENTRY, WINDOW, at(-30)).reason == GateReason.ALREADY_USED


def test_gate_groups_apply_to_entry_when_both_are_known() -> None:
    grouped = replace(FACTS, gate_group="A3")
    assert decide(CLAIMS, grouped, replace(ENTRY, gate_group="A3"), WINDOW, at(-30)) == ADMIT
    other = decide(CLAIMS, grouped, replace(ENTRY, gate_group="B1"), WINDOW, at(-30))
    assert other.reason == GateReason.WRONG_GROUP
    assert decide(CLAIMS, FACTS, replace(ENTRY, gate_group="B1"), WINDOW, at(-30)) == ADMIT


def test_a_card_tap_needs_the_ticket_holder() -> None:
    assert decide(CLAIMS, FACTS, ENTRY, WINDOW, at(-30), "110101199001011234") == ADMIT
    assert decide(CLAIMS, FACTS, ENTRY, WINDOW, at(-30), "11010119900101123x ") == (
        Decision.refuse(GateReason.HOLDER_MISMATCH)
    )


def test_the_first_failing_check_gives_the_reason() -> None:
    everything_wrong = replace(FACTS, is_revoked=True, is_used=True)
    side = GateSide("JGK", "entry")
    assert decide(CLAIMS, everything_wrong, side, WINDOW, at(-500)).reason == (
        GateReason.WRONG_STATION
    )
    assert decide(CLAIMS, everything_wrong, ENTRY, WINDOW, at(-500)).reason == GateReason.REVOKED


@given(
    minutes=st.floats(min_value=-5000, max_value=5000, allow_nan=False),
    opens=st.integers(0, 600),
    closes=st.integers(0, 60),
)
def test_entry_admits_exactly_inside_its_window(minutes: float, opens: int, closes: int) -> None:
    window = CheckinWindow(opens_minutes=opens, closes_minutes=closes)
    now = at(minutes)
    start, end = window_of(FACTS, ENTRY, window)
    assert decide(CLAIMS, FACTS, ENTRY, window, now).admit == (start <= now <= end)
