"""Every query central answers, on a read-only connection of its own.

Each method opens a read transaction (SQLite ``BEGIN`` deferred, never
``BEGIN IMMEDIATE``; PostgreSQL's MVCC snapshot), reads, and answers JSON
values. They block on the store, so the HTTP side calls them from a worker
thread, never on its event loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from central.gates import feed as gate_feed
from central.gates import passages
from central.operating import audit, devices
from central.operating.adjustments import quota_summary
from central.operating.stats import sales_stats
from central.reads.runs import RunReader
from central.reads.tvm import TvmReads
from central.sales.aftersales import find_ticket, issued_ticket
from central.sales.context import SalesContext
from central.sales.orders import find_order, order_tickets, order_view
from central.sales.tickets import ticket_json
from central.store import tables as t
from protocol.messages import AvailabilityClass, AvailabilityResponse, ChangeQuote, RefundQuote
from protocol.units import AnomalyView, DeviceView, FeedPage, UnitProfile


class Reads:
    """Central's queries: the read path beside the writer."""

    def __init__(self, engine: Engine, ctx: SalesContext) -> None:
        self.engine = engine
        self.ctx = ctx
        self.runs = RunReader()
        self.tvm = TvmReads(engine, ctx, self.runs)  # destinations, journeys, a TVM's blocks

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(read_only=True) as conn, conn.begin():
            yield conn

    def availability(
        self, train: str, day: date, from_station: str, to_station: str, station: str | None
    ) -> dict[str, Any]:
        """Seats and standing places sellable now per class, with the fare."""
        with self._reading() as conn:
            run_id = self.runs.run_id(conn, train, day)
            with self.runs.inventory(conn, run_id) as run:
                a, b = run.info.journey(from_station, to_station)
                departed = self.ctx.now() >= run.info.departs(a)
                classes = []
                for seat_class in run.info.seat_classes():
                    left = run.inventory.availability(seat_class, a, b, station)
                    classes.append(
                        AvailabilityClass(
                            seat_class=seat_class,
                            seats=0 if departed else left.seats,
                            standing=0 if departed else left.standing,
                            price_fen=run.info.price_fen(seat_class, a, b),
                        )
                    )
        answer = AvailabilityResponse(
            train=train, date=day, from_station=from_station, to_station=to_station, classes=classes
        )
        return answer.model_dump(mode="json", by_alias=True)

    def od_matrix(self, train: str, day: date, station: str | None) -> dict[str, Any]:
        """Seats sellable for every OD pair and class: ``classes[c][a][b]``."""
        with self._reading() as conn:
            run_id = self.runs.run_id(conn, train, day)
            with self.runs.inventory(conn, run_id) as run:
                classes = run.info.seat_classes()
                matrix = {str(c): run.inventory.od_matrix(c, station) for c in classes}
                return {"stops": run.info.codes, "classes": matrix}

    def quotas(self, train: str, day: date) -> dict[str, Any]:
        """The run's quotas with purpose, station, sharing and seats."""
        with self._reading() as conn:
            run_id = self.runs.run_id(conn, train, day)
            with self.runs.inventory(conn, run_id) as run:
                return {"quotas": quota_summary(run)}

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        """One ticket and its status."""
        with self._reading() as conn:
            row = find_ticket(conn, ticket_id)
            return _with_dates(ticket_json(self.runs.info(conn, row.run_id), row))

    def refund_quote(self, ticket_id: str) -> dict[str, Any]:
        """What refunding an issued ticket would keep and pay back now."""
        with self._reading() as conn:
            ticket = issued_ticket(conn, ticket_id)
            order = find_order(conn, ticket.order_id)
        fee = self.ctx.refunds.fee_fen(ticket.price_fen, ticket.departs_at, self.ctx.now())
        quote = {
            "ticket_id": ticket_id,
            "price_fen": ticket.price_fen,
            "fee_fen": fee,
            "refund_fen": ticket.price_fen - fee,
            "method": order.payment_method,
            "acquirer": order.acquirer,
        }
        return RefundQuote.model_validate(quote).model_dump(mode="json")

    def change_quote(
        self, ticket_id: str, train: str, day: date, from_code: str, to_code: str, seat_class: str
    ) -> dict[str, Any]:
        """What changing an issued ticket to that journey would cost now (fee as central's)."""
        with self._reading() as conn:
            ticket = issued_ticket(conn, ticket_id)
            info = self.runs.info(conn, self.runs.run_id(conn, train, day))
        a, b = info.journey(from_code, to_code)
        new_price = info.price_fen(seat_class, a, b)
        difference = new_price - ticket.price_fen
        now = self.ctx.now()
        fee = self.ctx.refunds.fee_fen(-difference, ticket.departs_at, now) if difference < 0 else 0
        quote = {
            "ticket_id": ticket_id,
            "old_price_fen": ticket.price_fen,
            "new_price_fen": new_price,
            "price_difference_fen": difference,
            "fee_fen": fee,
        }
        return ChangeQuote.model_validate(quote).model_dump(mode="json")

    def order(self, order_id: str) -> dict[str, Any]:
        """An order with its tickets (tokens once issued)."""
        with self._reading() as conn:
            order = find_order(conn, order_id)
            info = self.runs.info(conn, order.run_id)
            view = order_view(order, order_tickets(conn, order_id), info)
            return view.model_dump(mode="json", by_alias=True)

    def train_runs(self, day: date | None) -> dict[str, Any]:
        """Loaded runs, optionally of one service date, by departure."""
        runs = t.train_runs.c
        query = select(runs.run_id, runs.train, runs.service_date, runs.departs_at)
        if day is not None:
            query = query.where(runs.service_date == day.isoformat())
        with self._reading() as conn:
            rows = conn.execute(query.order_by(runs.departs_at)).all()
        return {"runs": [_run_json(row) for row in rows]}

    def audit(self, limit: int) -> list[dict[str, Any]]:
        """The newest audited actions first."""
        with self._reading() as conn:
            return [record.model_dump(mode="json") for record in audit.recent(conn, limit)]

    def sales_stats(
        self, date_from: date | None, date_to: date | None, train: str | None
    ) -> dict[str, Any]:
        """Sales by hour, station, channel and OD pair."""
        with self._reading() as conn:
            return sales_stats(conn, date_from, date_to, train).model_dump(mode="json")

    def station_feed(self, station: str, cursor: int, limit: int) -> dict[str, Any]:
        """A page of the station's gate feed after ``cursor``."""
        with self._reading() as conn:
            page = gate_feed.feed_page(conn, self.ctx, station, cursor, limit)
        return FeedPage.model_validate(page).model_dump(mode="json", by_alias=True)

    def anomalies(self, station: str | None, day: date) -> list[dict[str, Any]]:
        """Anomalies of one report day (in the report time zone), of a station or all."""
        start = datetime.combine(day, time(), self.ctx.settings.zone())
        with self._reading() as conn:
            found = passages.anomalies(conn, station, start, start + timedelta(days=1))
        return [AnomalyView.model_validate(a).model_dump(mode="json") for a in found]

    def devices(self) -> list[dict[str, Any]]:
        """Every registered device and channel."""
        with self._reading() as conn:
            found = devices.list_devices(conn)
        return [DeviceView.model_validate(d).model_dump(mode="json") for d in found]

    def unit(self, device_id: str) -> dict[str, Any]:
        """A unit's profile as central knows it, with central's time."""
        with self._reading() as conn:
            row = conn.execute(select(t.devices).where(t.devices.c.device_id == device_id)).one()
        profile = devices.unit_profile(row, self.ctx.now())
        return UnitProfile.model_validate(profile).model_dump(mode="json")

    def keys(self) -> dict[str, Any]:
        """Every public key that signs tickets."""
        return self.ctx.keys.key_ring().to_json_dict()


def _with_dates(ticket: dict[str, Any]) -> dict[str, Any]:
    return {**ticket, "date": ticket["date"].isoformat()}


def _run_json(row: Any) -> dict[str, Any]:
    return {
        "run_id": row.run_id,
        "train": row.train,
        "date": row.service_date,
        "departs_at": row.departs_at.isoformat(),
    }
