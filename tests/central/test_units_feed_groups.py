"""Gate groups in the station feed: each issued ticket carries where its train checks in.

A stop of the timetable may name its gate group (检票口); every issued ticket's
feed event carries the group of its boarding stop, whichever way it was
issued: paid (the payment's hand-written insert), changed (the expression
insert) or sold offline by a TVM from an emergency block and uploaded. A
stop without a group gives tickets without one; the last stop cannot have
one (nobody boards there).
"""

from __future__ import annotations

from typing import Any

from conftest import Api
from sqlalchemy import create_engine, select
from tvm_fixtures import enrolled_tvm, leased
from tvm_fixtures import small_run as tvm_run
from units_fixtures import DAY, TRAIN, id_number, sell, small_run

from central.settings import CentralSettings
from central.store import tables as t

GROUPS = {"AAA": "A1", "BBB": "B2"}  # CCC names none; DDD is the last stop


def grouped(run: dict[str, Any]) -> dict[str, Any]:
    """``run`` with AAA's and BBB's gate groups."""
    for stop in run["stops"]:
        if stop["station"] in GROUPS:
            stop["gate_group"] = GROUPS[stop["station"]]
    return run


def feed(api: Api, station: str) -> dict[str, dict[str, Any]]:
    """The station's feed tickets by id."""
    response = api.get(f"/v1/stations/{station}/feed")
    assert response.status_code == 200, response.text
    return {ticket["ticket_id"]: ticket for ticket in response.json()["tickets"]}


def stored_groups(settings: CentralSettings) -> dict[str, str | None]:
    """The gate group of every issued event, as central's store holds it."""
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            events = t.ticket_events.c
            query = select(events.ticket_id, events.gate_group).where(events.kind == "issued")
            return {row.ticket_id: row.gate_group for row in conn.execute(query)}
    finally:
        engine.dispose()


def test_a_paid_ticket_carries_its_boarding_stops_group(
    api: Api, settings: CentralSettings
) -> None:
    assert api.post("/v1/train-runs", grouped(small_run())).status_code == 201
    from_a = sell(api, "AAA", "DDD", id_number(1))
    from_b = sell(api, "BBB", "DDD", id_number(2))
    from_c = sell(api, "CCC", "DDD", id_number(3))
    assert feed(api, "AAA")[from_a["ticket_id"]]["gate_group"] == "A1"
    assert feed(api, "BBB")[from_b["ticket_id"]]["gate_group"] == "B2"
    assert feed(api, "CCC")[from_c["ticket_id"]]["gate_group"] is None
    at_the_end = feed(api, "DDD")  # the alighting station's gates see the boarding group too
    assert [at_the_end[s["ticket_id"]]["gate_group"] for s in (from_a, from_b, from_c)] == [
        "A1",
        "B2",
        None,
    ]
    assert stored_groups(settings) == {
        from_a["ticket_id"]: "A1",
        from_b["ticket_id"]: "B2",
        from_c["ticket_id"]: None,
    }


def test_a_changed_ticket_carries_the_group_of_its_new_boarding_stop(api: Api) -> None:
    assert api.post("/v1/train-runs", grouped(small_run())).status_code == 201
    old = sell(api, "AAA", "CCC", id_number(1))
    change = {
        "train": TRAIN,
        "date": DAY,
        "from": "BBB",
        "to": "DDD",
        "class": "ZE",
        "id_number": id_number(1),
    }
    answer = api.post(f"/v1/tickets/{old['ticket_id']}/change", change)
    assert answer.status_code == 200, answer.text
    new_id = answer.json()["ticket"]["ticket_id"]
    assert feed(api, "BBB")[new_id]["gate_group"] == "B2"
    assert feed(api, "AAA")[old["ticket_id"]]["gate_group"] == "A1"


def test_a_tvm_block_ticket_gets_the_group_when_uploaded(api: Api) -> None:
    assert api.post("/v1/train-runs", grouped(tvm_run(3))).status_code == 201
    tvm = enrolled_tvm(api, "BBB")
    sale = tvm.sale(leased(api, tvm, 1), "DDD")
    uploaded = tvm.upload(sale)
    assert uploaded.status_code == 200, uploaded.text
    assert feed(api, "BBB")[sale["ticket_id"]]["gate_group"] == "B2"


def test_a_run_without_groups_gives_tickets_without_one(api: Api) -> None:
    assert api.post("/v1/train-runs", small_run()).status_code == 201
    sold = sell(api, "AAA", "DDD", id_number(1))
    assert feed(api, "AAA")[sold["ticket_id"]]["gate_group"] is None


def test_the_last_stop_cannot_name_a_group(api: Api) -> None:
    run = small_run()
    run["stops"][-1]["gate_group"] = "D1"
    refused = api.post("/v1/train-runs", run)
    assert refused.status_code == 422, refused.text
    assert "the last stop must not have a gate group" in refused.text
