"""From a presented ticket to a decision: verify, gather the facts, ask the rules.

A QR code is verified against the key ring the gate holds (offline, with the
signature: a ticket sold after the last sync is valid at once). A TVM's key,
for tickets it sold offline from an emergency block, signs only tickets that
board at its station: one boarding elsewhere is refused as signed with an
unknown key (central counts it as forged). A card tap finds the holder's
tickets by their holder tag and admits on the first that the rules admit for
its holder. The facts come from the gate's store: the cached ticket (its times
and the gate group its train checks in at), revocations, and whether it
already went through this way. A ticket the cache does not know yet takes its
times from its token's window and has no group (the token carries none), so it
is never refused for its group. Everything here blocks on the store, so the
runtime calls it from its decision thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import base45

from device.gate.rules import CheckinWindow, Decision, GateSide, TicketFacts, decide
from offline_store.key_store import ScopedRing
from offline_store.passages import Direction
from offline_store.store import UnitStore
from protocol.errors import ErrorCode
from protocol.token import TicketClaims, TokenError, decode_token
from protocol.units import GateReason, holder_tag

TOKEN_REASONS = {
    ErrorCode.TOKEN_MALFORMED: GateReason.MALFORMED,
    ErrorCode.TOKEN_BAD_SIGNATURE: GateReason.BAD_SIGNATURE,
    ErrorCode.TOKEN_UNKNOWN_KEY: GateReason.UNKNOWN_KEY,
    ErrorCode.TOKEN_UNSUPPORTED_VERSION: GateReason.UNSUPPORTED_VERSION,
}
OPENS_FACT = "token_opens_minutes"  # how central sets a token's window (from the feed)
AFTER_FACT = "token_after_arrival_minutes"
DEFAULT_OPENS_MINUTES = 120
DEFAULT_AFTER_MINUTES = 120


@dataclass(frozen=True)
class Checked:
    """A decision and the ticket it was about (None when nothing readable was shown)."""

    decision: Decision
    ticket_id: str | None = None
    claims: TicketClaims | None = None


class TicketChecker:
    """Decides on presented tickets for one side of the gate, from the store it is handed."""

    def __init__(self, side: GateSide, window: CheckinWindow) -> None:
        self.side = side
        self.window = window

    def check_code(self, store: UnitStore, text: str, now: dt.datetime) -> Checked:
        """A scanned QR code."""
        try:
            claims = _verified(text, store.keys.scoped_ring())
        except TokenError as exc:
            return Checked(Decision.refuse(TOKEN_REASONS[exc.code]))
        return self._decide(store, claims, now, None)

    def check_card(self, store: UnitStore, id_number: str, now: dt.datetime) -> Checked:
        """A card tap: the holder's ticket for this side now, if there is one."""
        key = store.keys.holder_tag_key()
        if key is None:
            return Checked(Decision.refuse(GateReason.NO_TICKET))
        tag = bytes.fromhex(holder_tag(key.key, id_number))
        keys = store.keys.scoped_ring()
        refusals: list[Checked] = []
        for cached in store.tickets.by_holder_tag(tag):
            try:
                claims = _verified(_text(cached.record.token), keys)
            except TokenError:
                continue  # a damaged cache entry proves nothing about this passenger
            checked = self._decide(store, claims, now, id_number)
            if checked.decision.admit:
                return checked
            refusals.append(checked)
        return _most_telling(refusals) or Checked(Decision.refuse(GateReason.NO_TICKET))

    def _decide(
        self, store: UnitStore, claims: TicketClaims, now: dt.datetime, card: str | None
    ) -> Checked:
        facts = self._facts(store, claims)
        decision = decide(claims, facts, self.side, self.window, now, card)
        return Checked(decision, claims.ticket_id, claims)

    def _facts(self, store: UnitStore, claims: TicketClaims) -> TicketFacts:
        ticket_id = claims.ticket_id
        cached = store.tickets.get(ticket_id)
        revoked = store.revocations.get(ticket_id) is not None
        used = store.journal.has_admitted(ticket_id, Direction(self.side.direction))
        if cached is not None:
            record = cached.record
            revoked = revoked or cached.revocation is not None
            return TicketFacts(
                record.departs_at, record.arrives_at, record.gate_group, revoked, used
            )
        departs, arrives = _times_from_token(store, claims)  # its group is not known here
        return TicketFacts(departs, arrives, None, revoked, used)


def _verified(text: str, keys: ScopedRing) -> TicketClaims:
    """The token's claims, if it verifies and its key may sign a ticket boarding there."""
    claims = decode_token(text, keys.ring)
    if not keys.allows(claims.key_id, claims.from_station):
        raise TokenError("this key signs no ticket from there", ErrorCode.TOKEN_UNKNOWN_KEY)
    return claims


def _times_from_token(store: UnitStore, claims: TicketClaims) -> tuple[dt.datetime, dt.datetime]:
    """Departure and arrival from the token's window, as central set it."""
    opens = _minutes(store.state.fact(OPENS_FACT), DEFAULT_OPENS_MINUTES)
    after = _minutes(store.state.fact(AFTER_FACT), DEFAULT_AFTER_MINUTES)
    return (
        claims.not_before + dt.timedelta(minutes=opens),
        claims.not_after - dt.timedelta(minutes=after),
    )


def _text(token: bytes) -> str:
    return base45.b45encode(token).decode("ascii")  # type: ignore[no-any-return]


def _minutes(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# A card holder's refusals, most useful first: the one that says what to do now.
_TELLING = (
    GateReason.TOO_EARLY,
    GateReason.WRONG_GROUP,
    GateReason.ALREADY_USED,
    GateReason.REVOKED,
    GateReason.TOO_LATE,
)


def _most_telling(refusals: list[Checked]) -> Checked | None:
    for reason in _TELLING:
        for checked in refusals:
            if checked.decision.reason is reason:
                return checked
    return None  # only other stations' or dates' tickets: nothing for this gate now
