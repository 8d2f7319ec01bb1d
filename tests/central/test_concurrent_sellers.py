"""Several central processes on one store sell the same train at once and never oversell.

Three ``stationkit central serve`` processes share one store (a SQLite file, or a
database of its own on the local PostgreSQL) and sell one small train to client
threads that each pick a server and a journey at random, until every journey has
been answered ``sold_out``. The store is then read directly and checked against
what the clients were told:

- no segment of any seat is held by two live tickets, and the seat rows' ``sold``
  masks are the OR of their live tickets' segments;
- every ticket a 201 answer gave exists with that coach, seat and journey, and the
  live tickets are exactly those answered (nothing sold that nobody was told of);
- every journey answered ``sold_out`` has no free seat left by a brute-force count
  over the tickets, and every server's availability equals that count.

Then orders are cancelled through random servers (the seats go back), every
server must see the freed seats at once, and a second storm sells them again.

A last test sends one request with one Idempotency-Key to two servers at the same
instant: both must give the first answer and the store must hold one order (on
PostgreSQL the key is locked across processes for that).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from server_fixtures import (
    STORE_KINDS,
    ApiClient,
    StoreState,
    Train,
    assert_availability_exact,
    assert_store_consistent,
    central_servers,
    load_train,
    new_key,
    read_store,
    service_day,
    small_train,
    store_database,
)

pytestmark = pytest.mark.slow

SERVERS = 3
CLIENT_THREADS = 8
STOPS = 8
SEATS = 60
TWO_PASSENGER_SHARE = 0.2
STORM_TIMEOUT_S = 25.0
ORDERS_CANCELLED = 8
SEED = 20261125

Journey = tuple[int, int]


@dataclass(frozen=True)
class Sale:
    """One 201 answer: which server sold which seats for which journey."""

    server: int
    order_id: str
    journey: Journey
    tickets: tuple[tuple[str, int, int], ...]  # (ticket id, coach, seat number)


@dataclass
class Storm:
    """What the sellers were told, shared by the client threads."""

    open_journeys: set[Journey]
    lock: threading.Lock = field(default_factory=threading.Lock)
    sales: list[Sale] = field(default_factory=list)
    sold_out: set[Journey] = field(default_factory=set)
    not_enough: int = 0
    unexpected: list[str] = field(default_factory=list)

    def next_journey(self, rng: random.Random) -> Journey | None:
        """A journey not yet answered sold_out, or None when all are."""
        with self.lock:
            if not self.open_journeys:
                return None
            return rng.choice(sorted(self.open_journeys))

    def record(
        self, server: int, journey: Journey, passengers: int, answer: httpx.Response
    ) -> None:
        """Keep an answer; a sold-out journey stays sold out (this storm only sells)."""
        code = _error_code(answer)
        with self.lock:
            if answer.status_code == 201:
                body = answer.json()
                tickets = tuple(
                    (str(tk["ticket_id"]), int(tk["coach"]), int(tk["seat"]))
                    for tk in body["tickets"]
                )
                self.sales.append(Sale(server, str(body["order_id"]), journey, tickets))
            elif answer.status_code == 409 and code == "sold_out":
                self.sold_out.add(journey)
                self.open_journeys.discard(journey)
            elif answer.status_code == 409 and code == "not_enough_seats" and passengers > 1:
                self.not_enough += 1
            else:
                self.unexpected.append(f"server {server}: {answer.status_code} {answer.text}")

    def note(self, problem: str) -> None:
        """Keep a failure seen by a client thread."""
        with self.lock:
            self.unexpected.append(problem)


def _error_code(answer: httpx.Response) -> str | None:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _seller(urls: list[str], train: Train, storm: Storm, seed: int, tag: str) -> None:
    """One client thread: buy random journeys from random servers until all are sold out."""
    rng = random.Random(seed)
    deadline = time.monotonic() + STORM_TIMEOUT_S
    with ExitStack() as stack:
        clients = [stack.enter_context(ApiClient(url)) for url in urls]
        n = 0
        while time.monotonic() < deadline:
            journey = storm.next_journey(rng)
            if journey is None:
                return
            server = rng.randrange(len(clients))
            count = 2 if rng.random() < TWO_PASSENGER_SHARE else 1
            passengers = [(f"{tag} {n} {p}", f"{tag}N{n:06d}P{p}") for p in range(count)]
            n += 1
            body = train.order_body(*journey, passengers)
            try:
                answer = clients[server].post("/v1/orders", body, new_key())
            except httpx.HTTPError as exc:
                storm.note(f"server {server}: {type(exc).__name__}: {exc}")
                continue
            storm.record(server, journey, count, answer)
        storm.note(f"{tag}: journeys still open after {STORM_TIMEOUT_S} s")


def sell_until_sold_out(urls: list[str], train: Train, seed: int, label: str) -> Storm:
    """Run the client threads against every server until every journey is sold out."""
    storm = Storm(open_journeys=set(train.ods()))
    threads = [
        threading.Thread(target=_guarded, args=(urls, train, storm, seed * 100 + n, f"{label}T{n}"))
        for n in range(CLIENT_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(STORM_TIMEOUT_S + 15)
    assert not any(thread.is_alive() for thread in threads), "a seller thread hung"
    assert not storm.unexpected, "unexpected answers:\n" + "\n".join(storm.unexpected[:20])
    assert storm.sold_out == set(train.ods()), "the storm ended before every journey sold out"
    orders = Counter(sale.server for sale in storm.sales)
    print(
        f"storm {label}: orders per server {dict(sorted(orders.items()))}, "
        f"{storm.not_enough} not_enough_seats"
    )
    return storm


def _guarded(urls: list[str], train: Train, storm: Storm, seed: int, tag: str) -> None:
    try:
        _seller(urls, train, storm, seed, tag)
    except Exception as exc:  # a thread's failure must fail the test, not vanish
        storm.note(f"{tag} crashed: {type(exc).__name__}: {exc}")


def assert_answers_in_store(sales: list[Sale], state: StoreState) -> None:
    """Every ticket a 201 answer gave is in the store, on that seat, for that journey."""
    wrong = []
    for sale in sales:
        for ticket_id, coach, seat in sale.tickets:
            row = state.tickets.get(ticket_id)
            if row is None:
                wrong.append(f"ticket {ticket_id} of order {sale.order_id} is not in the store")
            elif (row.order_id, row.coach, row.number, (row.board, row.dest)) != (
                sale.order_id,
                coach,
                seat,
                sale.journey,
            ):
                wrong.append(f"ticket {ticket_id}: answered {sale}, stored {row}")
    assert not wrong, "\n".join(wrong[:30])


def assert_sold_out_is_true(storm: Storm, train: Train, state: StoreState) -> None:
    """A journey answered sold_out has no free seat by a brute-force count over the tickets."""
    free = {
        f"{train.stations[a]}-{train.stations[b]}: {state.free_seats(a, b)} free"
        for a, b in storm.sold_out
        if state.free_seats(a, b)
    }
    assert not free, "answered sold_out but seats are free:\n" + "\n".join(sorted(free))


def cancel_orders(clients: list[ApiClient], order_ids: list[str], rng: random.Random) -> list[str]:
    """Cancel held orders, each through a random server; returns their ids."""
    for order_id in order_ids:
        client = rng.choice(clients)
        answer = client.post(f"/v1/orders/{order_id}/cancel", None, new_key())
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "cancelled"
    return order_ids


@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_concurrent_sellers_never_oversell(store_kind: str, tmp_path: Path) -> None:
    train = small_train("G7301", service_day(), stops=STOPS, seats=SEATS)
    rng = random.Random(SEED)
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", SERVERS) as servers,
        ExitStack() as stack,
    ):
        load_train(servers[0], train)
        urls = [server.url for server in servers]
        clients = [stack.enter_context(ApiClient(url)) for url in urls]

        first = sell_until_sold_out(urls, train, SEED, "A")
        state = read_store(db_url, train)
        assert_store_consistent(state)
        assert_answers_in_store(first.sales, state)
        answered = {tk[0] for sale in first.sales for tk in sale.tickets}
        assert {tk.ticket_id for tk in state.live()} == answered
        assert_sold_out_is_true(first, train, state)
        full = (1 << train.segments) - 1
        assert all(seat.sold == full for seat in state.seats.values()), "a seat has a hole"
        assert_availability_exact(clients, train, state)
        sellers = Counter(sale.server for sale in first.sales)
        assert len(sellers) == SERVERS, f"not every server sold: {sellers}"

        # Seats given back through one server are seen at once by every other.
        picked = rng.sample(sorted(sale.order_id for sale in first.sales), ORDERS_CANCELLED)
        cancelled = set(cancel_orders(clients, picked, rng))
        state = read_store(db_url, train)
        assert_store_consistent(state)
        freed = assert_availability_exact(clients, train, state)
        assert any(freed.values()), "cancelling orders freed no seat"

        second = sell_until_sold_out(urls, train, SEED + 1, "B")
        state = read_store(db_url, train)
        assert_store_consistent(state)
        sales = first.sales + second.sales
        assert_answers_in_store(sales, state)
        live = {tk[0] for sale in sales if sale.order_id not in cancelled for tk in sale.tickets}
        assert {tk.ticket_id for tk in state.live()} == live
        assert_sold_out_is_true(second, train, state)
        assert_availability_exact(clients, train, state)


RACES = 20


def race(clients: list[ApiClient], body: dict[str, object], key: str) -> list[object]:
    """Send one request with one key to every client at the same instant; their answers."""
    start = threading.Barrier(len(clients))
    answers: list[object] = [None] * len(clients)

    def send(n: int) -> None:
        start.wait()
        try:
            response = clients[n].post("/v1/orders", body, key)
            answers[n] = (response.status_code, response.json())
        except httpx.HTTPError as exc:
            answers[n] = type(exc).__name__

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


@pytest.mark.parametrize(
    "store_kind",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=[pytest.mark.postgres],
        ),
    ],
)
def test_a_retry_racing_its_first_attempt_on_another_server_gets_the_first_answer(
    store_kind: str, tmp_path: Path
) -> None:
    train = small_train("G7302", service_day(), stops=STOPS, seats=RACES)
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", 2) as servers,
        ExitStack() as stack,
    ):
        load_train(servers[0], train)
        clients = [stack.enter_context(ApiClient(server.url)) for server in servers]
        differing = []
        for n in range(RACES):
            body = train.order_body(0, STOPS - 1, [(f"Racer {n}", f"RACE{n:06d}")])
            answers = race(clients, body, new_key())
            if any(answer != answers[0] for answer in answers) or not isinstance(answers[0], tuple):
                differing.append(answers)
        state = read_store(db_url, train)
        assert_store_consistent(state)
        assert len(state.orders) == RACES, "a raced request made more or fewer than one order"
        assert not differing, f"{len(differing)} of {RACES} races got different answers:\n" + (
            "\n".join(map(str, differing[:5]))
        )
