"""The after-sale scenes of the demo day: refunds, a change, an offline gate check.

A card ticket and a cash ticket are refunded by the selling point that sold
them (fee by the schedule, money back the way it came); a window ticket is
changed to the later service date in the cheapest class (改签); and ticket
tokens are verified with the public keys only, as a gate does offline,
while a token with one character changed is refused.
"""

from __future__ import annotations

from protocol.keys import KeyRing
from protocol.token import TicketClaims, TokenError, decode_token
from stationkit.demo.books import Demo
from stationkit.demo.client import DemoError, Json
from stationkit.demo.report import place, say, yuan
from stationkit.demo.selling import describe, ticket_journey

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def refunds(demo: Demo) -> None:
    """Refund a card ticket and a cash ticket: fee by the schedule, money back the same way."""
    for role in ("card_refund", "cash_refund"):
        ticket, rider = demo.kept[role]
        seller = demo.seller_of(ticket)
        answer = demo.api.post(f"/v1/tickets/{ticket['ticket_id']}/refund", None, seller.token)
        demo.ledger.refund(ticket["ticket_id"], answer["refund_fen"])
        back = answer.get("method") or "?"
        via = f" via {answer['acquirer']}" if answer.get("acquirer") else ""
        say(
            f"refund   {rider['name']} — {describe(demo, ticket)}: "
            f"price {yuan(ticket['price_fen'])}, fee {yuan(answer['fee_fen'])}, "
            f"refund {yuan(answer['refund_fen'])} to {back}{via}"
        )


def change(demo: Demo) -> None:
    """Change a ticket to the same journey on the later date in the cheapest class (改签)."""
    ticket, rider = demo.kept["change"]
    run, a, b, _ = ticket_journey(demo, ticket)
    later = demo.run(run.train, demo.later)
    body = {**later.journey(a, b, later.classes_by_fare()[-1]), "id_number": rider["id_number"]}
    seller = demo.seller_of(ticket)
    answer = demo.api.post(f"/v1/tickets/{ticket['ticket_id']}/change", body, seller.token)
    new = answer["ticket"]
    difference, fee = answer["price_difference_fen"], answer["fee_fen"]
    demo.ledger.change(ticket["ticket_id"], new["ticket_id"], difference, fee)
    say(
        f"change   {rider['name']} — {describe(demo, ticket)} ⇒ {new['date']} {new['class']} "
        f"{place(new)}: difference {yuan(difference)}, fee {yuan(fee)}"
    )
    old = demo.api.get(f"/v1/tickets/{ticket['ticket_id']}")
    say(f"status   old ticket {ticket['ticket_id']}: {old['status']}; new {new['ticket_id']}")
    if old["status"] != "changed":
        raise DemoError(f"changed ticket {ticket['ticket_id']} is {old['status']}")


def offline_check(demo: Demo) -> None:
    """Verify ticket tokens with the public keys only, as a gate does offline."""
    ring = KeyRing.from_json_dict(demo.api.get("/v1/keys"))
    say(f"keys     GET /v1/keys: {len(ring)} verification key(s), ids {ring.key_ids()}")
    for role in ("verify", "standing"):
        ticket, rider = demo.kept[role]
        claims = verified(ticket["token"], ring)
        holder = "matches" if claims.holder_matches(rider["id_number"]) else "DOES NOT MATCH"
        say(
            f"gate     {len(ticket['token'])}-char token of {rider['name']} verified offline "
            f"(key {claims.key_id}): {claims.train} {claims.service_date} {claims.seat_class} "
            f"{claims.from_station}→{claims.to_station} {place(vars_of(claims))}, ID {holder}"
        )
    forgery_refused(demo.kept["verify"][0]["token"], ring)


def forgery_refused(token: str, ring: KeyRing) -> None:
    """Change one character of a good token: the gate must refuse it."""
    middle = len(token) // 2
    forged = token[:middle] + next(c for c in BASE45 if c != token[middle]) + token[middle + 1 :]
    try:
        decode_token(forged, ring)
    except TokenError as exc:
        say(f"gate     a token with one character changed is refused: {exc.reason}")
        return
    raise DemoError("a forged token verified")


def verified(token: str, ring: KeyRing) -> TicketClaims:
    """Decode a token central issued; a failure is a demo failure."""
    try:
        return decode_token(token, ring)
    except TokenError as exc:
        raise DemoError(f"a token central issued does not verify: {exc.reason}: {exc}") from exc


def vars_of(claims: TicketClaims) -> Json:
    """The place fields of claims, shaped like a ticket view."""
    return {"coach": claims.coach, "seat": claims.seat}
