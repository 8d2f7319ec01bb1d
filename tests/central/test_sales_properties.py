"""Property test of selling through the API: the store always agrees with the sales.

Random holds, payments, cancellations, refunds, changes and expiries run
against the real app on SQLite. After every step:

- each seat row equals a replay of that seat's live tickets in sale order
  (sold and withheld segments, splits), and so does the server's inventory;
- no segment of a seat is held by two live tickets;
- standing places sold per segment equal the live standing tickets;
- an inventory loaded afresh from the store counts every OD pair, class and
  seller exactly as the serving process does (the engine's own counts are
  checked against brute force in test_inventory_properties).
"""

from __future__ import annotations

import tempfile
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from central.api.app import create_app
from central.api.service import CentralService
from central.inventory import SeatState
from central.sales import orders
from central.settings import CentralSettings
from central.store import tables as t
from central.store.runs import load_run, read_journeys
from central.writer.thread import WriterThread

TOKEN = "property-operator"
STATIONS = ["PAA", "PBB", "PCC", "PDD", "PEE", "PFF"]
SELLERS = [None, "PAA", "PCC"]
DAY = date(2027, 3, 1)
JOURNEYS = st.integers(0, 4).flatmap(lambda a: st.tuples(st.just(a), st.integers(a + 1, 5)))


def timetable(reuse: dict[str, Any], standing: int) -> dict[str, Any]:
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    stops = []
    for n, code in enumerate(STATIONS):
        stop: dict[str, Any] = {"station": code, "name": code, "km": 50 * n}
        if n:
            stop["arrive"] = (start + timedelta(minutes=40 * n)).isoformat()
        if n < len(STATIONS) - 1:
            stop["depart"] = (start + timedelta(minutes=40 * n + 2)).isoformat()
        stops.append(stop)
    return {
        "train": "P1",
        "date": DAY.isoformat(),
        "stops": stops,
        "coaches": [
            {"coach": 1, "class": "ZE", "seats": 5},
            {"coach": 2, "class": "ZY", "seats": 2},
        ],
        "standing": {"ZE": standing},
        "fares": {"ZE": 40, "ZY": 60},
        "reuse": reuse,
        "quotas": [
            {
                "quota": "pcc",
                "class": "ZE",
                "seats": 2,
                "purpose": "station",
                "station": "PCC",
                "share": {"mode": "stations", "stations": ["PAA"]},
            }
        ],
        "preallocation": {"share_percent": 0},
    }


def journey(od: tuple[int, int], seat_class: str) -> dict[str, Any]:
    """Train, date, stations and class of a journey, as request bodies name them."""
    return {
        "train": "P1",
        "date": DAY.isoformat(),
        "from": STATIONS[od[0]],
        "to": STATIONS[od[1]],
        "class": seat_class,
    }


class SalesMachine(RuleBasedStateMachine):
    """The selling API under random use, checked against the store after each step."""

    @initialize(
        enabled=st.booleans(),
        max_splits=st.sampled_from([None, 1]),
        no_reuse=st.sampled_from([[], ["PAA"], ["PDD"]]),
        standing=st.integers(0, 2),
    )
    def start(
        self, enabled: bool, max_splits: int | None, no_reuse: list[str], standing: int
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="sk-prop-"))
        self.now = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
        config = CentralSettings(
            database_url=f"sqlite:///{self.workdir / 'c.db'}",
            keys_dir=str(self.workdir / "k"),
            operator_token=TOKEN,
            housekeeping_seconds=3600,
        )
        self.client = TestClient(create_app(config, lambda: self.now))
        self.client.__enter__()
        reuse = {"enabled": enabled, "no_reuse_stations": no_reuse, "max_splits": max_splits}
        assert self.post("/v1/train-runs", timetable(reuse, standing)).status_code == 201
        self.held: list[dict[str, Any]] = []
        self.issued: list[str] = []
        self.people = 0

    def teardown(self) -> None:
        if hasattr(self, "client"):
            self.client.__exit__(None, None, None)

    def post(self, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
        return self.client.post(path, json=body, headers=headers)

    @property
    def service(self) -> CentralService:
        return self.client.app.state.service  # type: ignore[attr-defined,no-any-return]

    @rule(
        od=JOURNEYS,
        seat_class=st.sampled_from(["ZE", "ZY"]),
        count=st.integers(1, 2),
        seller=st.sampled_from(SELLERS),
    )
    def hold(self, od: tuple[int, int], seat_class: str, count: int, seller: str | None) -> None:
        passengers = []
        for _ in range(count):
            self.people += 1
            passengers.append({"name": f"P{self.people}", "id_number": f"ID{self.people:08d}"})
        body = {
            **journey(od, seat_class),
            "passengers": passengers,
            "channel": "internet" if seller is None else "window",
            "station": seller,
        }
        response = self.post("/v1/orders", body)
        assert response.status_code in (201, 409), response.text
        if response.status_code == 201:
            self.held.append(response.json())

    @precondition(lambda self: bool(self.held))
    @rule(pick=st.integers(0, 99))
    def pay(self, pick: int) -> None:
        order = self.held.pop(pick % len(self.held))
        body = {"method": "cash", "amount_fen": order["total_fen"], "reference": "R"}
        response = self.post(f"/v1/orders/{order['order_id']}/pay", body)
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            self.issued += [ticket["ticket_id"] for ticket in response.json()["tickets"]]

    @precondition(lambda self: bool(self.held))
    @rule(pick=st.integers(0, 99))
    def cancel(self, pick: int) -> None:
        order = self.held.pop(pick % len(self.held))
        assert self.post(f"/v1/orders/{order['order_id']}/cancel").status_code in (200, 409)

    @precondition(lambda self: bool(self.issued))
    @rule(pick=st.integers(0, 99))
    def refund(self, pick: int) -> None:
        ticket = self.issued.pop(pick % len(self.issued))
        assert self.post(f"/v1/tickets/{ticket}/refund").status_code == 200

    @precondition(lambda self: bool(self.issued))
    @rule(
        pick=st.integers(0, 99),
        od=JOURNEYS,
        seat_class=st.sampled_from(["ZE", "ZY"]),
    )
    def change(self, pick: int, od: tuple[int, int], seat_class: str) -> None:
        index = pick % len(self.issued)
        ticket = self.issued[index]
        with self.service.engine.connect() as conn:
            name = conn.execute(
                select(t.tickets.c.passenger_name).where(t.tickets.c.ticket_id == ticket)
            ).scalar_one()
        body = {**journey(od, seat_class), "id_number": f"ID{int(name[1:]):08d}"}
        response = self.post(f"/v1/tickets/{ticket}/change", body)
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            self.issued[index] = response.json()["ticket"]["ticket_id"]

    @rule()
    def time_passes(self) -> None:
        """Holds run out: the housekeeping expiry gives their seats back."""
        self.now += timedelta(minutes=11)
        writer = self.service.writer
        assert isinstance(writer, WriterThread)
        writer.call(lambda conn: orders.expire_due(conn, self.service.ctx))
        self.held.clear()

    @invariant()
    def store_agrees_with_sales(self) -> None:
        svc = self.service
        with svc.engine.connect() as conn:
            fresh = load_run(conn, 1)
            tickets = conn.execute(
                select(t.tickets)
                .where(t.tickets.c.status.in_(("held", "issued")))
                .order_by(t.tickets.c.seq)
            ).all()
            rows = {r.seat_no: r for r in conn.execute(select(t.seats))}
        served = svc.ctx.cache.cached(1)
        assert served is not None
        sales: dict[int, list[tuple[int, int]]] = defaultdict(list)
        standing: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
        for ticket in tickets:
            if ticket.seat_no is None:
                for segment in range(ticket.board, ticket.dest):
                    standing[ticket.seat_class][segment] += 1
            else:
                sales[ticket.seat_no].append((ticket.board, ticket.dest))
        for seat_no, row in rows.items():
            expected = SeatState.replay(fresh.inventory.geo, fresh.inventory.reuse, sales[seat_no])
            stored = SeatState(row.sold, row.blocked, row.splits, read_journeys(row.journeys))
            assert stored == expected == served.inventory.states[seat_no], seat_no
        for seat_class, sold in fresh.inventory.standing_sold.items():
            assert sold == standing[seat_class] == served.inventory.standing_sold[seat_class]
        for seat_class in ("ZE", "ZY"):
            for seller in SELLERS:
                assert fresh.inventory.od_matrix(seat_class, seller) == (
                    served.inventory.od_matrix(seat_class, seller)
                )


SalesMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSalesThroughTheApi = SalesMachine.TestCase
