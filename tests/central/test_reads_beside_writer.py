"""Queries never wait for the writer: with the writer held mid-transaction, they answer at once.

In one process the writer thread is held inside its transaction (the run
locked: SQLite's write lock taken, PostgreSQL's row lock held) while every
query is asked; in a split server the writer process is stopped outright
(SIGSTOP) while the HTTP process answers queries. A query that rode the
write path would hang until the writer let go; here each must answer well
inside a second while the writer stays held.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Api, demo_runs, writer_of
from server_fixtures import (
    ApiClient,
    central_servers,
    load_train,
    new_key,
    service_day,
    small_train,
)
from sqlalchemy import Connection

from central.api.service import CentralService

G = demo_runs()[0]
STOPS = [s["station"] for s in G["stops"]]
HELD_FOR_S = 30.0  # the writer lets go after this whatever happens
ANSWER_WITHIN_S = 1.0


def sold_order(api: Api, id_number: str = "110101199001010011") -> dict[str, Any]:
    body = {
        "train": G["train"],
        "date": G["date"],
        "from": STOPS[0],
        "to": STOPS[-1],
        "class": "ZE",
        "channel": "window",
        "station": STOPS[0],
        "passengers": [{"name": "读者", "id_number": id_number}],
    }
    held = api.post("/v1/orders", body)
    assert held.status_code == 201, held.text
    order: dict[str, Any] = held.json()
    payment = {"method": "cash", "amount_fen": order["total_fen"], "reference": "R1"}
    paid = api.post(f"/v1/orders/{order['order_id']}/pay", payment)
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


def queries(order: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    run = f"/v1/train-runs/{G['train']}/{G['date']}"
    journey = {"train": G["train"], "date": G["date"], "from": STOPS[0], "to": STOPS[-1]}
    return [
        ("/v1/availability", journey),
        (f"/v1/orders/{order['order_id']}", {}),
        (f"/v1/tickets/{order['tickets'][0]['ticket_id']}", {}),
        (f"/v1/stations/{STOPS[0]}/feed", {}),
        (f"{run}/od-matrix", {}),
        (f"{run}/quotas", {}),
        ("/v1/train-runs", {"date": G["date"]}),
        ("/v1/audit", {}),
        ("/v1/stats/sales", {}),
        ("/v1/keys", {}),
    ]


@contextmanager
def writer_held(api: Api) -> Iterator[None]:
    """Hold the writer thread inside a transaction that has locked the demo train's run."""
    svc: CentralService = api.client.app.state.service  # type: ignore[attr-defined]
    inside, release = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        run_id = svc.ctx.cache.run_id(conn, G["train"], date.fromisoformat(G["date"]))
        svc.ctx.cache.for_write(conn, run_id)
        inside.set()
        release.wait(HELD_FOR_S)

    pending = writer_of(api).submit(hold)
    assert inside.wait(10), "the writer never started the holding step"
    try:
        yield
    finally:
        release.set()
        pending.result(10)


def test_queries_answer_while_the_writer_thread_is_held(loaded: Api) -> None:
    order = sold_order(loaded)
    with ThreadPoolExecutor(1) as pool, writer_held(loaded):
        # a sale must wait for the writer: the hold is real
        sale = pool.submit(sold_order, loaded, "110101199001010022")
        for path, params in queries(order):
            started = time.monotonic()
            response = loaded.get(path, params=params)
            took = time.monotonic() - started
            assert response.status_code == 200, (path, response.text)
            assert took < ANSWER_WITHIN_S, f"{path} waited {took:.2f} s for the writer"
        assert not sale.done(), "the sale went through a held writer"
    assert sale.result(10)["status"] == "issued"


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_queries_answer_while_the_writer_process_is_stopped(tmp_path: Path) -> None:
    train = small_train("G8801", service_day())
    url = f"sqlite:///{tmp_path / 'central.db'}"
    with central_servers(url, tmp_path, 1, writer_process=True) as [server]:
        load_train(server, train)
        with ApiClient(server.url, timeout=ANSWER_WITHIN_S * 5) as client:
            held = client.post("/v1/orders", train.order_body(0, 2, [("读者", "X0001")]), new_key())
            assert held.status_code == 201, held.text
            order = held.json()
            assert server.process is not None
            [writer_pid] = children(server.process.pid)
            os.kill(writer_pid, signal.SIGSTOP)
            try:
                for path, params in [
                    ("/v1/availability", train.journey(0, 2)),
                    (f"/v1/orders/{order['order_id']}", {}),
                    (f"/v1/tickets/{order['tickets'][0]['ticket_id']}", {}),
                    ("/v1/train-runs", {}),
                ]:
                    params.pop("class", None)
                    started = time.monotonic()
                    response = client.get(path, params)
                    took = time.monotonic() - started
                    assert response.status_code == 200, (path, response.text)
                    assert took < ANSWER_WITHIN_S, f"{path} waited {took:.2f} s for the writer"
            finally:
                os.kill(writer_pid, signal.SIGCONT)
