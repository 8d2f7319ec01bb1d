"""Selling from an emergency seat block while central cannot be reached (应急售票).

Central leases a TVM seats of a train for journeys from its station
(``protocol.tvm.BlockView``); while online the TVM keeps its active blocks
and registers the key it signs block tickets with. Offline, it sells from a
block: the seat is taken in its own store (a block seat sells once), the
card is charged through the same journaled checkout, the ticket is signed
with the TVM's key (central publishes that key to its station's gates, so
they admit the ticket offline) and printed. When central is back every such
sale is uploaded; central issues the ticket on the block's seat, and
refuses, as an anomaly for its operators, a sale it cannot honour.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from device.central_link import CentralRefused, CentralUnreachable
from device.events import EventLog
from device.gate.messages import Words
from device.store_thread import StoreThread
from device.tvm import words
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout, SaleState
from device.tvm.desk import MachineHealth, OnlineDesk
from device.tvm.flow import Held, Scanned
from device.tvm.stations import station
from device.tvm.view import Banner, ClassChoice, Station, TicketLine, TrainChoice
from drivers.printer.ticket import mask_id_number, mask_name
from offline_store.sales import Sale
from offline_store.store import UnitStore
from protocol.ids import new_ticket_id
from protocol.keys import SigningKey
from protocol.token import TicketClaims, encode_token
from protocol.tvm import BlockSale, BlockSalesUpload, BlockStop, BlockView

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
UPLOAD_BATCH = 100


class BlockKeeper:
    """While online: this TVM's signing key registered, its blocks kept, offline sales sent."""

    def __init__(self, link: TvmLink, store: StoreThread, events: EventLog, clock: Clock) -> None:
        self.link = link
        self.store = store
        self.events = events
        self.clock = clock
        self._kept: dict[str, int] | None = None

    async def sync(self) -> int:
        """One round (raises when central cannot be reached); how many active blocks there are."""
        await self._register_key()
        answer = await self.link.blocks()
        views = [block.model_dump(mode="json", by_alias=True) for block in answer.blocks]
        await self.store.run(lambda s: s.blocks.replace_active(views))
        kept = {block.block_id: len(block.seats) for block in answer.blocks}
        if kept != self._kept:
            self.events.emit("blocks_kept", blocks=kept)  # seats each block still holds
            self._kept = kept
        await self._upload()
        return len(views)

    async def _register_key(self) -> None:
        kept = await self.store.run(lambda s: s.unit_key.get())
        if kept is None:
            seed = os.urandom(32)
            await self.store.run(lambda s: s.unit_key.create(seed))
            kept = (seed, None)
        seed, key_id = kept
        if key_id is not None:
            return
        public = SigningKey.from_private_hex(1, seed.hex()).public_key().public_hex()
        registered = await self.link.register_signing_key(public)
        await self.store.run(lambda s: s.unit_key.set_key_id(registered.key_id))
        self.events.emit("signing_key_registered", key_id=registered.key_id)

    async def _upload(self) -> None:
        while True:
            pending = await self.store.run(lambda s: s.block_sales.pending(UPLOAD_BATCH))
            if not pending:
                return
            upload = BlockSalesUpload.model_validate({"sales": pending})
            answer = await self.link.upload_block_sales(upload)
            outcomes = [result.model_dump(mode="json") for result in answer.results]
            await self.store.run(partial(_mark_uploaded, outcomes=outcomes, at=self.clock()))
            for outcome in outcomes:
                self.events.emit("block_sale_uploaded", **outcome)


def _mark_uploaded(store: UnitStore, outcomes: list[dict[str, Any]], at: dt.datetime) -> None:
    for outcome in outcomes:
        store.block_sales.mark_uploaded(outcome["ticket_id"], outcome, at)


class OfflineDesk:
    """The desk while central is away: only trains of this TVM's active blocks, by card."""

    def __init__(
        self, here: Station, store: StoreThread, checkout: Checkout, clock: Clock, zone: ZoneInfo
    ) -> None:
        self.station = here
        self.store = store
        self.checkout = checkout
        self.clock = clock
        self.zone = zone
        self._held: dict[str, dict[str, Any]] = {}

    def closed_because(self) -> Words | None:
        return None

    def banner(self) -> Banner:
        return Banner.OFFLINE_BLOCK

    async def blocks(self) -> list[BlockView]:
        """Active blocks whose train has not left this station."""
        now = self.clock()
        found = await self.store.run(lambda s: s.blocks.active(now))
        views = [BlockView.model_validate(view) for view in found]
        return [v for v in views if v.departs_at > now]

    async def destinations(self) -> list[Station]:
        seen: dict[str, Station] = {}
        for block in await self.blocks():
            for stop in block.stops:
                seen.setdefault(stop.code, _station(stop))
        return sorted(seen.values(), key=lambda s: s.name.en)

    async def trains(self, destination: Station) -> list[TrainChoice]:
        choices = []
        for block in await self.blocks():
            stop = next((s for s in block.stops if s.code == destination.code), None)
            if stop is None:
                continue
            free = len(block.seats) - len(await self._sold(block))
            seat_class = ClassChoice(
                block.seat_class, words.class_name(block.seat_class), free, 0, stop.price_fen
            )
            choices.append(
                TrainChoice(
                    block.train,
                    block.departs_at.astimezone(self.zone),
                    stop.arrives_at.astimezone(self.zone),
                    (seat_class,),
                    is_from_block=True,
                )
            )
        return choices

    async def hold(
        self,
        sale_id: str,
        train: TrainChoice,
        seat_class: ClassChoice,
        destination: Station,
        passengers: list[tuple[str, str]],
    ) -> Held:
        block = await self._block_of(train.train)
        sold = await self._sold(block)
        free = [s for s in block.seats if (s.coach, s.seat) not in sold]
        if len(free) < len(passengers):
            raise CentralRefused(409, "not_enough_seats", "the emergency block has too few seats")
        stop = next(s for s in block.stops if s.code == destination.code)
        seats = free[: len(passengers)]
        detail = {
            "block_id": block.block_id,
            "train": block.train,
            "to": destination.code,
            "stations": [
                [self.station.name.zh, self.station.name.en],
                [destination.name.zh, destination.name.en],
            ],
            "departs_at": train.departs_at.isoformat(),
            "id_masked": [mask_id_number(i) for _, i in passengers],
            "passengers": len(passengers),
        }
        total = stop.price_fen * len(passengers)
        now = self.clock()
        await self.store.run(
            lambda s: s.sales.begin(sale_id, "offline", SaleState.HELD, detail, now)
        )
        await self.store.run(lambda s: s.sales.step(sale_id, SaleState.HELD, now, amount_fen=total))
        self._held[sale_id] = {
            "block": block,
            "stop": stop,
            "seats": seats,
            "passengers": passengers,
        }
        lines = tuple(
            self._line(block, destination, seat, name, stop.price_fen)
            for seat, (name, _) in zip(seats, passengers, strict=True)
        )
        return Held(lines, total, needs_card_station_confirm=False)

    async def pay(self, sale_id: str, confirmed: bool) -> tuple[TicketLine, ...]:
        await self.checkout.charge(sale_id)
        await self.issue(sale_id)
        kept = self._held.pop(sale_id)
        block, stop = kept["block"], kept["stop"]
        destination = _station(stop)
        return tuple(
            self._line(block, destination, seat, name, stop.price_fen)
            for seat, (name, _) in zip(kept["seats"], kept["passengers"], strict=True)
        )

    async def issue(self, sale_id: str) -> None:
        """Sign and keep the block tickets of a charged sale (before they print)."""
        kept = self._held[sale_id]
        sale = await self.store.run(lambda s: s.sales.get(sale_id))
        assert sale is not None
        tickets = await self.store.run(lambda s: _issue(s, sale, kept, self.clock()))
        await self.store.run(
            lambda s: s.sales.step(sale_id, SaleState.ISSUED, self.clock(), tickets=tickets)
        )

    async def print_tickets(self, sale_id: str) -> None:
        await self.checkout.print_tickets(sale_id)

    async def cancel(self, sale_id: str, why: str) -> None:
        self._held.pop(sale_id, None)
        now = self.clock()
        await self.store.run(
            lambda s: s.sales.step(
                sale_id, SaleState.CANCELLED, now, is_open=False, note={"why": why}
            )
        )

    async def scanned(self, text: str) -> Scanned:
        raise CentralUnreachable("refunds need central")

    async def refund(self, sale_id: str, ticket: Scanned) -> int:
        raise CentralUnreachable("refunds need central")

    async def _block_of(self, train: str) -> BlockView:
        for block in await self.blocks():
            if block.train == train:
                return block
        raise CentralRefused(409, "no_block", f"no active block on {train}")

    async def _sold(self, block: BlockView) -> set[tuple[int, int]]:
        return await self.store.run(lambda s: s.block_sales.sold_seats(block.block_id))

    def _line(
        self, block: BlockView, destination: Station, seat: Any, name: str, price: int
    ) -> TicketLine:
        return TicketLine(
            train=block.train,
            from_station=self.station,
            to_station=destination,
            departs_at=block.departs_at.astimezone(self.zone),
            seat_class=words.class_name(block.seat_class),
            place=Words(f"{seat.coach:02d}车{seat.seat}号", f"Coach {seat.coach} Seat {seat.seat}"),
            passenger=mask_name(name),
            price_fen=price,
        )


def _issue(
    store: UnitStore, sale: Sale, kept: dict[str, Any], now: dt.datetime
) -> list[dict[str, Any]]:
    """Sign each passenger's ticket with the TVM's key and keep the sale for central."""
    key_row = store.unit_key.get()
    if key_row is None or key_row[1] is None:
        raise CentralRefused(409, "no_key", "this TVM has no registered signing key")
    key = SigningKey.from_private_hex(key_row[1], key_row[0].hex())
    block, stop = kept["block"], kept["stop"]
    tickets = []
    for seat, (name, id_number) in zip(kept["seats"], kept["passengers"], strict=True):
        ticket = _signed(block, stop, seat, name, id_number, key)
        payment = sale.payment or {}
        upload = BlockSale.model_validate(
            {
                "block_id": block.block_id,
                "ticket_id": ticket["ticket_id"],
                "coach": seat.coach,
                "seat": seat.seat,
                "to": stop.code,
                "passenger_name": name,
                "id_number": id_number,
                "price_fen": stop.price_fen,
                "payment": {
                    "method": "card",
                    "reference": str(payment.get("reference") or sale.transaction_id),
                    "acquirer": payment.get("acquirer"),
                    "card_masked": payment.get("card_masked"),
                },
                "sold_at": now.isoformat(),
                "token": ticket["token"],
            }
        )
        store.block_sales.record(
            ticket["ticket_id"],
            block.block_id,
            seat.coach,
            seat.seat,
            upload.model_dump(mode="json", by_alias=True),
        )
        tickets.append(ticket)
    return tickets


def _signed(
    block: BlockView, stop: Any, seat: Any, name: str, id_number: str, key: SigningKey
) -> dict[str, Any]:
    ticket_id = new_ticket_id()
    claims = TicketClaims.for_passenger(
        ticket_id=ticket_id,
        train=block.train,
        service_date=block.date,
        from_station=block.station,
        to_station=stop.code,
        seat_class=block.seat_class,
        coach=seat.coach,
        seat=seat.seat,
        name=name,
        id_number=id_number,
        not_before=block.departs_at - dt.timedelta(minutes=block.checkin_opens_minutes),
        not_after=stop.arrives_at + dt.timedelta(minutes=block.valid_after_arrival_minutes),
    )
    return {
        "ticket_id": ticket_id,
        "passenger": name,
        "coach": seat.coach,
        "seat": seat.seat,
        "price_fen": stop.price_fen,
        "status": "issued",
        "token": encode_token(claims, key),
        "train": block.train,
        "date": block.date.isoformat(),
        "from": block.station,
        "to": stop.code,
        "class": block.seat_class,
        "remote": False,
    }


class EitherDesk:
    """Online while central answers; from the emergency block while it does not.

    A purchase stays with the desk that held it, whatever happens to the
    network meanwhile; refunds always need central.
    """

    def __init__(self, online: OnlineDesk, offline: OfflineDesk, health: MachineHealth) -> None:
        self.online = online
        self.offline = offline
        self.health = health
        self.station = online.station
        self._owners: dict[str, OnlineDesk | OfflineDesk] = {}

    def closed_because(self) -> Words | None:
        return self.health.closed_because()

    def banner(self) -> Banner:
        return self.health.banner()

    def _now(self) -> OnlineDesk | OfflineDesk:
        is_offline = not self.health.is_online and self.health.has_block
        return self.offline if is_offline else self.online

    async def destinations(self) -> list[Station]:
        return await self._now().destinations()

    async def trains(self, destination: Station) -> list[TrainChoice]:
        return await self._now().trains(destination)

    async def hold(
        self,
        sale_id: str,
        train: TrainChoice,
        seat_class: ClassChoice,
        destination: Station,
        passengers: list[tuple[str, str]],
    ) -> Held:
        desk: OnlineDesk | OfflineDesk = self.offline if train.is_from_block else self.online
        self._owners[sale_id] = desk
        return await desk.hold(sale_id, train, seat_class, destination, passengers)

    async def pay(self, sale_id: str, confirmed: bool) -> tuple[TicketLine, ...]:
        return await self._owners[sale_id].pay(sale_id, confirmed)

    async def print_tickets(self, sale_id: str) -> None:
        await self._owners.pop(sale_id).print_tickets(sale_id)

    async def cancel(self, sale_id: str, why: str) -> None:
        owner: OnlineDesk | OfflineDesk = self._owners.pop(sale_id, self.online)
        await owner.cancel(sale_id, why)

    async def scanned(self, text: str) -> Scanned:
        return await self.online.scanned(text)

    async def refund(self, sale_id: str, ticket: Scanned) -> int:
        return await self.online.refund(sale_id, ticket)

    def today(self) -> dt.date:
        return self.online.today()

    async def change_trains(self, ticket: Scanned, day: dt.date) -> list[TrainChoice]:
        return await self.online.change_trains(ticket, day)

    async def quote_change(
        self,
        sale_id: str,
        ticket: Scanned,
        train: TrainChoice,
        seat_class: ClassChoice,
        holder: tuple[str, str],
    ) -> Held:
        self._owners[sale_id] = self.online  # a change needs central: never from the block
        return await self.online.quote_change(sale_id, ticket, train, seat_class, holder)


def _station(stop: BlockStop) -> Station:
    return station(stop.code, stop.name, stop.pinyin, stop.initials)
