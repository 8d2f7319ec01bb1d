"""Crash test: SIGKILL central at random points of a sales storm; nothing acknowledged is lost.

Client threads hammer one ``stationkit central serve`` process with every selling
mutation (holds, payments, cancellations of held orders, refunds and changes of
issued tickets) while an operator thread now and then moves a seat into a new
quota, and the test kills the server with SIGKILL at random moments and starts it
again on the same store. Every answer the clients got is kept, and so is every
request that got none (refused or cut off). After the last crash and restart:

- the store is consistent: no segment of a seat is held twice, the seat masks are
  the OR of the live tickets, orders agree with their tickets, changed tickets
  name their replacement, and the server's availability and quotas equal what the
  store holds;
- every acknowledged effect is in the store: a sale with the seat it was given, in
  the state its acknowledged payment, cancellation, refunds and changes put it in;
  a change's new ticket with its answered seat and the old one ``changed`` and
  pointing at it; an adjustment's seat in its new quota; a refused change changed
  nothing;
- retrying an answered request with its Idempotency-Key returns the same answer;
- a request that got no answer may or may not have happened, but never twice: its
  retry with the same key resolves it to exactly one outcome (one order, one
  replacement ticket, one refusal ...), a second retry gives that answer again, and
  the store then holds exactly what the answers say.

The storm is seeded (the test's choices and kill delays); thread timing is not, so
the exact interleaving differs from run to run, which is the point of a crash test.
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import (
    SEAT_CLASS,
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
REFUND_SHARE = 0.15  # chance per step that a client refunds one of its issued tickets
CHANGE_SHARE = 0.25  # chance per step that a client changes one of its issued tickets
CANCEL_SHARE = 0.15  # chance that a client gives up an order it holds instead of paying
TWO_PASSENGER_SHARE = 0.25
ADJUSTMENTS = 2  # operator adjustments during the storm, each into a quota of its own
ADJUST_DELAY_S = (0.3, 1.2)  # before each (the first always comes before the last kill)
COMMON_QUOTA = f"COMMON-{SEAT_CLASS}"  # the small train's only quota
CALL_TIMEOUT_S = 5.0
RETRY_PAUSE_S = 0.25  # a client whose call got no answer waits this long before the next
REFUSALS = {"sold_out", "not_enough_seats"}  # what a hold or change gets when seats run out
REFUSABLE = {"hold", "change"}  # the calls seats running out may refuse
SUCCESS = {"hold": 201}  # the others answer 200


@dataclass
class Call:
    """One mutating request and what came of it."""

    kind: str  # hold, pay, cancel, refund, change or adjust
    path: str
    body: dict[str, Any] | None
    key: str
    names: tuple[str, ...] = ()  # passenger names of a hold (unique per request)
    tickets: tuple[str, ...] = ()  # what a pay or cancel (the order's), refund or change acts on
    status: int | None = None  # None: no answer (refused, cut off or timed out)
    answer: Any = None

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def done(self) -> bool:
        """Acknowledged: the server says it happened."""
        return self.status == SUCCESS.get(self.kind, 200)

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
        again = dataclasses.replace(self, status=None, answer=None)
        again.send(client)
        return again


@dataclass
class Journal:
    """Every call of the storm, kept by the client threads.

    A ticket is only ever acted on by the thread that bought it, one call after the
    other, so the calls about one ticket are kept in the order they were made.
    """

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
    refused = call.kind in REFUSABLE and call.status == 409 and error_code(call) in REFUSALS
    return call.done or refused


def error_code(call: Call) -> str | None:
    """The error code of an error answer."""
    if isinstance(call.answer, dict) and isinstance(call.answer.get("error"), dict):
        return str(call.answer["error"].get("code"))
    return None


# ----------------------------------------------------------------- the storm


@dataclass(frozen=True)
class Holding:
    """An issued ticket a client holds: whose ID number, and for which journey."""

    id_number: str
    journey: tuple[int, int]


class Seller:
    """One client thread: hold and pay (or cancel), refund or change tickets it holds."""

    def __init__(self, url: str, train: Train, journal: Journal, seed: int, tag: str) -> None:
        self.client = ApiClient(url, timeout=CALL_TIMEOUT_S)
        self.train = train
        self.journal = journal
        self.rng = random.Random(seed)
        self.tag = tag
        # tickets acknowledged as issued and not since refunded or changed, with their
        # holder's ID number (a change must give it); a ticket whose refund or change
        # got no answer is dropped: in doubt, it is left alone until the checks
        self.issued: dict[str, Holding] = {}
        self.count = 0

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                step = self.rng.random()
                if self.issued and step < REFUND_SHARE:
                    self.refund(self.take_issued())
                elif self.issued and step < REFUND_SHARE + CHANGE_SHARE:
                    self.change(self.take_issued())
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

    def take_issued(self) -> tuple[str, Holding]:
        ticket_id = self.rng.choice(sorted(self.issued))
        return ticket_id, self.issued.pop(ticket_id)

    def journey(self, other_than: tuple[int, int] | None = None) -> tuple[int, int]:
        journeys = [od for od in self.train.ods() if od != other_than]
        return journeys[self.rng.randrange(len(journeys))]

    def buy(self) -> None:
        a, b = self.journey()
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
        tickets = tuple(str(ticket["ticket_id"]) for ticket in order["tickets"])
        path = f"/v1/orders/{order['order_id']}"
        if self.rng.random() < CANCEL_SHARE:
            self.call(Call("cancel", f"{path}/cancel", None, new_key(), tickets=tickets))
            return
        payment = {"method": "cash", "amount_fen": order["total_fen"], "reference": self.tag}
        paid = self.call(Call("pay", f"{path}/pay", payment, new_key(), tickets=tickets))
        if paid.status == 200:
            id_numbers = dict(passengers)
            for ticket in order["tickets"]:
                holding = Holding(id_numbers[ticket["passenger"]], (a, b))
                self.issued[str(ticket["ticket_id"])] = holding

    def refund(self, issued: tuple[str, Holding]) -> None:
        ticket_id, _ = issued
        path = f"/v1/tickets/{ticket_id}/refund"
        self.call(Call("refund", path, None, new_key(), tickets=(ticket_id,)))

    def change(self, issued: tuple[str, Holding]) -> None:
        ticket_id, holding = issued
        a, b = self.journey(other_than=holding.journey)
        body = self.train.change_body(a, b, holding.id_number)
        path = f"/v1/tickets/{ticket_id}/change"
        changed = self.call(Call("change", path, body, new_key(), tickets=(ticket_id,)))
        if changed.status == 200:
            self.issued[str(changed.answer["ticket"]["ticket_id"])] = Holding(
                holding.id_number, (a, b)
            )
        elif changed.status == 409:  # refused: the old ticket is still the passenger's
            self.issued[ticket_id] = holding


def adjustment_body(quota: str) -> dict[str, Any]:
    """Move one seat of the common quota into a new common quota ``quota``."""
    return {
        "from_quota": COMMON_QUOTA,
        "to_quota": quota,
        "seats": 1,
        "reason": "storm",
        "new_quota": {"quota": quota, "class": SEAT_CLASS, "seats": 1, "purpose": "common"},
    }


class Operator:
    """The operator thread: ``ADJUSTMENTS`` temporary adjustments at seeded moments.

    Each moves a seat between two common quotas, so what sells stays the same while
    the run's quotas and seat rows change under the storm. One that gets no answer
    is sent again with its key until one comes (or the storm ends): each attempt
    is kept, the unanswered ones in doubt like any other call.
    """

    def __init__(self, url: str, train: Train, journal: Journal, seed: int) -> None:
        self.client = ApiClient(url, timeout=CALL_TIMEOUT_S)
        self.path = f"/v1/train-runs/{train.number}/{train.day}/adjustments"
        self.journal = journal
        self.rng = random.Random(seed)

    def run(self, stop: threading.Event) -> None:
        try:
            for n in range(ADJUSTMENTS):
                if stop.wait(self.rng.uniform(*ADJUST_DELAY_S)):
                    return
                call = Call("adjust", self.path, adjustment_body(f"STORM-{n + 1}"), new_key())
                while True:  # until answered: the same key, as a careful operator would
                    call.send(self.client)
                    self.journal.keep(call)
                    if call.answered or stop.wait(RETRY_PAUSE_S):
                        break
                    call = dataclasses.replace(call, status=None, answer=None)
                if call.answered and not expected_answer(call):
                    self.journal.fail(f"adjust {call.body}: {call.status} {call.answer}")
        except Exception as exc:
            self.journal.fail(f"operator crashed: {type(exc).__name__}: {exc}")
        finally:
            self.client.close()


def storm_with_crashes(server: CentralProcess, train: Train, seed: int) -> Journal:
    """Run the storm and SIGKILL the server ``KILLS`` times, restarting it after each.

    The last kill comes while the clients still send; they stop while the server
    is down, and it is started once more on the store as the crash left it.
    """
    rng = random.Random(seed)
    journal = Journal()
    stop = threading.Event()
    workers: list[Seller | Operator] = [
        Seller(server.url, train, journal, seed * 100 + n, f"S{seed % 1000}T{n}")
        for n in range(CLIENT_THREADS)
    ]
    workers.append(Operator(server.url, train, journal, seed * 100 + CLIENT_THREADS))
    threads = [threading.Thread(target=worker.run, args=(stop,)) for worker in workers]
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


@dataclass
class Expected:
    """What the calls say the store holds.

    ``statuses``: every ticket an answer named, with the statuses it may be in (one,
    unless the last call about it got no answer). ``known``: those tickets per
    passenger. ``open``: passengers an unanswered hold or change may have given one
    ticket more than ``known``.
    """

    statuses: dict[str, set[str]] = field(default_factory=dict)
    passenger: dict[str, str] = field(default_factory=dict)
    known: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    open: set[str] = field(default_factory=set)

    def add(self, ticket_id: str, name: str, status: str) -> None:
        self.statuses[ticket_id] = {status}
        self.passenger[ticket_id] = name
        self.known[name].add(ticket_id)


def expected_from(calls: list[Call]) -> Expected:
    """Replay the calls, in the order they were made, into :class:`Expected`."""
    exp = Expected()
    for call in calls:
        if call.kind == "hold" and call.done:
            for ticket in call.answer["tickets"]:
                exp.add(str(ticket["ticket_id"]), str(ticket["passenger"]), "held")
        elif call.kind == "hold" and not call.answered:
            exp.open.update(call.names)
        elif call.kind in ("pay", "cancel", "refund"):
            after = {"pay": "issued", "cancel": "cancelled", "refund": "refunded"}[call.kind]
            for ticket_id in call.tickets:
                before = exp.statuses[ticket_id]
                exp.statuses[ticket_id] = {after} if call.done else before | {after}
        elif call.kind == "change":
            old = call.tickets[0]
            if call.done:
                exp.statuses[old] = {"changed"}
                exp.add(str(call.answer["ticket"]["ticket_id"]), exp.passenger[old], "issued")
            elif not call.answered:
                exp.statuses[old] = exp.statuses[old] | {"changed"}
                exp.open.add(exp.passenger[old])
    return exp


def hold_effects(call: Call, state: StoreState, train: Train) -> list[str]:
    """An acknowledged hold: its order, and its tickets with their seats and journey."""
    wrong = []
    order_id = call.answer["order_id"]
    if order_id not in state.orders:
        wrong.append(f"acknowledged order {order_id} is not in the store")
    for ticket in call.answer["tickets"]:
        row = state.tickets.get(ticket["ticket_id"])
        if row is None:
            continue  # reported with the statuses
        stored = (row.order_id, row.coach, row.number, row.passenger_name)
        if stored != (order_id, ticket["coach"], ticket["seat"], ticket["passenger"]):
            wrong.append(f"ticket {row.ticket_id}: answered {ticket}, stored {row}")
        journey = (train.stations[row.board], train.stations[row.dest])
        if call.body is None or journey != (call.body["from"], call.body["to"]):
            wrong.append(f"ticket {row.ticket_id}: stored journey {journey}, asked {call.body}")
    return wrong


def order_effects(call: Call, state: StoreState, _train: Train) -> list[str]:
    """An acknowledged payment or cancellation: the order's status."""
    order_id = call.answer["order_id"]
    want = "issued" if call.kind == "pay" else "cancelled"
    order = state.orders.get(order_id)
    if order is None or order.status != want or call.answer["status"] != want:
        return [f"{call.kind} of {order_id} answered {call.answer['status']}, stored {order}"]
    return []


def refund_effects(call: Call, state: StoreState, _train: Train) -> list[str]:
    """An acknowledged refund: the fee and the amount paid back."""
    row = state.tickets.get(call.tickets[0])
    fees = (call.answer["fee_fen"], call.answer["refund_fen"])
    if row is not None and (row.fee_fen, row.refund_fen) != fees:
        return [f"ticket {row.ticket_id}: refund answered {call.answer}, stored {row}"]
    return []


def change_effects(call: Call, state: StoreState, train: Train) -> list[str]:
    """An acknowledged change: the new ticket as answered, the old one pointing at it."""
    view = call.answer["ticket"]
    old, new = state.tickets.get(call.tickets[0]), state.tickets.get(view["ticket_id"])
    if old is None or new is None:
        return []  # reported with the statuses
    wrong = []
    if call.answer["old_ticket_id"] != old.ticket_id or view["status"] != "issued":
        wrong.append(f"change of {old.ticket_id} answered {call.answer}")
    if (old.replaced_by, old.fee_fen) != (new.ticket_id, call.answer["fee_fen"]):
        wrong.append(f"ticket {old.ticket_id} changed to {view}: stored old {old}")
    assert call.body is not None
    journey = (train.stations[new.board], train.stations[new.dest])
    stored = (new.order_id, new.passenger_name, new.coach, new.number, new.price_fen, journey)
    asked = (call.body["from"], call.body["to"])
    answered = (old.order_id, old.passenger_name, view["coach"], view["seat"], view["price_fen"])
    if stored != (*answered, asked):
        wrong.append(f"ticket {old.ticket_id} changed to {view} for {asked}: stored new {new}")
    if call.answer["price_difference_fen"] != new.price_fen - old.price_fen:
        wrong.append(f"change of {old.ticket_id}: difference {call.answer}, stored {old}, {new}")
    return wrong


def adjust_effects(call: Call, state: StoreState, _train: Train) -> list[str]:
    """An acknowledged adjustment: its seat is in its new quota, and only it."""
    assert call.body is not None
    quota = call.body["to_quota"]
    seats = state.quota_seats(quota)
    if quota not in state.quotas or seats != set(call.answer["seats"]) or len(seats) != 1:
        return [f"adjustment answered {call.answer}; quota {quota} holds seats {seats}"]
    return []


EFFECTS: dict[str, Callable[[Call, StoreState, Train], list[str]]] = {
    "hold": hold_effects,
    "pay": order_effects,
    "cancel": order_effects,
    "refund": refund_effects,
    "change": change_effects,
    "adjust": adjust_effects,
}


def assert_acknowledged_in_store(calls: list[Call], state: StoreState, train: Train) -> None:
    """Every acknowledged effect is in the store, and nothing no call may have made.

    Each ticket an answer named exists in the status its calls put it in (either
    one when the last got no answer); each passenger has exactly those tickets, or
    one more when an unanswered hold or change of theirs may have happened; and
    each acknowledged call's effect is stored as answered.
    """
    exp = expected_from(calls)
    wrong = []
    for ticket_id, statuses in exp.statuses.items():
        row = state.tickets.get(ticket_id)
        if row is None:
            wrong.append(f"acknowledged ticket {ticket_id} is not in the store")
        elif row.status not in statuses:
            wrong.append(f"ticket {ticket_id} is {row.status}, expected {statuses}")
    for name in sorted(exp.known.keys() | exp.open):
        tickets = state.by_passenger.get(name, [])
        unknown = {ticket.ticket_id for ticket in tickets} - exp.known.get(name, set())
        if len(unknown) > (1 if name in exp.open else 0):
            wrong.append(f"passenger {name!r} has tickets no answer named: {unknown}")
        if sum(ticket.is_live for ticket in tickets) > 1:
            wrong.append(f"passenger {name!r} has several live tickets: {tickets}")
    for call in calls:
        if call.done:
            wrong += EFFECTS[call.kind](call, state, train)
    assert not wrong, f"{len(wrong)} acknowledged effects wrong:\n" + "\n".join(wrong[:30])


def assert_quotas_agree(client: ApiClient, train: Train, state: StoreState) -> None:
    """The server's quotas (as it rebuilt them after the crashes) are the store's."""
    response = client.get(f"/v1/train-runs/{train.number}/{train.day}/quotas", {})
    assert response.status_code == 200, response.text
    said = {str(q["quota"]): int(q["seats"]) for q in response.json()["quotas"]}
    stored = {quota: len(state.quota_seats(quota)) for quota in state.quotas}
    assert said == stored, f"the server's quotas {said}, the store's {stored}"
    assert sum(stored.values()) == train.seat_count


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


def happened_before_retry(call: Call, state: StoreState) -> str | None:
    """What an unanswered call left in the store (None: nothing yet)."""
    if call.kind == "hold":
        found = orders_of(state, call.names)
        assert len(found) <= 1, f"one unanswered hold made several orders: {found}"
        return found.pop() if found else None
    if call.kind == "adjust":
        assert call.body is not None
        return call.body["to_quota"] if call.body["to_quota"] in state.quotas else None
    statuses = {state.tickets[ticket_id].status for ticket_id in call.tickets}
    assert len(statuses) == 1, f"{call.kind} {call.path} half done: {statuses}"
    after = {"pay": "issued", "cancel": "cancelled", "refund": "refunded", "change": "changed"}
    if statuses != {after[call.kind]}:
        return None
    return state.tickets[call.tickets[0]].replaced_by if call.kind == "change" else after[call.kind]


def what_answer_says(call: Call) -> str | None:
    """What a retry's answer says happened, in :func:`happened_before_retry`'s terms."""
    if not call.done:
        return None
    if call.kind == "hold":
        return str(call.answer["order_id"])
    if call.kind == "adjust":
        return str(call.answer["to_quota"])
    if call.kind == "change":
        return str(call.answer["ticket"]["ticket_id"])
    return str(call.answer["status"])  # pay and cancel answer the order, refund the ticket


def resolve_in_doubt(
    client: ApiClient, db_url: str, train: Train, calls: list[Call]
) -> tuple[list[Call], Counter[str]]:
    """Retry every unanswered request twice with its key; each resolves exactly once.

    A request the crash let happen is answered with what it did; one it did not is
    done now (or refused). Returns the calls with each unanswered one replaced by
    its retry, all answered, for :func:`assert_acknowledged_in_store`.
    """
    before = read_store(db_url, train)
    outcome: Counter[str] = Counter()
    resolved: list[Call] = []
    for call in calls:
        if call.answered:
            resolved.append(call)
            continue
        happened = happened_before_retry(call, before)
        outcome[f"{call.kind} {'executed' if happened else 'not executed'} before retry"] += 1
        again = call.retried(client)
        assert again.answered and expected_answer(again), (
            f"{call.kind} {call.path}: retry answered {again.status} {again.answer}"
        )
        twice = call.retried(client)
        assert (twice.status, twice.answer) == (again.status, again.answer), (
            f"{call.kind} {call.path}: retries disagree: {again.answer} / {twice.answer}"
        )
        if happened is not None:
            assert what_answer_says(again) == happened, (
                f"{call.kind} {call.path} had happened ({happened}); its retry answered "
                f"{again.status} {again.answer}"
            )
        outcome[f"{call.kind} -> {again.status}"] += 1
        resolved.append(again)
    return resolved, outcome


@pytest.mark.parametrize("writer_process", [False, True], ids=["one-process", "writer-process"])
@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_sigkill_during_sales_storm_loses_nothing_acknowledged(
    store_kind: str, writer_process: bool, tmp_path: Path
) -> None:
    """Every process of the server is killed at once (a split server's writer too)."""
    train = small_train("D7305", service_day(), stops=STOPS, seats=SEATS, coaches=2)
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", 1, writer_process) as servers,
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
            assert_quotas_agree(client, train, state)
            assert_replays(client, answered)
            resolved, outcome = resolve_in_doubt(client, db_url, train, calls)
            state = read_store(db_url, train)
            assert_store_consistent(state)
            assert_acknowledged_in_store(resolved, state, train)
            assert_availability_exact([client], train, state)
            assert_quotas_agree(client, train, state)
        kinds = Counter(f"{call.kind} {call.status}" for call in calls)
        print(
            f"{store_kind}: {KILLS} kills, {len(calls)} calls "
            f"({len(answered)} answered, {len(in_doubt)} unanswered): "
            f"{json.dumps(dict(sorted(kinds.items())))}; in doubt: {dict(sorted(outcome.items()))}"
        )
        assert answered and in_doubt, "the storm should see both answers and dropped calls"
        done = {call.kind for call in answered if call.done}
        assert done >= set(EFFECTS) - {"adjust"}, f"the storm acknowledged only {done}"
        assert any(call.kind == "adjust" for call in calls), "no adjustment was tried"
