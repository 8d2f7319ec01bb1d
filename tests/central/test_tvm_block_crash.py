"""Crash test: SIGKILL central while a TVM uploads its offline sales; the resend loses nothing.

A real ``stationkit central serve`` (one process, or HTTP and writer
processes) on SQLite and PostgreSQL; a TVM enrolled, its key registered, a
block leased; then the TVM uploads its offline sales in batches while the
server is killed at random moments and started again on the same store. An
upload whose answer was lost committed whole or not at all (checked in the
store before it is sent again); every sale ends issued exactly once, its
answers ``issued`` at most once and otherwise ``duplicate``; a final resend
of everything is all duplicates and changes nothing. Afterwards the store is
consistent: each seat's sold segments are its live tickets' and its block's
held seat, block seats are sold by the tickets that say so, every ticket has
its order and feed event, and the server's availability equals a brute-force
count from the store.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_fixtures import (
    STORE_KINDS,
    ApiClient,
    Train,
    central_servers,
    load_train,
    new_key,
    seats_available,
    segment_mask,
    server_log,
    service_day,
    small_train,
)
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool
from tvm_fixtures import signed_sale

from central.store import tables as t
from protocol.keys import SigningKey
from stationkit.processes import CentralProcess

pytestmark = pytest.mark.slow

SEED = 1_105
SEATS = 150
BLOCK_SEATS = 120
SALES = 100  # on as many block seats: the other 20 stay held by the block
BATCH = 10
KILLS = 3
KILL_DELAY_S = (0.1, 0.6)
CALL_TIMEOUT_S = 10.0


class TvmClient:
    """The TVM over HTTP: enrolled with its code, its key registered, uploading sales."""

    def __init__(self, server: CentralProcess, station: str) -> None:
        self.server = server
        self.device_id = f"tvm-crash-{secrets.token_hex(3)}"
        with ApiClient(server.url) as operator:
            body = {"device_id": self.device_id, "kind": "tvm", "station": station}
            code = operator.post("/v1/devices", body, new_key()).json()["enrolment_code"]
        token = secrets.token_urlsafe(32)
        proof = {
            "enrolment_code": code,
            "credential_hash": hashlib.sha256(token.encode()).hexdigest(),
        }
        assert httpx.post(f"{server.url}/v1/enrolments", json=proof).status_code == 200
        self.auth = {"Authorization": f"Bearer {token}"}
        key = SigningKey.generate(0)
        body = {"public_key": key.public_key().public_hex()}
        answer = httpx.post(f"{server.url}/v1/units/me/signing-key", json=body, headers=self.auth)
        assert answer.status_code == 200, answer.text
        self.key = SigningKey.from_private_hex(answer.json()["key_id"], key.private_bytes_hex())

    def upload(self, sales: list[dict[str, Any]]) -> list[str] | None:
        """The statuses of one upload, or None when no answer came (the server died)."""
        try:
            answer = httpx.post(
                f"{self.server.url}/v1/units/me/block-sales",
                json={"sales": sales},
                headers=self.auth,
                timeout=CALL_TIMEOUT_S,
            )
        except httpx.TransportError:
            return None
        if answer.status_code != 200:
            return None  # 503: the writer process was down; in doubt like a lost answer
        return [result["status"] for result in answer.json()["results"]]


def lease_block(server: CentralProcess, train: Train, tvm: TvmClient, departs: str) -> Any:
    return_at = (datetime.fromisoformat(departs) - timedelta(minutes=5)).isoformat()
    body = {"device_id": tvm.device_id, "class": "ZE", "seats": BLOCK_SEATS, "return_at": return_at}
    with ApiClient(server.url) as operator:
        answer = operator.post(f"/v1/train-runs/{train.number}/{train.day}/blocks", body, new_key())
    assert answer.status_code == 201, answer.text
    return answer.json()


def offline_sales(rng: random.Random, tvm: TvmClient, block: Any) -> list[dict[str, Any]]:
    """One sale per block seat (the first ``SALES``), to a random stop, one passenger each."""
    stops = [stop["code"] for stop in block["stops"]]
    return [
        signed_sale(
            tvm.key,
            block,
            seat,
            rng.choice(stops),
            f"乘客{n}",
            f"CRASH{n:06d}",
            secrets.token_hex(8),
        )
        for n, seat in enumerate(block["seats"][:SALES])
    ]


def tickets_stored(db_url: str, ticket_ids: list[str]) -> int:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            found = select(func.count()).where(t.tickets.c.ticket_id.in_(ticket_ids))
            return int(conn.execute(found).scalar_one())
    finally:
        engine.dispose()


def upload_through_crashes(
    server: CentralProcess, db_url: str, tvm: TvmClient, sales: list[dict[str, Any]]
) -> tuple[dict[str, list[str]], Counter[str]]:
    """Upload every batch until answered while the server is killed; answers per ticket."""
    answers: dict[str, list[str]] = defaultdict(list)
    seen: Counter[str] = Counter()
    rng = random.Random(SEED)
    done = threading.Event()
    killer = threading.Thread(target=kill_repeatedly, args=(server, rng, done))
    killer.start()
    try:
        for start in range(0, len(sales), BATCH):
            batch = sales[start : start + BATCH]
            ids = [sale["ticket_id"] for sale in batch]
            while (statuses := tvm.upload(batch)) is None:
                seen["lost"] += 1
                wait_for(server)
                stored = tickets_stored(db_url, ids)
                assert stored in (0, len(ids)), f"a lost upload committed {stored} of {len(ids)}"
                seen["lost after commit" if stored else "lost before commit"] += 1
            for ticket_id, status in zip(ids, statuses, strict=True):
                answers[ticket_id].append(status)
            time.sleep(rng.uniform(0.0, 0.05))
    finally:
        done.set()
        killer.join(60)
    return answers, seen


def kill_repeatedly(server: CentralProcess, rng: random.Random, done: threading.Event) -> None:
    for _ in range(KILLS):
        if done.wait(rng.uniform(*KILL_DELAY_S)):
            return
        server.kill()
        server.start()


def wait_for(server: CentralProcess) -> None:
    """Until the server answers again (the killer restarts it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"central did not come back:\n{server_log(server)}")


@dataclass
class BlockStore:
    """The run's seats and tickets, the block's seats, orders and feed events, read at once."""

    seats: list[Any]
    tickets: list[Any]
    block_seats: list[Any]
    orders: set[str]
    events: Counter[str]

    def taken(self, board: int, segments: int) -> dict[int, int]:
        """Per seat: its live tickets' segments, and its block sale while the block holds it."""
        taken: dict[int, int] = defaultdict(int)
        for ticket in self.tickets:
            taken[ticket.seat_no] |= segment_mask(ticket.board, ticket.dest)
        for seat in self.block_seats:
            if seat.status == "held":
                taken[seat.seat_no] |= segment_mask(board, segments)
        return taken


def read_block_store(db_url: str, train: Train, block_id: str) -> BlockStore:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            run_id = conn.execute(
                select(t.train_runs.c.run_id).where(t.train_runs.c.train == train.number)
            ).scalar_one()
            blocks = t.block_seats.c
            return BlockStore(
                list(conn.execute(select(t.seats).where(t.seats.c.run_id == run_id))),
                list(conn.execute(select(t.tickets).where(t.tickets.c.run_id == run_id))),
                list(conn.execute(select(t.block_seats).where(blocks.block_id == block_id))),
                {row.order_id for row in conn.execute(select(t.orders.c.order_id))},
                Counter(row.ticket_id for row in conn.execute(select(t.ticket_events))),
            )
    finally:
        engine.dispose()


def store_problems(state: BlockStore, board: int, segments: int) -> list[str]:
    """What is inconsistent among seats, block seats, tickets, orders and feed events."""
    problems: list[str] = []
    seen: dict[int, int] = defaultdict(int)
    for ticket in state.tickets:
        if seen[ticket.seat_no] & segment_mask(ticket.board, ticket.dest):
            problems.append(f"ticket {ticket.ticket_id} overlaps another on seat {ticket.seat_no}")
        seen[ticket.seat_no] |= segment_mask(ticket.board, ticket.dest)
        if ticket.order_id not in state.orders or state.events[ticket.ticket_id] != 1:
            problems.append(f"ticket {ticket.ticket_id}: its order or feed event missing or twice")
    by_id = {ticket.ticket_id: ticket for ticket in state.tickets}
    for seat in state.block_seats:
        sold_by = by_id.get(seat.ticket_id)
        if seat.status == "sold" and (sold_by is None or sold_by.seat_no != seat.seat_no):
            problems.append(f"block seat {seat.seat_no} is sold by {seat.ticket_id}: not its")
    taken = state.taken(board, segments)
    for seat in state.seats:
        if (seat.sold, seat.blocked) != (taken.get(seat.seat_no, 0), 0):
            problems.append(
                f"seat {seat.seat_no}: sold {seat.sold:b}, expected {taken.get(seat.seat_no, 0):b}"
            )
    return problems


@pytest.mark.parametrize("writer_process", [False, True], ids=["one-process", "writer-process"])
@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_sigkill_during_block_sales_uploads_loses_and_doubles_nothing(
    store_kind: str, writer_process: bool, tmp_path: Path
) -> None:
    from server_fixtures import store_database

    train = small_train("G7305", service_day(), stops=5, seats=SEATS, coaches=2)
    board = 1
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", 1, writer_process) as servers,
    ):
        server = servers[0]
        load_train(server, train)
        tvm = TvmClient(server, train.stations[board])
        block = lease_block(server, train, tvm, train.spec["stops"][board]["depart"])
        sales = offline_sales(random.Random(SEED), tvm, block)
        answers, seen = upload_through_crashes(server, db_url, tvm, sales)
        for sale in sales:
            said = answers[sale["ticket_id"]]
            assert said and set(said) <= {"issued", "duplicate"} and said.count("issued") <= 1, said
        assert tickets_stored(db_url, [sale["ticket_id"] for sale in sales]) == SALES
        again = [tvm.upload(sales[n : n + BATCH]) for n in range(0, SALES, BATCH)]
        assert all(statuses == ["duplicate"] * BATCH for statuses in again), again
        state = read_block_store(db_url, train, block["block_id"])
        problems = store_problems(state, board, train.segments)
        assert not problems, "\n".join(problems[:30])
        assert Counter(seat.status for seat in state.block_seats) == {
            "sold": SALES,
            "held": BLOCK_SEATS - SALES,
        }
        taken = state.taken(board, train.segments)
        with ApiClient(server.url) as client:
            wrong = {}
            for a, b in train.ods():
                free = sum(
                    1 for s in state.seats if not taken.get(s.seat_no, 0) & segment_mask(a, b)
                )
                available = seats_available(client, train, a, b)
                if available != free:
                    wrong[(a, b)] = (available, free)
        assert not wrong, f"availability differs from the store: {wrong}"
        print(f"{store_kind}: {KILLS} kills, uploads {dict(seen)}")
        assert seen["lost"], "no upload was cut off: the kills missed every upload"


@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_an_upload_answered_after_its_commit_but_lost_is_resolved_by_the_resend(
    store_kind: str, tmp_path: Path
) -> None:
    """The answer is lost (the TVM stops waiting), then central dies: the resend is duplicates."""
    from server_fixtures import store_database

    train = small_train("G7306", service_day(), stops=5, seats=SEATS, coaches=2)
    with (
        store_database(store_kind, tmp_path) as db_url,
        central_servers(db_url, tmp_path / "central", 1) as servers,
    ):
        server = servers[0]
        load_train(server, train)
        tvm = TvmClient(server, train.stations[1])
        block = lease_block(server, train, tvm, train.spec["stops"][1]["depart"])
        sales = offline_sales(random.Random(SEED), tvm, block)
        ids = [sale["ticket_id"] for sale in sales]
        with pytest.raises(httpx.ReadTimeout):  # sent whole; the answer is not waited for
            httpx.post(
                f"{server.url}/v1/units/me/block-sales",
                json={"sales": sales},
                headers=tvm.auth,
                timeout=httpx.Timeout(CALL_TIMEOUT_S, read=0.001),
            )
        deadline = time.monotonic() + 30
        while tickets_stored(db_url, ids) < SALES and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tickets_stored(db_url, ids) == SALES, "the upload never committed"
        server.kill()
        server.start()
        assert tvm.upload(sales) == ["duplicate"] * SALES
        state = read_block_store(db_url, train, block["block_id"])
        assert len(state.tickets) == SALES
        assert not store_problems(state, 1, train.segments)
