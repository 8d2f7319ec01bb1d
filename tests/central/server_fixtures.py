"""Helpers for the multi-process central tests (concurrent sellers, crash recovery).

Central runs here as it does in production: ``stationkit central serve`` processes
(``stationkit.processes.CentralProcess``) reached over HTTP only, on a SQLite file or
on a database of their own on the local PostgreSQL. The store is then read directly
with SQLAlchemy and checked against a brute-force model: live tickets never share a
segment of a seat, the seat rows' ``sold`` masks are the OR of their live tickets,
changed tickets point at their replacement, and counts per OD pair come from the
tickets alone.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from central.store import tables as t
from stationkit.processes import CentralProcess, free_port

OPERATOR_TOKEN = "multiprocess-test-operator-token"
PG_ADMIN_URL = os.environ.get(
    "STATIONKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SEAT_CLASS = "ZE"
FARE_FEN_PER_KM = 46
LIVE_STATUSES = ("held", "issued")
# the ticket statuses an order of each status may hold: an issued order keeps its
# refunded tickets and its changed ones (each replaced by a ticket of the same order)
ORDER_TICKET_STATUSES = {
    "held": {"held"},
    "issued": {"issued", "refunded", "changed"},
    "cancelled": {"cancelled"},
    "expired": {"expired"},
}
BEIJING = timezone(timedelta(hours=8))

# Both stores; the PostgreSQL case skips (with the reason) when no server answers.
STORE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


# ----------------------------------------------------------------- stores


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the local PostgreSQL, dropped afterwards."""
    name = f"stationkit_mp_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OperationalError, ImportError) as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def store_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh store of ``kind`` (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
    elif kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(f"unknown store kind {kind!r}")


# ----------------------------------------------------------------- servers


@contextmanager
def central_servers(
    db_url: str, workdir: Path, count: int, writer_process: bool = False
) -> Iterator[list[CentralProcess]]:
    """``count`` central processes on one store, stopped (or killed) afterwards.

    They share ``workdir`` and so the key directory (``var/keys``): every process
    signs with the same keys and hashes ID numbers with the same secret, as a
    production deployment must. They start one after the other, so the first
    creates the keys and the schema and the others find them. With
    ``writer_process`` each is a split server: HTTP process and writer process.
    """
    servers: list[CentralProcess] = []
    try:
        for _ in range(count):
            server = CentralProcess(
                db_url, free_port(), workdir, OPERATOR_TOKEN, writer_process=writer_process
            )
            servers.append(server.start())
        yield servers
    finally:
        for server in servers:
            server.stop()


def server_log(server: CentralProcess) -> str:
    """The tail of a server's log, for failure messages."""
    path = server.workdir / f"central-{server.port}.log"
    if not path.exists():
        return "(no log)"
    return path.read_text(errors="replace")[-3000:]


class ApiClient:
    """An HTTP client for one server: operator token on every call, explicit keys."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
            timeout=timeout,
        )

    def post(self, path: str, body: dict[str, Any] | None, key: str) -> httpx.Response:
        """A mutating call with its Idempotency-Key."""
        return self.http.post(path, json=body, headers={"Idempotency-Key": key})

    def get(self, path: str, params: dict[str, str]) -> httpx.Response:
        """A read."""
        return self.http.get(path, params=params)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return uuid.uuid4().hex


# ----------------------------------------------------------------- the train


@dataclass(frozen=True)
class Train:
    """The small train the storm sells: its timetable body and its stations."""

    spec: dict[str, Any]

    @property
    def number(self) -> str:
        return str(self.spec["train"])

    @property
    def day(self) -> str:
        return str(self.spec["date"])

    @property
    def stations(self) -> list[str]:
        return [str(stop["station"]) for stop in self.spec["stops"]]

    @property
    def segments(self) -> int:
        return len(self.stations) - 1

    @property
    def seat_count(self) -> int:
        return sum(int(coach["seats"]) for coach in self.spec["coaches"])

    def ods(self) -> list[tuple[int, int]]:
        """Every journey (board stop, alighting stop)."""
        stops = len(self.stations)
        return [(a, b) for a in range(stops) for b in range(a + 1, stops)]

    def order_body(self, a: int, b: int, passengers: list[tuple[str, str]]) -> dict[str, Any]:
        """``POST /v1/orders`` body for journey (a, b); passengers as (name, id number)."""
        return {
            **self.journey(a, b),
            "passengers": [{"name": name, "id_number": number} for name, number in passengers],
            "channel": "internet",
        }

    def change_body(self, a: int, b: int, id_number: str) -> dict[str, Any]:
        """``POST /v1/tickets/{id}/change`` body: to journey (a, b), the holder's ID number."""
        return {**self.journey(a, b), "id_number": id_number}

    def journey(self, a: int, b: int) -> dict[str, Any]:
        """Train, date, stations and class of journey (a, b), as request bodies name them."""
        return {
            "train": self.number,
            "date": self.day,
            "from": self.stations[a],
            "to": self.stations[b],
            "class": SEAT_CLASS,
        }


def service_day(days_ahead: int = 60) -> date:
    """A service date well ahead: sales are open, no scheduled pre-allocation is due."""
    return datetime.now(BEIJING).date() + timedelta(days=days_ahead)


def small_train(number: str, day: date, stops: int = 5, seats: int = 30, coaches: int = 2) -> Train:
    """A one-class train: ``seats`` ZE seats over ``coaches`` coaches, no standing, no quotas.

    Reuse is unlimited (the default), so a seat's ``blocked`` mask stays 0 and a
    seat is free for a journey exactly when no live ticket covers its segments;
    pre-allocation is switched off so every seat stays in the common quota.
    """
    codes = [f"Q{chr(ord('A') + n // 26)}{chr(ord('A') + n % 26)}" for n in range(stops)]
    start = datetime.combine(day, datetime.min.time(), BEIJING) + timedelta(hours=8)
    stop_specs: list[dict[str, Any]] = []
    for n, code in enumerate(codes):
        stop: dict[str, Any] = {"station": code, "name": f"Station {code}", "km": 60 * n}
        if n > 0:
            stop["arrive"] = (start + timedelta(minutes=30 * n)).isoformat()
        if n < stops - 1:
            stop["depart"] = (start + timedelta(minutes=30 * n + (2 if n else 0))).isoformat()
        stop_specs.append(stop)
    per_coach, extra = divmod(seats, coaches)
    coach_specs = [
        {"coach": n + 1, "class": SEAT_CLASS, "seats": per_coach + (1 if n < extra else 0)}
        for n in range(coaches)
    ]
    spec = {
        "train": number,
        "date": day.isoformat(),
        "stops": stop_specs,
        "coaches": coach_specs,
        "standing": {SEAT_CLASS: 0},
        "standing_policy": "never",
        "fares": {SEAT_CLASS: FARE_FEN_PER_KM},
        "preallocation": {"share_percent": 0},
    }
    return Train(spec)


def load_train(server: CentralProcess, train: Train) -> None:
    """Load the train run through the operator API."""
    with ApiClient(server.url) as client:
        response = client.post("/v1/train-runs", train.spec, new_key())
    assert response.status_code == 201, response.text


def seats_available(client: ApiClient, train: Train, a: int, b: int) -> int:
    """Seats of the class a server says it can sell for journey (a, b)."""
    response = client.get(
        "/v1/availability",
        {
            "train": train.number,
            "date": train.day,
            "from": train.stations[a],
            "to": train.stations[b],
        },
    )
    assert response.status_code == 200, response.text
    classes = response.json()["classes"]
    return next(int(c["seats"]) for c in classes if c["class"] == SEAT_CLASS)


# ----------------------------------------------------------------- the store


@dataclass(frozen=True)
class SeatRow:
    """One row of ``seats``."""

    seat_no: int
    coach: int
    number: int
    sold: int
    blocked: int
    quota_id: str = ""


@dataclass(frozen=True)
class TicketRow:
    """The columns of ``tickets`` these tests look at."""

    ticket_id: str
    order_id: str
    seat_no: int | None
    coach: int | None
    number: int | None
    board: int
    dest: int
    status: str
    passenger_name: str
    price_fen: int
    fee_fen: int | None
    refund_fen: int | None
    replaced_by: str | None = None  # the new ticket of a change

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True)
class OrderRow:
    """The columns of ``orders`` these tests look at."""

    order_id: str
    status: str
    total_fen: int


@dataclass
class StoreState:
    """One train run as the store holds it, read in one transaction."""

    run_id: int
    segments: int
    seats: dict[int, SeatRow]
    tickets: dict[str, TicketRow]
    orders: dict[str, OrderRow]
    by_passenger: dict[str, list[TicketRow]] = field(default_factory=dict)
    quotas: frozenset[str] = frozenset()  # the run's quota ids

    def replacements(self) -> set[str]:
        """Tickets a change issued: those another ticket's ``replaced_by`` names."""
        return {tk.replaced_by for tk in self.tickets.values() if tk.replaced_by is not None}

    def quota_seats(self, quota_id: str) -> set[int]:
        """The seats a quota holds."""
        return {seat.seat_no for seat in self.seats.values() if seat.quota_id == quota_id}

    def live(self) -> list[TicketRow]:
        """Tickets holding a place (held or issued)."""
        return [ticket for ticket in self.tickets.values() if ticket.is_live]

    def live_masks(self) -> dict[int, int]:
        """OR of the live tickets' segment masks, per seat."""
        masks: dict[int, int] = defaultdict(int)
        for ticket in self.live():
            if ticket.seat_no is not None:
                masks[ticket.seat_no] |= segment_mask(ticket.board, ticket.dest)
        return masks

    def free_seats(self, a: int, b: int) -> int:
        """Brute force: seats no live ticket occupies on any segment of journey (a, b)."""
        masks = self.live_masks()
        journey = segment_mask(a, b)
        return sum(1 for seat_no in self.seats if not masks.get(seat_no, 0) & journey)


def segment_mask(board: int, dest: int) -> int:
    """Bitmask of the segments [board, dest) a journey occupies."""
    return ((1 << (dest - board)) - 1) << board


def read_store(db_url: str, train: Train) -> StoreState:
    """Read the train run's seats, tickets and orders straight from the store."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            run_id = conn.execute(
                select(t.train_runs.c.run_id).where(
                    t.train_runs.c.train == train.number,
                    t.train_runs.c.service_date == train.day,
                )
            ).scalar_one()
            seats = {
                int(r.seat_no): SeatRow(
                    int(r.seat_no),
                    int(r.coach),
                    int(r.number),
                    int(r.sold),
                    int(r.blocked),
                    str(r.quota_id),
                )
                for r in conn.execute(select(t.seats).where(t.seats.c.run_id == run_id))
            }
            quotas = frozenset(
                str(quota_id)
                for quota_id in conn.execute(
                    select(t.quotas.c.quota_id).where(t.quotas.c.run_id == run_id)
                ).scalars()
            )
            tickets = {
                str(r.ticket_id): TicketRow(
                    ticket_id=str(r.ticket_id),
                    order_id=str(r.order_id),
                    seat_no=r.seat_no,
                    coach=r.coach,
                    number=r.number,
                    board=int(r.board),
                    dest=int(r.dest),
                    status=str(r.status),
                    passenger_name=str(r.passenger_name),
                    price_fen=int(r.price_fen),
                    fee_fen=r.fee_fen,
                    refund_fen=r.refund_fen,
                    replaced_by=r.replaced_by,
                )
                for r in conn.execute(select(t.tickets).where(t.tickets.c.run_id == run_id))
            }
            orders = {
                str(r.order_id): OrderRow(str(r.order_id), str(r.status), int(r.total_fen))
                for r in conn.execute(select(t.orders).where(t.orders.c.run_id == run_id))
            }
    finally:
        engine.dispose()
    by_passenger: dict[str, list[TicketRow]] = defaultdict(list)
    for ticket in tickets.values():
        by_passenger[ticket.passenger_name].append(ticket)
    return StoreState(run_id, train.segments, seats, tickets, orders, dict(by_passenger), quotas)


def store_problems(state: StoreState) -> list[str]:
    """Everything inconsistent in a run's stored inventory (empty when consistent).

    - no segment of a seat is held by two live tickets;
    - a live ticket names the coach and number of its seat;
    - every seat row's ``sold`` mask is the OR of its live tickets' segments, and
      nothing is ``blocked`` (reuse is unlimited on the test trains);
    - every seat belongs to a quota of the run;
    - an order's status agrees with its tickets' and its total is the price of the
      tickets it was held with (not of the replacements changes issued);
    - a changed ticket names its replacement, a ticket of the same order and the
      same passenger, and no ticket is the replacement of two.
    """
    problems: list[str] = []
    taken: dict[int, int] = defaultdict(int)
    holder: dict[tuple[int, int], str] = {}
    for ticket in sorted(state.live(), key=lambda tk: tk.ticket_id):
        if ticket.seat_no is None:
            problems.append(f"ticket {ticket.ticket_id} is standing on a train without standing")
            continue
        seat = state.seats.get(ticket.seat_no)
        if seat is None or (seat.coach, seat.number) != (ticket.coach, ticket.number):
            problems.append(f"ticket {ticket.ticket_id} names another seat than {seat}")
        for segment in range(ticket.board, ticket.dest):
            first = holder.setdefault((ticket.seat_no, segment), ticket.ticket_id)
            if first != ticket.ticket_id:
                problems.append(
                    f"seat {ticket.seat_no} segment {segment} sold twice: "
                    f"tickets {first} and {ticket.ticket_id}"
                )
        taken[ticket.seat_no] |= segment_mask(ticket.board, ticket.dest)
    for seat in state.seats.values():
        if seat.sold != taken.get(seat.seat_no, 0):
            problems.append(
                f"seat {seat.seat_no}: sold mask {seat.sold:b} but live tickets cover "
                f"{taken.get(seat.seat_no, 0):b}"
            )
        if seat.blocked:
            problems.append(f"seat {seat.seat_no}: blocked mask {seat.blocked:b} under full reuse")
        if seat.quota_id not in state.quotas:
            problems.append(f"seat {seat.seat_no} is in quota {seat.quota_id!r}, not in the run")
    problems += _order_problems(state)
    problems += _change_problems(state)
    return problems


def _order_problems(state: StoreState) -> list[str]:
    problems: list[str] = []
    tickets_of: dict[str, list[TicketRow]] = defaultdict(list)
    for ticket in state.tickets.values():
        tickets_of[ticket.order_id].append(ticket)
    replacements = state.replacements()
    for order in state.orders.values():
        tickets = tickets_of.get(order.order_id, [])
        if not tickets:
            problems.append(f"order {order.order_id} has no tickets")
        statuses = {ticket.status for ticket in tickets}
        if not statuses <= ORDER_TICKET_STATUSES.get(order.status, set()):
            problems.append(f"order {order.order_id} is {order.status}; tickets are {statuses}")
        held_with = [ticket for ticket in tickets if ticket.ticket_id not in replacements]
        if order.total_fen != sum(ticket.price_fen for ticket in held_with):
            problems.append(
                f"order {order.order_id}: total {order.total_fen} differs from the prices "
                f"of the tickets it was held with {[tk.price_fen for tk in held_with]}"
            )
    return problems


def _change_problems(state: StoreState) -> list[str]:
    problems: list[str] = []
    replaced: dict[str, str] = {}
    for ticket in sorted(state.tickets.values(), key=lambda tk: tk.ticket_id):
        new_id = ticket.replaced_by
        if ticket.status != "changed":
            if new_id is not None:
                problems.append(
                    f"{ticket.status} ticket {ticket.ticket_id} is replaced by {new_id}"
                )
            continue
        new = state.tickets.get(new_id) if new_id is not None else None
        if new is None:
            problems.append(f"changed ticket {ticket.ticket_id}: no replacement ({new_id})")
            continue
        if (new.order_id, new.passenger_name) != (ticket.order_id, ticket.passenger_name):
            problems.append(f"changed ticket {ticket.ticket_id} replaced by another's: {new}")
        if new.status not in ORDER_TICKET_STATUSES["issued"]:
            problems.append(f"ticket {new.ticket_id} replacing {ticket.ticket_id} is {new.status}")
        first = replaced.setdefault(new.ticket_id, ticket.ticket_id)
        if first != ticket.ticket_id:
            problems.append(f"ticket {new.ticket_id} replaces both {first} and {ticket.ticket_id}")
    return problems


def assert_store_consistent(state: StoreState) -> None:
    """Fail with every problem :func:`store_problems` finds (the first 30)."""
    problems = store_problems(state)
    assert not problems, f"{len(problems)} store problems:\n" + "\n".join(problems[:30])


def assert_availability_exact(
    clients: list[ApiClient], train: Train, state: StoreState
) -> dict[tuple[int, int], int]:
    """Every server's availability for every OD equals the brute-force count; returns it."""
    expected = {(a, b): state.free_seats(a, b) for a, b in train.ods()}
    wrong = [
        f"{client.base_url} {train.stations[a]}-{train.stations[b]}: "
        f"says {said}, the store has {expected[(a, b)]}"
        for client in clients
        for a, b in train.ods()
        if (said := seats_available(client, train, a, b)) != expected[(a, b)]
    ]
    assert not wrong, "availability differs from the store:\n" + "\n".join(wrong[:30])
    return expected
