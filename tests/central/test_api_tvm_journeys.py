"""Destinations and journeys through the API, on both stores, checked against the timetable.

The expected answers are worked out here from the demo timetable itself
(which runs call where, in which order, at what time), and the seats and
fares of every journey against ``GET /v1/availability`` for the same
seller, before and after sales and once the train has left.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import Api, FakeClock, demo_runs

from central.romanise import Romanised, romanised

RUNS = demo_runs()
DAY = RUNS[0]["date"]


def codes(run: dict[str, Any]) -> list[str]:
    return [stop["station"] for stop in run["stops"]]


def expected_destinations(station: str) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for run in RUNS:
        if run["date"] == DAY and station in codes(run):
            for stop in run["stops"][codes(run).index(station) + 1 :]:
                found.setdefault(stop["station"], stop["name"])
    return sorted(found.items(), key=lambda item: (item[1], item[0]))


def own_name(station: str) -> str:
    for run in RUNS:
        if run["date"] == DAY and station in codes(run):
            return str(stop(run, station)["name"])
    return station


def calling(board: str, dest: str) -> list[dict[str, Any]]:
    """Runs of the day calling at ``board`` and then at ``dest``."""
    return [
        run
        for run in RUNS
        if board in codes(run) and dest in codes(run)[codes(run).index(board) + 1 :]
    ]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stop(run: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = run["stops"][codes(run).index(code)]
    return found


def journeys(api: Api, board: str, dest: str, **extra: str) -> list[dict[str, Any]]:
    params = {"from": board, "to": dest, "date": DAY, **extra}
    response = api.client.get("/v1/journeys", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["journeys"]
    return found


def availability(api: Api, train: str, board: str, dest: str, **extra: str) -> dict[str, Any]:
    params = {"train": train, "date": DAY, "from": board, "to": dest, **extra}
    classes = api.client.get("/v1/availability", params=params).json()["classes"]
    return {c["class"]: c for c in classes}


@pytest.mark.parametrize("station", ["NJH", "VNP", "CZH", "SHH"])
def test_destinations_are_every_later_stop_of_the_days_runs_by_name(
    loaded: Api, station: str
) -> None:
    response = loaded.client.get(f"/v1/stations/{station}/destinations", params={"date": DAY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["station"], body["date"]) == (station, DAY)
    assert body["station_name"] == own_name(station)
    got = [(d["code"], d["name"]) for d in body["destinations"]]
    assert got == expected_destinations(station)
    assert station != "SHH" or got == []  # the terminus of every run goes nowhere


def test_destinations_come_with_their_pinyin_and_initials_for_the_kiosk(loaded: Api) -> None:
    body = loaded.client.get("/v1/stations/VNP/destinations", params={"date": DAY}).json()
    assert (body["station_pinyin"], body["station_initials"]) == ("Beijingnan", "BJN")
    latin = {d["name"]: (d["pinyin"], d["initials"]) for d in body["destinations"]}
    assert latin["上海虹桥"] == ("Shanghaihongqiao", "SHHQ")
    assert all(p.isascii() and p.isalpha() and i.isupper() for p, i in latin.values())


def test_place_names_are_read_as_places() -> None:
    """The phrase dictionary knows place names: 重庆 is Chongqing, 长沙 Changsha."""
    assert romanised("重庆北") == Romanised("Chongqingbei", "CQB")
    assert romanised("长沙南") == Romanised("Changshanan", "CSN")
    assert romanised("Lhasa 1") == Romanised("Lhasa", "LHASA")  # Latin kept whole, no digits


def test_destinations_of_an_unknown_station_or_a_day_without_trains_are_none(
    loaded: Api,
) -> None:
    for station, day in (("ZZZ", DAY), ("NJH", "2026-12-02")):
        answer = loaded.client.get(f"/v1/stations/{station}/destinations", params={"date": day})
        assert answer.status_code == 200 and answer.json()["destinations"] == []
    bad = loaded.client.get("/v1/stations/NJH/destinations", params={"date": "20261201"})
    assert bad.status_code == 422


@pytest.mark.parametrize(("board", "dest"), [("NJH", "SHH"), ("CZH", "SZH"), ("VNP", "NKH")])
def test_journeys_are_the_runs_calling_at_both_in_order_with_times(
    loaded: Api, board: str, dest: str
) -> None:
    found = journeys(loaded, board, dest)
    runs = sorted(calling(board, dest), key=lambda run: utc(stop(run, board)["depart"]))
    assert [j["train"] for j in found] == [run["train"] for run in runs]
    for journey, run in zip(found, runs, strict=True):
        assert (journey["from"], journey["to"], journey["date"]) == (board, dest, DAY)
        assert (journey["from_name"], journey["to_name"]) == (
            stop(run, board)["name"],
            stop(run, dest)["name"],
        )
        assert utc(journey["departs_at"]) == utc(stop(run, board)["depart"])
        assert utc(journey["arrives_at"]) == utc(stop(run, dest)["arrive"])
        assert journey["departs_at"].endswith("Z")
        assert {c["class"] for c in journey["classes"]} == set(run["fares"])


def test_journeys_count_seats_as_availability_does_for_the_seller(loaded: Api) -> None:
    for station in (None, "NJH", "CZH"):
        extra = {} if station is None else {"station": station}
        for journey in journeys(loaded, "NJH", "SHH", **extra):
            said = availability(loaded, journey["train"], "NJH", "SHH", **extra)
            for c in journey["classes"]:
                cls = said[c["class"]]
                assert (c["seats"], c["standing"], c["price_fen"]) == (
                    cls["seats"],
                    cls["standing"],
                    cls["price_fen"],
                ), (station, journey["train"], c)


def test_a_sale_shows_in_the_journeys(loaded: Api) -> None:
    [d5461] = [j for j in journeys(loaded, "NJH", "SHH") if j["train"] == "D5461"]
    before = {c["class"]: c["seats"] for c in d5461["classes"]}
    order = {
        "train": "D5461",
        "date": DAY,
        "from": "NJH",
        "to": "SHH",
        "class": "ZE",
        "channel": "internet",
        "passengers": [{"name": "王五", "id_number": "F0000006"}],
    }
    assert loaded.post("/v1/orders", order).status_code == 201
    [after] = [j for j in journeys(loaded, "NJH", "SHH") if j["train"] == "D5461"]
    assert {c["class"]: c["seats"] for c in after["classes"]} == {**before, "ZE": before["ZE"] - 1}


def test_a_train_that_has_left_shows_nothing_sellable(loaded: Api, clock: FakeClock) -> None:
    k51 = next(run for run in RUNS if run["train"] == "K51")
    clock.now = utc(stop(k51, "NJH")["depart"])
    found = {j["train"]: j for j in journeys(loaded, "NJH", "SHH")}
    assert all(c["seats"] == c["standing"] == 0 for c in found["K51"]["classes"])
    assert all(c["price_fen"] > 0 for c in found["K51"]["classes"])
    if "D5461" in found and utc(found["D5461"]["departs_at"]) > clock.now:
        assert any(c["seats"] > 0 for c in found["D5461"]["classes"])


def test_journeys_against_the_direction_or_on_an_empty_day_are_none(loaded: Api) -> None:
    assert journeys(loaded, "SHH", "NJH") == []
    assert journeys(loaded, "NJH", "SHH", date="2026-12-02") == []
    assert journeys(loaded, "ZZZ", "SHH") == []
