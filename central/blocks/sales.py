"""Offline sales from a block: what a TVM sold while central was away becomes a ticket.

Each uploaded sale is taken once by its ticket id (made by the TVM): a resend
of an issued sale answers ``duplicate``, of a refused one the same refusal.
A sale is issued when it is on a seat of the TVM's block, to a stop after
the block's station, its token verifies with one of the TVM's keys and says
what the sale says, and the real-name rule holds (one ID number, no
overlapping journeys). Then the seat's block sale is shortened to the ticket's
journey, so the rest of the seat goes back on sale, and the ticket is stored
as any sale's: an order paid as the TVM was paid (refund and change work on
it), the passenger's name, masked ID and keyed hashes, the TVM's token, a
feed event for the gates. After the block went back, a sale on one of its
seats is issued if the seat is still free for the journey, refused if it was
sold meanwhile. A refused sale was paid all the same: it is stored with its
reason, audited and recorded as an anomaly, for the operator to refund the
passenger by the recorded payment.
"""

from __future__ import annotations

import json
from dataclasses import fields
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from central.blocks import keys
from central.inventory.engine import Placement
from central.operating import audit
from central.sales import feed
from central.sales.context import SalesContext
from central.sales.holders import JourneyOverlap, check_holders
from central.sales.tickets import Holder, Sale, mask_id, ticket_row
from central.store import tables as t
from central.store.runs import LoadedRun, bump_version, write_seats
from protocol.ids import new_order_id
from protocol.keys import KeyRing
from protocol.token import TicketClaims, TokenError, decode_token
from protocol.tvm import BlockSale, BlockSalesUpload

CLAIMS_CHECKED = [f.name for f in fields(TicketClaims) if f.name not in ("not_before", "not_after")]


class Refused(Exception):
    """A sale central cannot issue; ``reason`` says why, for the TVM and the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def upload(
    conn: Connection, ctx: SalesContext, device_id: str, station: str, sales: BlockSalesUpload
) -> dict[str, Any]:
    """Issue or refuse each sale, in order; the ``BlockSalesAnswer``."""
    blocks = _device_blocks(conn, device_id, {sale.block_id for sale in sales.sales})
    for run_id in sorted({block.run_id for block in blocks.values()}):
        ctx.cache.for_write(conn, run_id)  # locked in one order: two uploads never deadlock
    ring = KeyRing(keys.device_keys(conn, device_id).values())
    offline = OfflineSeller(conn, ctx, device_id, station, blocks, ring)
    return {"results": [offline.take(sale) for sale in sales.sales]}


class OfflineSeller:
    """Takes one TVM's uploaded sales into the store, inside the writer's transaction."""

    def __init__(
        self,
        conn: Connection,
        ctx: SalesContext,
        device_id: str,
        station: str,
        blocks: dict[str, Any],
        ring: KeyRing,
    ) -> None:
        self.conn = conn
        self.ctx = ctx
        self.device_id = device_id
        self.station = station
        self.blocks = blocks
        self.ring = ring
        self.now = ctx.now()

    def take(self, sale: BlockSale) -> dict[str, Any]:
        """One sale's result: issued, duplicate (issued before) or refused (with the reason)."""
        seen = self.conn.execute(
            select(t.block_sales).where(t.block_sales.c.ticket_id == sale.ticket_id)
        ).first()
        if seen is not None and seen.device_id == self.device_id:
            status = "duplicate" if seen.status == "issued" else "refused"
            return {"ticket_id": sale.ticket_id, "status": status, "reason": seen.reason}
        try:
            if seen is not None or self._ticket_exists(sale.ticket_id):
                raise Refused(f"ticket id {sale.ticket_id} is another sale's")
            self._issue(sale)
        except Refused as refusal:
            self._refuse(sale, refusal.reason, recorded=seen is None)
            return {"ticket_id": sale.ticket_id, "status": "refused", "reason": refusal.reason}
        return {"ticket_id": sale.ticket_id, "status": "issued", "reason": None}

    # ----- issuing -------------------------------------------------------------

    def _issue(self, sale: BlockSale) -> None:
        """Check everything, then change the seat and store the ticket (or refuse)."""
        block = self.blocks.get(sale.block_id)
        if block is None:
            raise Refused(f"no block {sale.block_id} was leased to {self.device_id}")
        run = self.ctx.cache.for_write(self.conn, block.run_id)
        dest = self._destination(run, block, sale)
        seat = self._block_seat(run, block, sale, dest)
        self._check_token(run, block, sale)
        holder = self._holder(sale)
        try:
            departs, arrives = run.info.departs(block.board), run.info.arrives(dest)
            check_holders(self.conn, [holder.id_key], departs, arrives)
        except JourneyOverlap as clash:
            raise Refused(f"real-name rule: {clash.message}") from None
        placement = self._place(run, block, seat, dest)
        self._store(run, block, sale, placement, holder)

    def _destination(self, run: LoadedRun, block: Any, sale: BlockSale) -> int:
        codes = run.info.codes
        dest = codes.index(sale.to_station) if sale.to_station in codes else -1
        if dest <= block.board:
            raise Refused(
                f"{sale.to_station} is not a stop of train {run.info.spec.train} "
                f"after {block.station}"
            )
        return dest

    def _block_seat(self, run: LoadedRun, block: Any, sale: BlockSale, dest: int) -> Any:
        """The block's seat the sale names, if it can still be sold from the block."""
        seats = t.block_seats.c
        seat = self.conn.execute(
            select(t.block_seats).where(
                seats.block_id == block.block_id,
                seats.coach == sale.coach,
                seats.number == sale.seat,
            )
        ).first()
        where = f"seat {sale.coach}-{sale.seat}"
        if seat is None:
            raise Refused(f"{where} is not in block {block.block_id}")
        if seat.status == "sold":
            raise Refused(f"{where} was sold from the block already, as ticket {seat.ticket_id}")
        if seat.status == "returned" and not _is_free(run, seat.seat_no, block.board, dest):
            raise Refused(f"{where} went back to the train with the block and was sold since")
        return seat

    def _check_token(self, run: LoadedRun, block: Any, sale: BlockSale) -> None:
        """The token verifies with the TVM's key and claims what the sale says."""
        try:
            claims = decode_token(sale.token, self.ring)
        except TokenError as exc:
            reason = f"the ticket's token does not verify with the TVM's keys ({exc.reason})"
            raise Refused(reason) from None
        info = run.info
        expected = TicketClaims.for_passenger(
            ticket_id=sale.ticket_id,
            train=info.spec.train,
            service_date=info.spec.date,
            from_station=block.station,
            to_station=sale.to_station,
            seat_class=block.seat_class,
            coach=sale.coach,
            seat=sale.seat,
            name=sale.passenger_name,
            id_number=sale.id_number,
            not_before=claims.not_before,  # the window is the TVM's to set, as central's is
            not_after=claims.not_after,
            key_id=claims.key_id,
        )
        wrong = [
            name for name in CLAIMS_CHECKED if getattr(claims, name) != getattr(expected, name)
        ]
        if wrong:
            raise Refused(f"the ticket's token says another {', '.join(wrong)} than the sale")

    def _holder(self, sale: BlockSale) -> Holder:
        number, keyring = sale.id_number, self.ctx.keys
        return Holder(
            sale.passenger_name,
            mask_id(number),
            keyring.holder_key(number),
            number,
            keyring.holder_tag(number),
        )

    def _place(self, run: LoadedRun, block: Any, seat: Any, dest: int) -> Placement:
        """Shorten the seat's block sale to the journey (or, once returned, take the seat)."""
        inventory, last = run.inventory, len(run.info.codes) - 1
        if seat.status == "held":
            placement = inventory.replace_sale(
                seat.seat_no, (block.board, last), (block.board, dest)
            )
        else:
            placement = inventory.place_on(seat.seat_no, block.board, dest)
        bump_version(self.conn, run)
        write_seats(self.conn, run, [seat.seat_no])
        return placement

    def _store(
        self, run: LoadedRun, block: Any, sale: BlockSale, placement: Placement, holder: Holder
    ) -> None:
        """The order (paid), the issued ticket with the TVM's token, its feed event."""
        order_id = new_order_id()
        self._store_order(run, order_id, sale)
        times = (run.info.departs(placement.board), run.info.arrives(placement.dest), sale.sold_at)
        row = ticket_row(
            sale.ticket_id,
            run.run_id,
            placement,
            holder,
            Sale(order_id, "tvm", self.station),
            sale.price_fen,
            times,
        )
        row.update(status="issued", issued_at=sale.sold_at, token=sale.token)
        self.conn.execute(insert(t.tickets).values(row))
        feed.record_issued(self.conn, run, SimpleNamespace(**row), sale.token, self.now)
        seats = t.block_seats.c
        self.conn.execute(
            update(t.block_seats)
            .where(seats.block_id == block.block_id, seats.seat_no == placement.seat)
            .values(status="sold", ticket_id=sale.ticket_id)
        )
        self._record(sale, "issued", None)

    def _store_order(self, run: LoadedRun, order_id: str, sale: BlockSale) -> None:
        payment = sale.payment
        self.conn.execute(
            insert(t.orders).values(
                order_id=order_id,
                run_id=run.run_id,
                status="issued",
                channel="tvm",
                station=self.station,
                created_at=sale.sold_at,
                expires_at=sale.sold_at,
                total_fen=sale.price_fen,
                payment_method=payment.method,
                payment_reference=payment.reference,
                acquirer=payment.acquirer,
                card_masked=payment.card_masked,
                paid_at=sale.sold_at,
            )
        )

    # ----- refusing --------------------------------------------------------------

    def _refuse(self, sale: BlockSale, reason: str, recorded: bool) -> None:
        """Keep the refusal (once) for a resend, and tell the operator: money was taken."""
        if recorded:
            self._record(sale, "refused", reason)
        block = self.blocks.get(sale.block_id)
        detail = _refusal_detail(sale)
        audit.record(
            self.conn,
            at=self.now,
            actor=self.device_id,
            action="block_sale.refused",
            run_id=None if block is None else block.run_id,
            reason=reason,
            detail=detail,
        )
        self.conn.execute(
            insert(t.anomalies).values(
                at=self.now,
                station=self.station,
                device_id=self.device_id,
                ticket_id=sale.ticket_id,
                kind="block_sale_refused",
                detail=_json({**detail, "reason": reason}),
            )
        )

    def _record(self, sale: BlockSale, status: str, reason: str | None) -> None:
        self.conn.execute(
            insert(t.block_sales).values(
                ticket_id=sale.ticket_id,
                device_id=self.device_id,
                block_id=sale.block_id,
                status=status,
                reason=reason,
                received_at=self.now,
            )
        )

    def _ticket_exists(self, ticket_id: str) -> bool:
        found = select(t.tickets.c.seq).where(t.tickets.c.ticket_id == ticket_id)
        return self.conn.execute(found).first() is not None


def _device_blocks(conn: Connection, device_id: str, block_ids: set[str]) -> dict[str, Any]:
    """The device's blocks among ``block_ids``, by id (another unit's are not its)."""
    blocks = t.seat_blocks.c
    rows = conn.execute(
        select(t.seat_blocks).where(blocks.block_id.in_(block_ids), blocks.device_id == device_id)
    )
    return {row.block_id: row for row in rows}


def _is_free(run: LoadedRun, seat: int, a: int, b: int) -> bool:
    return not run.inventory.states[seat].taken & run.inventory.geo.journey_mask(a, b)


def _refusal_detail(sale: BlockSale) -> dict[str, Any]:
    """What the operator needs to refund the passenger (never the full ID number)."""
    payment = sale.payment
    return {
        "ticket_id": sale.ticket_id,
        "block_id": sale.block_id,
        "coach": sale.coach,
        "seat": sale.seat,
        "to": sale.to_station,
        "passenger": sale.passenger_name,
        "id_masked": mask_id(sale.id_number),
        "price_fen": sale.price_fen,
        "sold_at": sale.sold_at.isoformat(),
        "payment": payment.model_dump(mode="json"),
    }


def _json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)
