"""The gate's decision: admit or refuse a presented ticket, as a pure function.

Nothing here does I/O or reads a clock: the runtime gathers the ticket's
verified claims, what its cache knows of the ticket, its own side (station,
direction, gate group), the time and the mode, and asks ``decide``. The
checks run in a fixed order and the first that fails gives the reason, so a
ticket is refused for the same reason at every gate:

1. this station and direction (entry where the ticket boards, exit where it
   alights),
2. not revoked (refunded or changed),
3. the check-in window: for entry from ``opens_minutes`` before the train
   leaves this station until ``closes_minutes`` before; for exit from the
   departure until ``exit_grace_minutes`` after the arrival. Far outside it
   (a day or more) the ticket is for another date,
4. the gate group the train checks in at (entry),
5. anti-passback: not already through this way,
6. for a card tap, the card's holder is the ticket's.

The signature was checked before (an unverified token never reaches here).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from protocol.token import TicketClaims
from protocol.units import Direction, GateReason

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class GateSide:
    """Who is deciding: the gate's station, the way it lets people through, its group."""

    station: str
    direction: Direction
    gate_group: str | None = None


@dataclass(frozen=True)
class CheckinWindow:
    """The gate's window settings (minutes)."""

    opens_minutes: int = 120
    closes_minutes: int = 3
    exit_grace_minutes: int = 120


@dataclass(frozen=True)
class TicketFacts:
    """What the gate knows of a ticket beyond its token's claims."""

    departs_at: dt.datetime  # from the ticket's boarding station
    arrives_at: dt.datetime  # at its alighting station
    gate_group: str | None = None
    is_revoked: bool = False
    is_used: bool = False  # admitted this way already (and not annulled)


@dataclass(frozen=True)
class Decision:
    """Admit, or refuse with a reason."""

    admit: bool
    reason: GateReason | None = None

    @classmethod
    def refuse(cls, reason: GateReason) -> Decision:
        """A refusal."""
        return cls(False, reason)


ADMIT = Decision(True)


def decide(
    claims: TicketClaims,
    facts: TicketFacts,
    side: GateSide,
    window: CheckinWindow,
    now: dt.datetime,
    card_id_number: str | None = None,
) -> Decision:
    """Admit or refuse the ticket ``claims`` describe (its signature already verified)."""
    for reason in (
        _place(claims, side),
        GateReason.REVOKED if facts.is_revoked else None,
        _window(facts, side, window, now),
        _group(facts, side),
        GateReason.ALREADY_USED if facts.is_used else None,
        _holder(claims, card_id_number),
    ):
        if reason is not None:
            return Decision.refuse(reason)
    return ADMIT


def _place(claims: TicketClaims, side: GateSide) -> GateReason | None:
    here = claims.from_station if side.direction == "entry" else claims.to_station
    return None if here == side.station else GateReason.WRONG_STATION


def window_of(
    facts: TicketFacts, side: GateSide, window: CheckinWindow
) -> tuple[dt.datetime, dt.datetime]:
    """When this side lets the ticket through: [opens, closes]."""
    if side.direction == "entry":
        return (
            facts.departs_at - dt.timedelta(minutes=window.opens_minutes),
            facts.departs_at - dt.timedelta(minutes=window.closes_minutes),
        )
    return facts.departs_at, facts.arrives_at + dt.timedelta(minutes=window.exit_grace_minutes)


def _window(
    facts: TicketFacts, side: GateSide, window: CheckinWindow, now: dt.datetime
) -> GateReason | None:
    opens, closes = window_of(facts, side, window)
    if now < opens:
        return GateReason.WRONG_DATE if opens - now >= ONE_DAY else GateReason.TOO_EARLY
    if now > closes:
        return GateReason.WRONG_DATE if now - closes >= ONE_DAY else GateReason.TOO_LATE
    return None


def _group(facts: TicketFacts, side: GateSide) -> GateReason | None:
    if side.direction != "entry" or side.gate_group is None or facts.gate_group is None:
        return None
    return None if facts.gate_group == side.gate_group else GateReason.WRONG_GROUP


def _holder(claims: TicketClaims, card_id_number: str | None) -> GateReason | None:
    if card_id_number is None or claims.holder_matches(card_id_number):
        return None
    return GateReason.HOLDER_MISMATCH
