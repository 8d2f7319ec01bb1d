"""Emergency seat blocks through the API, on both stores: lease, list, return.

A block's seats are really reserved: availability drops by them, no other
seller can take them, and their segments before the TVM's station stay on
sale. The TVM sees its active blocks; the operator returns one early, or
housekeeping does at its return time; either way the unsold seats are back.
"""

from __future__ import annotations

from typing import Any

from conftest import Api, FakeClock, writer_of
from tvm_fixtures import (
    DAY,
    RUN,
    TRAIN,
    enrolled_tvm,
    lease,
    leased,
    load_small_run,
    seats_left,
    small_run,
)

from central.writer.commands import Chores


def price(api: Api, board: str, dest: str) -> int:
    params = {"train": TRAIN, "date": DAY, "from": board, "to": dest}
    classes = api.client.get("/v1/availability", params=params).json()["classes"]
    return int(next(c["price_fen"] for c in classes if c["class"] == "ZE"))


def order(board: str, dest: str, count: int, station: str = "AAA", tag: str = "P") -> Any:
    passengers = [
        {"name": f"乘客{n}", "id_number": f"{tag}{board}{dest}{n:04d}"} for n in range(count)
    ]
    return {
        "train": TRAIN,
        "date": DAY,
        "from": board,
        "to": dest,
        "class": "ZE",
        "channel": "window",
        "station": station,
        "passengers": passengers,
    }


def test_a_lease_answers_the_block_as_the_tvm_keeps_it(api: Api) -> None:
    load_small_run(api)
    tvm = enrolled_tvm(api, "BBB")
    block = leased(api, tvm, 2)
    assert (block["device_id"], block["train"], block["date"]) == (tvm.device_id, TRAIN, DAY)
    assert (block["station"], block["station_name"], block["class"]) == ("BBB", "乙", "ZE")
    assert block["departs_at"] == "2026-12-03T00:32:00Z"
    assert block["status"] == "active" and block["return_at"] == "2026-12-02T12:00:00Z"
    assert len({(s["coach"], s["seat"]) for s in block["seats"]}) == 2
    assert [(s["code"], s["name"]) for s in block["stops"]] == [("CCC", "丙"), ("DDD", "丁")]
    for stop in block["stops"]:
        assert stop["price_fen"] == price(api, "BBB", stop["code"])
    assert [s["arrives_at"] for s in block["stops"]] == [
        "2026-12-03T01:10:00Z",
        "2026-12-03T01:50:00Z",
    ]
    assert (block["checkin_opens_minutes"], block["valid_after_arrival_minutes"]) == (120, 120)


def test_block_seats_are_reserved_and_their_earlier_segments_stay_on_sale(api: Api) -> None:
    load_small_run(api, seats=3)
    tvm = enrolled_tvm(api, "BBB")
    leased(api, tvm, 2)
    assert seats_left(api, "BBB", "DDD", "BBB") == 1
    assert seats_left(api, "CCC", "DDD") == 1
    assert seats_left(api, "AAA", "BBB") == 3  # seat reuse: before the TVM's station
    refused = api.post("/v1/orders", order("BBB", "CCC", 2, station="BBB"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_enough_seats"
    assert api.post("/v1/orders", order("AAA", "BBB", 3)).status_code == 201
    assert api.post("/v1/orders", order("CCC", "DDD", 1, station="CCC")).status_code == 201
    assert seats_left(api, "CCC", "DDD") == 0  # the block's seats are not for CCC
    assert api.post("/v1/orders", order("CCC", "DDD", 1, "CCC", tag="Q")).status_code == 409


def test_a_lease_of_more_seats_than_are_free_is_refused_and_reserves_nothing(api: Api) -> None:
    load_small_run(api, seats=3)
    tvm = enrolled_tvm(api, "CCC")
    assert api.post("/v1/orders", order("AAA", "DDD", 2)).status_code == 201
    refused = lease(api, tvm, 2)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_enough_seats"
    assert seats_left(api, "CCC", "DDD") == 1
    assert tvm.blocks() == []


def test_a_block_needs_an_enrolled_tvm_with_a_signing_key(api: Api) -> None:
    load_small_run(api)
    keyless = enrolled_tvm(api, "BBB", with_key=False)
    answer = lease(api, keyless, 1)
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "no_signing_key")
    body = {
        "device_id": "no-such-tvm",
        "class": "ZE",
        "seats": 1,
        "return_at": "2026-12-02T12:00:00Z",
    }
    unknown = api.post(f"{RUN}/blocks", body)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_device")
    window = api.post("/v1/devices", {"device_id": "win-1", "kind": "window", "station": "BBB"})
    assert window.status_code == 201
    not_tvm = api.post(f"{RUN}/blocks", {**body, "device_id": "win-1"})
    assert not_tvm.status_code == 404


def test_a_block_is_refused_where_the_train_does_not_board_or_has_left(
    api: Api, clock: FakeClock
) -> None:
    load_small_run(api)
    elsewhere = enrolled_tvm(api, "ZZZ")
    answer = lease(api, elsewhere, 1)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "unknown_station")
    terminus = enrolled_tvm(api, "DDD")
    assert lease(api, terminus, 1).json()["error"]["code"] == "bad_journey"
    tvm = enrolled_tvm(api, "BBB")
    past = lease(api, tvm, 1, return_at="2026-11-25T11:00:00Z")
    assert (past.status_code, past.json()["error"]["code"]) == (409, "too_late")
    clock.now = clock.now.replace(year=2026, month=12, day=3, hour=1)  # after 08:32 in Beijing
    assert lease(api, tvm, 1).json()["error"]["code"] == "too_late"


def test_a_return_time_after_departure_is_the_departure(api: Api) -> None:
    load_small_run(api)
    tvm = enrolled_tvm(api, "BBB")
    block = leased(api, tvm, 1, return_at="2026-12-04T00:00:00Z")
    assert block["return_at"] == block["departs_at"]


def test_the_tvm_lists_its_active_blocks_only(api: Api) -> None:
    load_small_run(api, seats=4)
    tvm, other = enrolled_tvm(api, "BBB"), enrolled_tvm(api, "BBB")
    first, second = leased(api, tvm, 1), leased(api, tvm, 2)
    assert {b["block_id"]: b for b in tvm.blocks()} == {
        first["block_id"]: first,
        second["block_id"]: second,
    }
    assert other.blocks() == []
    operator = api.get("/v1/units/me/blocks")
    assert operator.status_code == 403
    api.post(f"{RUN}/blocks/{first['block_id']}/return")
    assert [b["block_id"] for b in tvm.blocks()] == [second["block_id"]]


def test_the_operator_returns_a_block_and_its_seats_are_back(api: Api) -> None:
    load_small_run(api, seats=3)
    tvm = enrolled_tvm(api, "BBB")
    block = leased(api, tvm, 3)
    assert seats_left(api, "BBB", "CCC") == 0
    path = f"{RUN}/blocks/{block['block_id']}/return"
    returned = api.post(path)
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned" and returned.json()["seats"] == []
    assert seats_left(api, "BBB", "CCC") == 3 and seats_left(api, "AAA", "DDD") == 3
    again = api.post(path)  # a new key: the block is returned already, as it is
    assert again.status_code == 200 and again.json()["status"] == "returned"
    assert seats_left(api, "AAA", "DDD") == 3
    actions = [(r["action"], r["actor"]) for r in api.get("/v1/audit").json()]
    assert actions[:2] == [("block.return", "operator"), ("block.lease", "operator")]


def test_an_unknown_block_or_another_runs_is_404(api: Api) -> None:
    load_small_run(api)
    api.post("/v1/train-runs", small_run(train="G7101"))
    tvm = enrolled_tvm(api, "BBB")
    block = leased(api, tvm, 1)
    other_run = f"/v1/train-runs/G7101/{DAY}/blocks/{block['block_id']}/return"
    assert api.post(other_run).json()["error"]["code"] == "unknown_block"
    assert api.post(f"{RUN}/blocks/{'0' * 24}/return").status_code == 404


def test_housekeeping_returns_a_block_at_its_return_time(api: Api, clock: FakeClock) -> None:
    load_small_run(api, seats=3)
    tvm = enrolled_tvm(api, "CCC")
    leased(api, tvm, 2, return_at="2026-11-26T00:00:00Z")
    writer = writer_of(api)
    writer.execute_now(Chores())
    assert seats_left(api, "CCC", "DDD") == 1 and len(tvm.blocks()) == 1
    clock.now = clock.now.replace(day=26, hour=0)
    done = writer.execute_now(Chores())["done"]
    assert any("returned" in line for line in done), done
    assert seats_left(api, "CCC", "DDD") == 3 and tvm.blocks() == []
    audit = api.get("/v1/audit").json()[0]
    assert (audit["action"], audit["actor"], audit["train"]) == ("block.return", "scheduler", TRAIN)


def test_a_lease_is_idempotent_by_its_key(api: Api) -> None:
    load_small_run(api, seats=3)
    tvm = enrolled_tvm(api, "BBB")
    body = {
        "device_id": tvm.device_id,
        "class": "ZE",
        "seats": 1,
        "return_at": "2026-12-02T12:00:00Z",
    }
    first = api.post(f"{RUN}/blocks", body, key="lease-1")
    again = api.post(f"{RUN}/blocks", body, key="lease-1")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert seats_left(api, "BBB", "CCC") == 2 and len(tvm.blocks()) == 1
