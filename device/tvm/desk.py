"""The TVM's selling desk: what the screens ask of central, the card terminal and the printer.

Destinations and trains come from central (or, while central is away, from
the emergency seat blocks it leased this machine: ``device.tvm.offline``);
a purchase goes through the journaled checkout; a ticket shown to the
scanner is read with the keys central publishes, and refunded through
central. ``closed_because`` says why the machine cannot sell right now: the
printer (paper out, cover open, offline), the card terminal (an unsettled
payment), or central out of reach without a block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from device.gate.messages import Words
from device.tvm import words
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout, PrintFacts
from device.tvm.flow import Held, Scanned
from device.tvm.stations import station
from device.tvm.view import Banner, ClassChoice, Station, TicketLine, TrainChoice
from drivers.printer.status import PrinterReason
from drivers.printer.ticket import StationName, mask_id_number, mask_name
from protocol.keys import KeyRing
from protocol.messages import OrderRequest, PassengerSpec, TicketView
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

    def closed_because(self) -> Words | None:
        return self.health.closed_because()

    def banner(self) -> Banner:
        return self.health.banner()

    async def destinations(self) -> list[Station]:
        answer = await self.link.destinations(self.station.code, self._today())
        found = [station(d.code, d.name) for d in answer.destinations]
        self._names.update((s.code, s) for s in found)
        return found

    async def trains(self, destination: Station) -> list[TrainChoice]:
        answer = await self.link.journeys(self.station.code, destination.code, self._today())
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
            date=train.departs_at.date(),
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
        await self.checkout.charge(sale_id)
        issued = await self.checkout.issue(sale_id, confirmed)
        held = self._held.pop(sale_id, ())
        departs = held[0].departs_at if held else self.clock()
        return tuple(self._line(t, departs) for t in issued.tickets)

    async def print_tickets(self, sale_id: str) -> None:
        await self.checkout.print_tickets(sale_id)

    async def cancel(self, sale_id: str, why: str) -> None:
        self._held.pop(sale_id, None)
        await self.checkout.cancel(sale_id, why)

    async def scanned(self, text: str) -> Scanned:
        claims = await self._verified(text)
        ticket = await self.link.ticket(claims.ticket_id)
        quote = await self.link.refund_quote(claims.ticket_id)
        line = self._line(ticket, await self._departure(ticket, claims))
        return Scanned(
            ticket.ticket_id, line, quote.fee_fen, quote.refund_fen, quote.method == "card"
        )

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

    def _today(self) -> dt.date:
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


class MachineHealth:
    """Whether the machine can sell now, from its parts' last known state."""

    def __init__(self) -> None:
        self.is_online = True
        self.has_block = False
        self.printer_reason: PrinterReason = PrinterReason.OK
        self.terminal_unresolved = False

    def closed_because(self) -> Words | None:
        if self.printer_reason in (PrinterReason.PAPER_OUT,):
            return words.PAPER_OUT
        if self.printer_reason not in (PrinterReason.OK, PrinterReason.PAPER_NEAR_END):
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
