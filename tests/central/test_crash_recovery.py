"""Crash test: SIGKILL central at random points of a sales storm; nothing acknowledged is lost.

Client threads hammer one ``stationkit central serve`` process with holds, payments
and refunds while the test kills it with SIGKILL at random moments and starts it
again on the same store. Every answer the clients got is kept, and so is every
request that got none (refused or cut off). After the last crash and restart:

- the store is consistent: no segment of a seat is held twice, the seat masks are
  the OR of the live tickets, orders agree with their tickets, and the server's
  availability equals a brute-force count over the tickets;
- every acknowledged sale exists with the seat it was given, in the state its
  acknowledged payments and refunds put it in;
- retrying an answered request with its Idempotency-Key returns the same answer;
- a request that got no answer may or may not have happened, but never twice: its
  retry with the same key resolves it to exactly one order (or one refusal), and a
  second retry gives that answer again.

The storm is seeded (the test's choices and kill delays); thread timing is not, so
the exact interleaving differs from run to run, which is the point of a crash test.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    server_log,
    service_day,
    small_train,
    store_database,
)

from stationkit.processes import CentralProcess

pytestmark = pytest.mark.slow

SEED = 4_242
CLIENT_THREADS = 4
KILLS = 5
KILL_DELAY_S = (0.2, 1.5)
DOWN_TIME_S = (0.0, 0.3)  # how long the port stays dead before the restart
STOPS = 6
SEATS = 300
REFUND_SHARE = 0.25  # chance per step that a client refunds one of its issued tickets
TWO_PASSENGER_SHARE = 0.25
CALL_TIMEOUT_S = 5.0
RETRY_PAUSE_S = 0.25  # a client whose call got no answer waits this long before the next
REFUSALS = {"sold_out", "not_enough_seats"}  # answers a hold may get when seats run out


@dataclass
class Call:
    """One mutating request and what came of it."""

    kind: str  # hold, pay or refund
    path: str
    body: dict[str, Any] | None
    key: str
    names: tuple[str, ...] = ()  # passenger names of a hold (unique per request)
    ticket_id: str = ""  # the ticket a refund is for
    status: int | None = None  # None: no answer (refused, cut off or timed out)
    answer: Any = None

    @property
    def answered(self) -> bool:
        return self.status is not None

    def send(self, client: ApiClient) -> None:
        """Send the request once; keep the answer, or note that none came."""
        try:
            response = client.post(self.path, self.body, self.key)
        except httpx.TransportError:
            return
        self.status = response.status_code
        try:
            self.answer = response.json()
        except ValueError:  # not JSON: kept as text, and fails expected_answer
            self.answer = response.text

    def retried(self, client: ApiClient) -> Call:
        """The same request with the same key, sent again."""
        again = Call(self.kind, self.path, self.body, self.key, self.names, self.ticket_id)
        again.send(client)
        return again


@dataclass
class Journal:
    """Every call of the storm, kept by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[Call] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def keep(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def fail(self, problem: str) -> None:
        with self.lock:
            self.failures.append(problem)


def expected_answer(call: Call) -> bool:
    """True for the answers the storm may get; anything else fails the test."""
    if call.kind == "hold":
        return call.status == 201 or (call.status == 409 and error_code(call) in REFUSALS)
    return call.status == 200


def error_code(call: Call) -> str | None:
    """The error code of an error answer."""
    if isinstance(call.answer, dict) and isinstance(call.answer.get("error"), dict):
        return str(call.answer["error"].get("code"))
    return None


# ----------------------------------------------------------------- the storm


class Seller:
    """One client thread: hold, pay at once, now and then refund a ticket it holds."""

    def __init__(self, url: str, train: Train, journal: Journal, seed: int, tag: str) -> None:
        self.client = ApiClient(url, timeout=CALL_TIMEOUT_S)
        self.train = train
        self.journal = journal
        self.rng = random.Random(seed)
        self.tag = tag
        self.issued: list[str] = []  # ticket ids acknowledged as issued, not yet refunded
        self.count = 0

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                if self.issued and self.rng.random() < REFUND_SHARE:
                    self.refund(self.issued.pop(self.rng.randrange(len(self.issued))))
                else:
                    self.buy()
        except Exception as exc:  # a thread's failure must fail the test, not vanish
            self.journal.fail(f"{self.tag} crashed: {type(exc).__name__}: {exc}")
        finally:
            self.client.close()

    def call(self, call: Call) -> Call:
        call.send(self.client)
        self.journal.keep(call)
        if not call.answered:
            time.sleep(RETRY_PAUSE_S)  # the server is down or restarting: do not spin
        elif not expected_answer(call):
            self.journal.fail(f"{call.kind} {call.path}: {call.status} {call.answer}")
        return call

    def buy(self) -> None:
        a, b = sorted(self.rng.sample(range(len(self.train.stations)), 2))
        count = 2 if self.rng.random() < TWO_PASSENGER_SHARE else 1
        self.count += 1
        passengers = [
            (f"{self.tag} {self.count} {p}", f"{self.tag}N{self.count:06d}P{p}")
            for p in range(count)
        ]
        body = self.train.order_body(a, b, passengers)
        names = tuple(name for name, _ in passengers)
        hold = self.call(Call("hold", "/v1/orders", body, new_key(), names=names))
        if hold.status != 201:
            return
        order = hold.answer
        payment = {"method": "cash", "amount_fen": order["total_fen"], "reference": self.tag}
        paid = self.call(Call("pay", f"/v1/orders/{order['order_id']}/pay", payment, new_key()))
        if paid.status == 200:
            self.issued += [str(ticket["ticket_id"]) for ticket in order["tickets"]]

    def refund(self, ticket_id: str) -> None:
        path = f"/v1/tickets/{ticket_id}/refund"
        self.call(Call("refund", path, None, new_key(), ticket_id=ticket_id))


def storm_with_crashes(server: CentralProcess, train: Train, seed: int) -> Journal:
    """Run the storm and SIGKILL the server ``KILLS`` times, restarting it after each.

    The last kill comes while the clients still send; they stop while the server
    is down, and it is started once more on the store as the crash left it.
    """
    rng = random.Random(seed)
    journal = Journal()
    stop = threading.Event()
    sellers = [
        Seller(server.url, train, journal, seed * 100 + n, f"S{seed % 1000}T{n}")
        for n in range(CLIENT_THREADS)
    ]
    threads = [threading.Thread(target=seller.run, args=(stop,)) for seller in sellers]
    for thread in threads:
        thread.start()
    try:
        for kill in range(KILLS):
            time.sleep(rng.uniform(*KILL_DELAY_S))
            server.kill()
            if kill == KILLS - 1:
                break  # the last crash: the clients stop while the server is down
            time.sleep(rng.uniform(*DOWN_TIME_S))
            server.start()
    finally:
        stop.set()
        for thread in threads:
            thread.join(CALL_TIMEOUT_S * 3)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    server.start()
    assert not journal.failures, (
        "unexpected answers in the storm:\n"
        + "\n".join(journal.failures[:20])
        + f"\nserver log:\n{server_log(server)}"
    )
    return journal


# ----------------------------------------------------------------- the checks


def assert_acknowledged_in_store(calls: list[Call], state: StoreState, train: Train) -> None:
    """Every acknowledged hold, payment and refund is in the store, with its seat."""
    allowed: dict[str, set[str]] = defaultdict(lambda: {"held", "issued"})
    order_status: dict[str, str] = {}
    refunded: dict[str, dict[str, Any]] = {}
    for call in calls:
        if call.kind == "pay" and call.status == 200:
            order_status[call.answer["order_id"]] = "issued"
            for ticket in call.answer["tickets"]:
                allowed[ticket["ticket_id"]] = {"issued"}
    for call in calls:
        if call.kind == "refund" and call.status == 200:
            allowed[call.ticket_id] = {"refunded"}
            refunded[call.ticket_id] = call.answer
        elif call.kind == "refund":  # no answer: it happened or not
            allowed[call.ticket_id] = allowed[call.ticket_id] | {"refunded"}
    wrong = []
    for call in calls:
        if call.kind != "hold" or call.status != 201:
            continue
        order_id = call.answer["order_id"]
        if order_id not in state.orders:
            wrong.append(f"acknowledged order {order_id} is not in the store")
        elif order_id in order_status and state.orders[order_id].status != "issued":
            wrong.append(f"order {order_id} was paid but is {state.orders[order_id].status}")
        for ticket in call.answer["tickets"]:
            row = state.tickets.get(ticket["ticket_id"])
            if row is None:
                wrong.append(f"acknowledged ticket {ticket['ticket_id']} is not in the store")
                continue
            stored = (row.order_id, row.coach, row.number, row.passenger_name)
            if stored != (order_id, ticket["coach"], ticket["seat"], ticket["passenger"]):
                wrong.append(f"ticket {row.ticket_id}: answered {ticket}, stored {row}")
            journey = (train.stations[row.board], train.stations[row.dest])
            if call.body is None or journey != (call.body["from"], call.body["to"]):
                wrong.append(f"ticket {row.ticket_id}: stored journey {journey}, asked {call.body}")
            if row.status not in allowed[row.ticket_id]:
                wrong.append(
                    f"ticket {row.ticket_id} is {row.status}, expected {allowed[row.ticket_id]}"
                )
            answer = refunded.get(row.ticket_id)
            if answer and (row.fee_fen, row.refund_fen) != (
                answer["fee_fen"],
                answer["refund_fen"],
            ):
                wrong.append(f"ticket {row.ticket_id}: refund answered {answer}, stored {row}")
    assert not wrong, f"{len(wrong)} acknowledged effects missing:\n" + "\n".join(wrong[:30])


def assert_replays(client: ApiClient, calls: list[Call]) -> None:
    """An answered request retried with its key gets the same answer, after the crashes."""
    wrong = []
    for call in calls:
        again = call.retried(client)
        if (again.status, again.answer) != (call.status, call.answer):
            wrong.append(
                f"{call.kind} {call.path} key {call.key}: first {call.status} {call.answer}, "
                f"retry {again.status} {again.answer}"
            )
    assert not wrong, f"{len(wrong)} retries changed their answer:\n" + "\n".join(wrong[:20])


def orders_of(state: StoreState, names: tuple[str, ...]) -> set[str]:
    """Orders holding a ticket for any of these (unique) passenger names."""
    return {ticket.order_id for name in names for ticket in state.by_passenger.get(name, [])}


def resolve_in_doubt(
    client: ApiClient, db_url: str, train: Train, calls: list[Call]
) -> Counter[str]:
    """Retry every unanswered request twice with its key; each resolves exactly once."""
    before = read_store(db_url, train)
    outcome: Counter[str] = Counter()
    resolved: list[tuple[Call, Call]] = []
    for call in calls:
        if call.kind == "hold":
            found = orders_of(before, call.names)
            assert len(found) <= 1, f"one unanswered hold made several orders: {found}"
            outcome["hold executed before retry" if found else "hold not executed"] += 1
        again = call.retried(client)
        assert again.answered and expected_answer(again), (
            f"{call.kind} {call.path}: retry answered {again.status} {again.answer}"
        )
        twice = call.retried(client)
        assert (twice.status, twice.answer) == (again.status, again.answer), (
            f"{call.kind} {call.path}: retries disagree: {again.answer} / {twice.answer}"
        )
        resolved.append((call, again))
    after = read_store(db_url, train)
    for call, again in resolved:
        outcome[f"{call.kind} -> {again.status}"] += 1
        if call.kind == "hold":
            found = orders_of(after, call.names)
            if again.status == 201:
                assert found == {again.answer["order_id"]}, f"hold {call.key}: orders {found}"
                tickets = {t["ticket_id"] for t in again.answer["tickets"]}
                stored = {t.ticket_id for name in call.names for t in after.by_passenger[name]}
                assert stored == tickets, f"hold {call.key}: tickets {stored} vs {tickets}"
            else:
                assert not found, f"refused hold {call.key} left orders {found}"
        elif call.kind == "pay":
            assert after.orders[again.answer["order_id"]].status == "issued"
        else:
            assert after.tickets[call.ticket_id].status == "refunded"
    return outcome


@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_sigkill_during_sales_storm_loses_nothing_acknowledged(
    store_kind: str, tmp_path: Path
) -> None:
    train = small_train("D7305", service_day(), stops=STOPS, seats=SEATS, coaches=2)
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", 1) as servers,
    ):
        server = servers[0]
        load_train(server, train)
        calls = storm_with_crashes(server, train, SEED).calls
        answered = [call for call in calls if call.answered]
        in_doubt = [call for call in calls if not call.answered]
        state = read_store(db_url, train)
        assert_store_consistent(state)
        assert_acknowledged_in_store(calls, state, train)
        with ApiClient(server.url) as client:
            assert_availability_exact([client], train, state)
            assert_replays(client, answered)
            outcome = resolve_in_doubt(client, db_url, train, in_doubt)
            state = read_store(db_url, train)
            assert_store_consistent(state)
            assert_availability_exact([client], train, state)
        kinds = Counter(f"{call.kind} {call.status}" for call in calls)
        print(
            f"{store_kind}: {KILLS} kills, {len(calls)} calls "
            f"({len(answered)} answered, {len(in_doubt)} unanswered): "
            f"{json.dumps(dict(sorted(kinds.items())))}; in doubt: {dict(outcome)}"
        )
        assert answered and in_doubt, "the storm should see both answers and dropped calls"
