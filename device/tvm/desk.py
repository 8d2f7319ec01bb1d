"""The TVM's selling desk: what the screens ask of central, the card terminal and the printer.

Destinations and trains come from central (or, while central is away, from
the emergency seat blocks it leased this machine: ``device.tvm.offline``);
a purchase goes through the journaled checkout; a ticket shown to the
scanner is read with the keys central publishes, and refunded or changed
through central (a change's difference paid on the card first, journaled
like a purchase). ``closed_because`` says why the machine cannot sell right now: the
printer (paper out, cover open, offline), the card terminal (an unsettled
payment), or central out of reach without a block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from device.gate.messages import Words
from device.tvm import words
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout, PrintFacts
from device.tvm.flow import Held, HolderMismatch, Scanned
from device.tvm.stations import station
from device.tvm.view import Banner, ClassChoice, Station, TicketLine, TrainChoice
from drivers.printer.status import PrinterReason
from drivers.printer.ticket import StationName, mask_id_number, mask_name
from protocol.keys import KeyRing
from protocol.messages import (
    ChangeRequest,
    JourneySpec,
    OrderRequest,
    PassengerSpec,
    TicketView,
)
from protocol.token import TicketClaims, TokenError, decode_token
from protocol.tvm import JourneyOption

Clock = Callable[[], dt.datetime]


class OnlineDesk:
    """Selling through central, with the checkout's journal under every purchase."""

    def __init__(
        self,
        here: Station,
        link: TvmLink,
        checkout: Checkout,
        clock: Clock,
        zone: ZoneInfo,
        health: MachineHealth,
    ) -> None:
        self.station = here
        self.link = link
        self.checkout = checkout
        self.clock = clock
        self.zone = zone
        self.health = health
        self.keys = KeyRing()
        self._names: dict[str, Station] = {here.code: here}  # stations seen, by code
        self._held: dict[str, tuple[TicketLine, ...]] = {}
        self._changes: dict[str, PendingChange] = {}  # quoted changes, by sale id

    def closed_because(self) -> Words | None:
        return self.health.closed_because()

    def banner(self) -> Banner:
        return self.health.banner()

    async def destinations(self) -> list[Station]:
        answer = await self.link.destinations(self.station.code, self.today())
        found = [station(d.code, d.name, d.pinyin, d.initials) for d in answer.destinations]
        self._names.update((s.code, s) for s in found)
        return found

    async def trains(self, destination: Station) -> list[TrainChoice]:
        answer = await self.link.journeys(self.station.code, destination.code, self.today())
        return [self._choice(journey) for journey in answer.journeys if _sellable(journey)]

    async def hold(
        self,
        sale_id: str,
        train: TrainChoice,
        seat_class: ClassChoice,
        destination: Station,
        passengers: list[tuple[str, str]],
    ) -> Held:
        order = OrderRequest(
            train=train.train,
            date=train.service_date or train.departs_at.date(),
            from_station=self.station.code,
            to_station=destination.code,
            seat_class=seat_class.code,
            passengers=[PassengerSpec(name=n, id_number=i) for n, i in passengers],
            channel="tvm",
            station=self.station.code,
        )
        facts = PrintFacts(
            _printed_name(self.station),
            _printed_name(destination),
            train.departs_at,
            [mask_id_number(i) for _, i in passengers],
        )
        held = await self.checkout.hold(sale_id, order, facts, seat_class.price_fen)
        lines = tuple(self._line(t, train.departs_at) for t in held.tickets)
        self._held[sale_id] = lines
        # this machine sells journeys from its own station only: the card-station rule holds
        return Held(lines, held.total_fen, needs_card_station_confirm=False)

    async def pay(self, sale_id: str, confirmed: bool) -> tuple[TicketLine, ...]:
        if sale_id in self._changes:
            return await self._pay_change(sale_id, self._changes.pop(sale_id))
        await self.checkout.charge(sale_id)
        issued = await self.checkout.issue(sale_id, confirmed)
        held = self._held.pop(sale_id, ())
        departs = held[0].departs_at if held else self.clock()
        return tuple(self._line(t, departs) for t in issued.tickets)

    async def print_tickets(self, sale_id: str) -> None:
        await self.checkout.print_tickets(sale_id)

    async def cancel(self, sale_id: str, why: str) -> None:
        self._held.pop(sale_id, None)
        self._changes.pop(sale_id, None)
        await self.checkout.cancel(sale_id, why)

    async def scanned(self, text: str) -> Scanned:
        claims = await self._verified(text)
        ticket = await self.link.ticket(claims.ticket_id)
        quote = await self.link.refund_quote(claims.ticket_id)
        line = self._line(ticket, await self._departure(ticket, claims))
        return Scanned(
            ticket.ticket_id,
            line,
            quote.fee_fen,
            quote.refund_fen,
            quote.method == "card",
            claims=claims,
        )

    async def change_trains(self, ticket: Scanned, day: dt.date) -> list[TrainChoice]:
        """The trains of ``day`` between the ticket's stations that still have places."""
        claims = _claims(ticket)
        answer = await self.link.journeys(claims.from_station, claims.to_station, day)
        return [self._choice(journey) for journey in answer.journeys if _sellable(journey)]

    async def quote_change(
        self,
        sale_id: str,
        ticket: Scanned,
        train: TrainChoice,
        seat_class: ClassChoice,
        holder: tuple[str, str],
    ) -> Held:
        """What the change costs, journaled before the passenger confirms it."""
        claims, (name, id_number) = _claims(ticket), holder
        if not (claims.holder_matches(id_number) and claims.name_matches(name)):
            raise HolderMismatch(f"not the holder of ticket {ticket.ticket_id}")
        journey = JourneySpec.model_validate(
            {
                "train": train.train,
                "date": train.service_date or claims.service_date,
                "from": claims.from_station,
                "to": claims.to_station,
                "class": seat_class.code,
            }
        )
        quote = await self.link.change_quote(
            ticket.ticket_id, journey.model_dump(mode="json", by_alias=True)
        )
        due = max(0, quote.price_difference_fen)
        back = max(0, -quote.price_difference_fen - quote.fee_fen)
        facts = PrintFacts(
            _printed_name(ticket.line.from_station),
            _printed_name(ticket.line.to_station),
            train.departs_at,
            [mask_id_number(id_number)],
        )
        await self.checkout.begin_change(sale_id, ticket.ticket_id, journey, facts, due)
        request = ChangeRequest.model_validate(
            {**journey.model_dump(by_alias=True), "id_number": id_number}
        )
        self._changes[sale_id] = PendingChange(request, due, train.departs_at)
        line = replace(
            ticket.line,
            train=train.train,
            departs_at=train.departs_at,
            seat_class=seat_class.name,
            place=words.SEAT_ON_ISSUE,
            price_fen=quote.new_price_fen,
        )
        return Held((line,), due, False, fee_fen=quote.fee_fen, refund_fen=back)

    async def _pay_change(self, sale_id: str, change: PendingChange) -> tuple[TicketLine, ...]:
        if change.due_fen > 0:
            await self.checkout.charge(sale_id)
        ticket = await self.checkout.change(sale_id, change.request)
        return (self._line(ticket, change.departs_at),)

    async def refund(self, sale_id: str, ticket: Scanned) -> int:
        answer = await self.link.refund(ticket.ticket_id, key=f"{sale_id}:refund")
        self.checkout.events.emit(
            "ticket_refunded",
            ticket_id=answer.ticket_id,
            refund_fen=answer.refund_fen,
            fee_fen=answer.fee_fen,
            method=answer.method,
        )
        return answer.refund_fen

    async def _verified(self, text: str) -> TicketClaims:
        try:
            return decode_token(text, self.keys)
        except TokenError as exc:
            if exc.reason != "unknown_key":
                raise ValueError(f"not a ticket: {exc.reason}") from exc
        self.keys = KeyRing.from_json_dict(await self.link.keys())
        try:
            return decode_token(text, self.keys)
        except TokenError as exc:
            raise ValueError(f"not a ticket: {exc.reason}") from exc

    async def _departure(self, ticket: TicketView, claims: TicketClaims) -> dt.datetime:
        """When the ticket's train leaves its boarding station (the timetable's word)."""
        runs = await self.link.journeys(ticket.from_station, ticket.to_station, ticket.date)
        for journey in runs.journeys:
            if journey.train == ticket.train:
                return journey.departs_at
        return claims.not_before  # not in the timetable any more: when its check-in opened

    def today(self) -> dt.date:
        """The date here now (the earliest day a ticket can be changed to)."""
        return self.clock().astimezone(self.zone).date()

    def _choice(self, journey: JourneyOption) -> TrainChoice:
        classes = tuple(
            ClassChoice(
                c.seat_class, words.class_name(c.seat_class), c.seats, c.standing, c.price_fen
            )
            for c in journey.classes
        )
        return TrainChoice(
            journey.train,
            journey.departs_at.astimezone(self.zone),
            journey.arrives_at.astimezone(self.zone),
            classes,
            service_date=journey.date,
        )

    def _line(self, ticket: TicketView, departs: dt.datetime) -> TicketLine:
        place = words.STANDING
        if ticket.coach is not None:
            place = Words(
                f"{ticket.coach:02d}车{ticket.seat}号", f"Coach {ticket.coach} Seat {ticket.seat}"
            )
        return TicketLine(
            train=ticket.train,
            from_station=self._named(ticket.from_station),
            to_station=self._named(ticket.to_station),
            departs_at=departs.astimezone(self.zone),
            seat_class=words.class_name(ticket.seat_class),
            place=place,
            passenger=mask_name(ticket.passenger),
            price_fen=ticket.price_fen,
        )

    def _named(self, code: str) -> Station:
        return self._names.get(code) or station(code, code)


@dataclass(frozen=True)
class PendingChange:
    """A change quoted and journaled, waiting for the passenger's confirmation."""

    request: ChangeRequest  # carries the holder's ID number: memory only
    due_fen: int
    departs_at: dt.datetime


def _claims(ticket: Scanned) -> TicketClaims:
    if ticket.claims is None:
        raise ValueError(f"ticket {ticket.ticket_id} was not read from its QR code")
    return ticket.claims


class MachineHealth:
    """Whether the machine can sell now, from its parts' last known state."""

    def __init__(self, sell_on_paper_near_end: bool = False) -> None:
        self.sell_on_paper_near_end = sell_on_paper_near_end
        self.is_online = True
        self.has_block = False
        self.printer_reason: PrinterReason = PrinterReason.OK
        self.terminal_unresolved = False

    def closed_because(self) -> Words | None:
        reason = self.printer_reason
        if reason is PrinterReason.PAPER_OUT:
            return words.PAPER_OUT
        if reason is PrinterReason.PAPER_NEAR_END and not self.sell_on_paper_near_end:
            return words.PAPER_LOW
        if reason not in (PrinterReason.OK, PrinterReason.PAPER_NEAR_END):
            return words.PRINTER_DOWN
        if self.terminal_unresolved:
            return words.TERMINAL_DOWN
        if not self.is_online and not self.has_block:
            return words.CENTRAL_DOWN
        return None

    def banner(self) -> Banner:
        if not self.is_online:
            return Banner.OFFLINE_BLOCK if self.has_block else Banner.OFFLINE
        if self.printer_reason is PrinterReason.PAPER_NEAR_END:
            return Banner.PAPER_LOW
        return Banner.NONE


def _sellable(journey: JourneyOption) -> bool:
    return any(c.seats + c.standing > 0 for c in journey.classes)


def _printed_name(place: Station) -> StationName:
    return StationName(place.name.zh, place.name.en)
