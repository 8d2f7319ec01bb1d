"""Operator endpoints end to end over HTTP: timetables, auth, quotas, adjustments,
standing, pre-allocation and release, sales statistics, the OD matrix, the TVM card rule."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import Api, FakeClock, demo_runs, device_token, tiny_run
from fastapi.testclient import TestClient

G = demo_runs()[0]  # G111, 16 stops, classes SW / ZY / ZE, reuse off at VNP
STOPS: list[str] = [s["station"] for s in G["stops"]]
RUN = f"/v1/train-runs/{G['train']}/{G['date']}"

_ids = iter(range(1, 10**6))


def new_id_number() -> str:
    """A fresh ID number, so the real-name rule never links two tests' passengers."""
    return f"3201021985{next(_ids):08d}"


def passengers(count: int) -> list[dict[str, str]]:
    return [{"name": f"乘客{n}", "id_number": new_id_number()} for n in range(count)]


def order_body(
    frm: str, to: str, cls: str = "ZE", count: int = 1, channel: str = "internet", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "train": G["train"],
        "date": G["date"],
        "from": frm,
        "to": to,
        "class": cls,
        "channel": channel,
        "passengers": passengers(count),
    }
    body.update(extra)
    return body


def hold(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/v1/orders", body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def pay_cash(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    response = api.post(
        f"/v1/orders/{order['order_id']}/pay",
        {"method": "cash", "amount_fen": order["total_fen"], "reference": "CASH-1"},
    )
    assert response.status_code == 200, response.text
    paid: dict[str, Any] = response.json()
    return paid


def availability(
    api: Api, frm: str, to: str, station: str | None = None, date: str | None = None
) -> dict[str, dict[str, int]]:
    params = {"train": G["train"], "date": date or G["date"], "from": frm, "to": to}
    if station is not None:
        params["station"] = station
    response = api.get("/v1/availability", params=params)
    assert response.status_code == 200, response.text
    return {c["class"]: c for c in response.json()["classes"]}


def seats(api: Api, frm: str, to: str, cls: str = "ZE", station: str | None = None) -> int:
    return int(availability(api, frm, to, station)[cls]["seats"])


def quotas(api: Api, run: str = RUN) -> dict[str, dict[str, Any]]:
    response = api.get(f"{run}/quotas")
    assert response.status_code == 200, response.text
    return {q["quota"]: q for q in response.json()["quotas"]}


def last_audit(api: Api) -> dict[str, Any]:
    response = api.get("/v1/audit", params={"limit": 1})
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()[0]
    return record


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    code: str = body["error"]["code"]
    return code


def shifted(run: dict[str, Any], days: int) -> dict[str, Any]:
    """The same train ``days`` later (negative: earlier), times and date moved."""
    moved = copy.deepcopy(run)
    delta = timedelta(days=days)
    moved["date"] = (datetime.fromisoformat(run["date"]) + delta).date().isoformat()
    for stop in moved["stops"]:
        for field in ("arrive", "depart"):
            if stop.get(field):
                stop[field] = (datetime.fromisoformat(stop[field]) + delta).isoformat()
    return moved


class DeviceApi(Api):
    """Same client, a device's bearer token instead of the operator's."""

    def __init__(self, client: TestClient, token: str) -> None:
        super().__init__(client)
        self.auth = {"Authorization": f"Bearer {token}"}


def register(api: Api, device_id: str, kind: str = "tvm", station: str | None = "VNP") -> str:
    return device_token(api, device_id, kind, station)


# ----------------------------------------------------------------- timetables and auth


def test_loading_a_timetable_twice_is_409_train_exists(loaded: Api) -> None:
    again = loaded.post("/v1/train-runs", G)
    assert again.status_code == 409
    assert error_code(again) == "train_exists"
    runs = loaded.get("/v1/train-runs", params={"date": G["date"]}).json()["runs"]
    assert Counter(r["train"] for r in runs)[G["train"]] == 1


def test_load_answers_run_summary(api: Api) -> None:
    response = api.post("/v1/train-runs", G)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["train"] == G["train"] and body["date"] == G["date"]
    assert body["seats"] == sum(c["seats"] for c in G["coaches"])
    listed = {q["quota"] for q in G["quotas"]}
    assert listed | {"COMMON-SW", "COMMON-ZY", "COMMON-ZE"} == {q["quota"] for q in body["quotas"]}
    record = last_audit(api)
    assert record["action"] == "train_run.load" and record["actor"] == "operator"


def test_device_token_is_refused_operator_endpoints_but_sells(loaded: Api) -> None:
    token = register(loaded, "tvm-vnp-01")
    device = DeviceApi(loaded.client, token)
    adjustment = {"from_quota": "COMMON-ZE", "to_quota": "jinan_ze", "seats": 1, "reason": "x"}
    refused = [
        device.post("/v1/train-runs", shifted(G, 1)),
        device.get(f"{RUN}/quotas"),
        device.post(f"{RUN}/adjustments", adjustment),
        device.post(f"{RUN}/standing", {"class": "ZE", "capacity": 5, "reason": "x"}),
        device.post(f"{RUN}/preallocation", {}),
        device.post(f"{RUN}/release", {}),
        device.get("/v1/stats/sales"),
        device.get("/v1/audit"),
        device.post("/v1/devices", {"device_id": "gate-1", "kind": "gate"}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert error_code(response) == "forbidden"
    # nothing the refused calls asked for happened
    assert quotas(loaded)["jinan_ze"]["seats"] == 40
    assert loaded.get("/v1/train-runs", params={"date": "2026-12-02"}).json()["runs"] == []
    # the device sells: hold, pay, and its tickets carry tokens
    before = seats(loaded, "VNP", "JGK", station="VNP")
    order = hold(device, order_body("VNP", "JGK", channel="tvm", station="VNP"))
    paid = pay_cash(device, order)
    assert paid["status"] == "issued" and paid["tickets"][0]["token"]
    assert seats(loaded, "VNP", "JGK", station="VNP") == before - 1
    assert device.get(f"/v1/orders/{order['order_id']}").json()["status"] == "issued"


def test_unknown_token_is_401_and_duplicate_device_is_409(loaded: Api) -> None:
    register(loaded, "gate-jgk-1", kind="gate", station="JGK")
    stranger = DeviceApi(loaded.client, "not-a-token")
    response = stranger.post("/v1/orders", order_body("VNP", "JGK"))
    assert response.status_code == 401 and error_code(response) == "unauthorized"
    again = loaded.post("/v1/devices", {"device_id": "gate-jgk-1", "kind": "gate"})
    assert again.status_code == 409 and error_code(again) == "device_exists"


def test_devices_sell_only_as_registered_and_gates_not_at_all(loaded: Api) -> None:
    gate = DeviceApi(loaded.client, register(loaded, "gate-vnp-1", "gate", "VNP"))
    tvm = DeviceApi(loaded.client, register(loaded, "tvm-vnp-02", "tvm", "VNP"))
    before = seats(loaded, "VNP", "JGK", station="VNP")
    for device, body in [
        (gate, order_body("VNP", "JGK", channel="tvm", station="VNP")),
        (tvm, order_body("VNP", "JGK", channel="tvm", station="TIP")),
        (tvm, order_body("VNP", "JGK", channel="window", station="VNP")),
    ]:
        refused = device.post("/v1/orders", body)
        assert refused.status_code == 403 and error_code(refused) == "forbidden"
    assert seats(loaded, "VNP", "JGK", station="VNP") == before
    assert gate.get("/v1/stations/VNP/feed").status_code == 200
    other = gate.get("/v1/stations/TIP/feed")
    assert other.status_code == 403 and error_code(other) == "forbidden"


def test_idempotency_keys_are_scoped_per_caller(loaded: Api) -> None:
    device = DeviceApi(loaded.client, register(loaded, "window-tip-1", "window", "TIP"))
    first = loaded.post("/v1/orders", order_body("VNP", "TIP"), key="same-key")
    other = device.post(
        "/v1/orders", order_body("TIP", "DIP", channel="window", station="TIP"), key="same-key"
    )
    assert first.status_code == 201 and other.status_code == 201, other.text
    assert first.json()["order_id"] != other.json()["order_id"]


# ----------------------------------------------------------------- quotas and adjustments


def test_quotas_list_the_timetable_quotas_and_the_common_pools(loaded: Api) -> None:
    listed = quotas(loaded)
    for spec in G["quotas"]:
        quota = listed[spec["quota"]]
        assert quota["class"] == spec["class"] and quota["seats"] == spec["seats"]
        assert quota["purpose"] == spec["purpose"]
        assert quota["share"] == spec.get("share", {}).get("mode", "none")
    assert listed["jinan_ze"]["station"] == "JGK"
    assert listed["jinan_ze"]["sharers"] == sorted(G["groups"]["bureau_jinan"])
    assert listed["xuzhou_ze"]["min_dest"] == "NKH"
    assert listed["origin_long"]["station"] == STOPS[0]
    for cls in ("SW", "ZY", "ZE"):
        coach_seats = sum(c["seats"] for c in G["coaches"] if c["class"] == cls)
        assert sum(q["seats"] for q in listed.values() if q["class"] == cls) == coach_seats
        assert listed[f"COMMON-{cls}"]["purpose"] == "common"
    missing = loaded.get(f"/v1/train-runs/G9999/{G['date']}/quotas")
    assert missing.status_code == 404 and error_code(missing) == "unknown_train"


def test_temporary_adjustment_moves_seats_between_stations_and_is_audited(loaded: Api) -> None:
    # xuzhou_ze is kept for UUH (shared with BMH, TEK); jinan_ze for JGK (bureau_jinan)
    jinan_before = seats(loaded, "JGK", "UUH", station="JGK")
    xuzhou_before = seats(loaded, "UUH", "NKH", station="UUH")
    response = loaded.post(
        f"{RUN}/adjustments",
        {"from_quota": "xuzhou_ze", "to_quota": "jinan_ze", "seats": 5, "reason": "JGK group"},
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["from_quota"] == "xuzhou_ze" and moved["to_quota"] == "jinan_ze"
    assert len(moved["seats"]) == 5
    assert seats(loaded, "JGK", "UUH", station="JGK") == jinan_before + 5
    assert seats(loaded, "UUH", "NKH", station="UUH") == xuzhou_before - 5
    listed = quotas(loaded)
    assert listed["jinan_ze"]["seats"] == 45 and listed["xuzhou_ze"]["seats"] == 15
    record = last_audit(loaded)
    assert record["action"] == "quota.adjust"
    assert record["actor"] == "operator" and record["reason"] == "JGK group"
    assert record["train"] == G["train"] and record["date"] == G["date"]
    assert record["detail"]["seats"] == moved["seats"]
    assert record["detail"]["from_quota"] == "xuzhou_ze"
    assert record["detail"]["to_quota"] == "jinan_ze"


def test_adjustment_into_a_new_quota(loaded: Api) -> None:
    by_jgk = seats(loaded, "TMK", "UUH", "ZY", station="JGK")
    by_tmk = seats(loaded, "TMK", "UUH", "ZY", station="TMK")
    new_quota = {"quota": "group_tmk", "class": "ZY", "seats": 4, "purpose": "station"}
    response = loaded.post(
        f"{RUN}/adjustments",
        {
            "from_quota": "COMMON-ZY",
            "to_quota": "group_tmk",
            "seats": 4,
            "reason": "school trip from TMK",
            "new_quota": {**new_quota, "station": "TMK"},
        },
    )
    assert response.status_code == 200, response.text
    listed = quotas(loaded)
    assert listed["group_tmk"]["station"] == "TMK" and listed["group_tmk"]["seats"] == 4
    assert listed["group_tmk"]["purpose"] == "station" and listed["group_tmk"]["share"] == "none"
    assert listed["COMMON-ZY"]["seats"] == 48 - 4
    # TMK still sells them; JGK, not a sharer, no longer can
    assert seats(loaded, "TMK", "UUH", "ZY", station="TMK") == by_tmk
    assert seats(loaded, "TMK", "UUH", "ZY", station="JGK") == by_jgk - 4
    record = last_audit(loaded)
    assert record["action"] == "quota.adjust" and record["reason"] == "school trip from TMK"


def test_adjustment_refusals(loaded: Api) -> None:
    unknown = loaded.post(
        f"{RUN}/adjustments",
        {"from_quota": "COMMON-ZE", "to_quota": "nowhere", "seats": 1, "reason": "x"},
    )
    assert unknown.status_code == 404 and error_code(unknown) == "unknown_quota"
    too_many = loaded.post(
        f"{RUN}/adjustments",
        {"from_quota": "origin_sw", "to_quota": "COMMON-SW", "seats": 5, "reason": "x"},
    )
    assert too_many.status_code == 409 and error_code(too_many) == "not_enough_seats"
    same = loaded.post(
        f"{RUN}/adjustments",
        {"from_quota": "COMMON-SW", "to_quota": "COMMON-SW", "seats": 1, "reason": "x"},
    )
    assert same.status_code == 422 and error_code(same) == "validation_failed"
    assert quotas(loaded)["origin_sw"]["seats"] == 4


def test_refused_adjustment_into_a_new_quota_creates_nothing(loaded: Api) -> None:
    before = quotas(loaded)
    refused = loaded.post(
        f"{RUN}/adjustments",
        {
            "from_quota": "COMMON-ZE",  # ZE seats cannot go into a ZY quota
            "to_quota": "zy_extra",
            "seats": 2,
            "reason": "x",
            "new_quota": {"quota": "zy_extra", "class": "ZY", "seats": 2, "purpose": "common"},
        },
    )
    assert refused.status_code == 404 and error_code(refused) == "unknown_quota"
    assert quotas(loaded) == before
    # the quota was never created, so it cannot be adjusted into without new_quota
    follow_up = loaded.post(
        f"{RUN}/adjustments",
        {"from_quota": "COMMON-ZY", "to_quota": "zy_extra", "seats": 2, "reason": "x"},
    )
    assert follow_up.status_code == 404 and error_code(follow_up) == "unknown_quota"


# ----------------------------------------------------------------- standing


def test_standing_capacity_adjustment_and_refusal_below_sold(loaded: Api) -> None:
    # G111 has no standing in SW: sell its 10 seats, then open 3 standing places
    for _ in range(2):
        hold(loaded, order_body("VNP", "AOH", "SW", count=5))
    assert availability(loaded, "VNP", "AOH")["SW"] == {
        "class": "SW",
        "seats": 0,
        "standing": 0,
        "price_fen": availability(loaded, "VNP", "AOH")["SW"]["price_fen"],
    }
    sold_out = loaded.post("/v1/orders", order_body("VNP", "AOH", "SW"))
    assert sold_out.status_code == 409 and error_code(sold_out) == "sold_out"

    response = loaded.post(f"{RUN}/standing", {"class": "SW", "capacity": 3, "reason": "peak"})
    assert response.status_code == 200, response.text
    assert response.json() == {"class": "SW", "before": 0, "after": 3}
    assert availability(loaded, "VNP", "AOH")["SW"]["standing"] == 3
    record = last_audit(loaded)
    assert record["action"] == "standing.adjust" and record["reason"] == "peak"
    assert record["detail"] == {"class": "SW", "before": 0, "after": 3}

    standing = hold(loaded, order_body("VNP", "TIP", "SW"))
    assert standing["tickets"][0]["seat"] is None and standing["tickets"][0]["coach"] is None
    assert availability(loaded, "VNP", "AOH")["SW"]["standing"] == 2

    below = loaded.post(f"{RUN}/standing", {"class": "SW", "capacity": 0, "reason": "x"})
    assert below.status_code == 409 and error_code(below) == "not_enough_seats"
    assert availability(loaded, "VNP", "AOH")["SW"]["standing"] == 2
    exact = loaded.post(f"{RUN}/standing", {"class": "SW", "capacity": 1, "reason": "x"})
    assert exact.status_code == 200 and exact.json()["before"] == 3
    assert availability(loaded, "VNP", "AOH")["SW"]["standing"] == 0
    no_class = loaded.post(f"{RUN}/standing", {"class": "YZ", "capacity": 1, "reason": "x"})
    assert no_class.status_code == 422 and error_code(no_class) == "bad_journey"


def tiny_order() -> dict[str, Any]:
    return {
        "train": "G7001",
        "date": "2026-12-03",
        "from": "AAA",
        "to": "CCC",
        "class": "ZE",
        "channel": "internet",
        "passengers": passengers(1),
    }


def tiny_left(api: Api) -> dict[str, Any]:
    params = {"train": "G7001", "date": "2026-12-03", "from": "AAA", "to": "CCC"}
    left: dict[str, Any] = api.get("/v1/availability", params=params).json()["classes"][0]
    return left


def test_standing_when_sold_out_is_sold_after_the_seats(api: Api) -> None:
    assert api.post("/v1/train-runs", tiny_run()).status_code == 201
    assert (tiny_left(api)["seats"], tiny_left(api)["standing"]) == (1, 0)
    seated = hold(api, tiny_order())["tickets"][0]
    assert seated["seat"] == 1
    assert (tiny_left(api)["seats"], tiny_left(api)["standing"]) == (0, 2)
    for _ in range(2):
        assert hold(api, tiny_order())["tickets"][0]["seat"] is None
    full = api.post("/v1/orders", tiny_order())
    assert full.status_code == 409 and error_code(full) == "sold_out"


def test_standing_policy_never_sells_no_standing(api: Api) -> None:
    assert api.post("/v1/train-runs", tiny_run(standing_policy="never")).status_code == 201
    assert tiny_left(api)["standing"] == 0
    assert hold(api, tiny_order())["tickets"][0]["seat"] == 1
    assert tiny_left(api)["standing"] == 0
    refused = api.post("/v1/orders", tiny_order())
    assert refused.status_code == 409 and error_code(refused) == "sold_out"


# ----------------------------------------------------------------- pre-allocation


FORECAST = [
    {"from": "VNP", "to": "AOH", "class": "ZE", "passengers": 100},
    {"from": "JGK", "to": "UUH", "class": "ZE", "passengers": 40},
    {"from": "TIP", "to": "DIP", "class": "ZE", "passengers": 20},
    {"from": "NKH", "to": "AOH", "class": "ZY", "passengers": 10},
]


def test_preallocation_with_a_supplied_forecast_and_release(loaded: Api) -> None:
    response = loaded.post(f"{RUN}/preallocation", {"forecast": FORECAST})
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["forecast"] == "supplied by the operator"
    assert any("PA-ZE-JGK" in item for item in detail["items"])
    listed = quotas(loaded)
    # 30 % of the forecast boarding at each intermediate station, origin demand kept first
    pre = {q: v["seats"] for q, v in listed.items() if q.startswith("PA-")}
    assert pre == {"PA-ZE-JGK": 12, "PA-ZE-TIP": 6, "PA-ZY-NKH": 3}
    assert listed["PA-ZE-JGK"]["purpose"] == "station" and listed["PA-ZE-JGK"]["station"] == "JGK"
    assert listed["COMMON-ZE"]["seats"] == 180 - 18 and listed["COMMON-ZY"]["seats"] == 48 - 3
    record = last_audit(loaded)
    assert record["action"] == "preallocation.run" and record["actor"] == "operator"
    assert record["detail"]["forecast"] == "supplied by the operator"
    assert len(record["detail"]["moves"]) == 3

    again = loaded.post(f"{RUN}/preallocation", {"forecast": FORECAST})
    assert again.status_code == 200 and again.json()["moves"] == []

    released = loaded.post(f"{RUN}/release", None)
    assert released.status_code == 200, released.text
    assert len(released.json()["moves"]) == 3
    listed = quotas(loaded)
    assert all(v["seats"] == 0 for q, v in listed.items() if q.startswith("PA-"))
    assert listed["COMMON-ZE"]["seats"] == 180 and listed["COMMON-ZY"]["seats"] == 48
    assert last_audit(loaded)["action"] == "preallocation.release"


def test_preallocation_from_past_sales(loaded: Api) -> None:
    earlier = shifted(G, -3)
    assert loaded.post("/v1/train-runs", earlier).status_code == 201
    sales = [("JGK", "UUH", 5), ("JGK", "UUH", 5), ("TIP", "DIP", 4)]
    for frm, to, count in sales:
        order = hold(loaded, {**order_body(frm, to, count=count), "date": earlier["date"]})
        pay_cash(loaded, order)
    response = loaded.post(f"{RUN}/preallocation", {})
    assert response.status_code == 200, response.text
    detail = response.json()
    assert "past run" in detail["forecast"] and "1" in detail["forecast"]
    pre = {q: v["seats"] for q, v in quotas(loaded).items() if q.startswith("PA-")}
    assert pre == {"PA-ZE-JGK": 3, "PA-ZE-TIP": 1}  # 30 % of 10 and of 4, rounded
    record = last_audit(loaded)
    assert record["action"] == "preallocation.run"
    assert record["detail"]["forecast"] == detail["forecast"]
    # the earlier run itself had no past: nothing to pre-allocate
    first = loaded.post(f"/v1/train-runs/{G['train']}/{earlier['date']}/preallocation", {})
    assert first.status_code == 200 and first.json()["moves"] == []
    assert "0 past runs" in first.json()["forecast"]


def test_backwards_forecast_entry_is_refused_not_500(loaded: Api) -> None:
    before = quotas(loaded)
    response = loaded.post(
        f"{RUN}/preallocation",
        {"forecast": [{"from": "AOH", "to": "VNP", "class": "ZE", "passengers": 3}]},
    )
    assert 400 <= response.status_code < 500, response.text
    error_code(response)
    assert quotas(loaded) == before


# ----------------------------------------------------------------- statistics and OD matrix


def rows(stats: dict[str, Any], name: str) -> dict[str, tuple[int, int]]:
    return {r["key"]: (r["tickets"], r["revenue_fen"]) for r in stats[name]}


def test_sales_stats_reflect_sold_refunded_and_changed_tickets(
    loaded: Api, clock: FakeClock
) -> None:
    kept = pay_cash(loaded, hold(loaded, order_body("VNP", "JGK", channel="tvm", station="VNP")))
    p1 = kept["tickets"][0]["price_fen"]
    clock.advance(hours=1)
    refunded = pay_cash(
        loaded, hold(loaded, order_body("TIP", "UUH", channel="window", station="TIP"))
    )
    refund = loaded.post(f"/v1/tickets/{refunded['tickets'][0]['ticket_id']}/refund")
    assert refund.status_code == 200, refund.text
    fee2 = refund.json()["fee_fen"]
    assert fee2 > 0
    changing_body = order_body("VNP", "NKH")
    changing = pay_cash(loaded, hold(loaded, changing_body))
    clock.advance(minutes=30)
    change = loaded.post(
        f"/v1/tickets/{changing['tickets'][0]['ticket_id']}/change",
        {
            "train": G["train"],
            "date": G["date"],
            "from": "VNP",
            "to": "JGK",
            "class": "ZY",
            "id_number": changing_body["passengers"][0]["id_number"],
        },
    )
    assert change.status_code == 200, change.text
    fee3, p3 = change.json()["fee_fen"], change.json()["ticket"]["price_fen"]
    assert fee3 > 0  # cheaper: the difference is refunded less a fee

    response = loaded.get("/v1/stats/sales")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert rows(stats, "by_channel") == {
        "tvm": (1, p1),
        "window": (0, fee2),
        "internet": (1, fee3 + p3),
    }
    assert rows(stats, "by_station") == {
        "VNP": (1, p1),
        "TIP": (0, fee2),
        "internet": (1, fee3 + p3),
    }
    assert rows(stats, "by_od") == {
        "VNP-JGK": (2, p1 + p3),
        "TIP-UUH": (0, fee2),
        "VNP-NKH": (0, fee3),
    }
    assert rows(stats, "by_hour") == {
        "2026-11-25T12:00Z": (1, p1),
        "2026-11-25T13:00Z": (1, fee2 + fee3 + p3),
    }
    # net revenue is the same whichever way it is cut
    for name in ("by_hour", "by_station", "by_channel", "by_od"):
        assert sum(r["revenue_fen"] for r in stats[name]) == p1 + fee2 + fee3 + p3
    other = loaded.get("/v1/stats/sales", params={"train": "K51"}).json()
    assert other["by_channel"] == []
    later = loaded.get("/v1/stats/sales", params={"date_from": "2026-12-02"}).json()
    assert later["by_od"] == []


def test_od_matrix_equals_availability_per_od(loaded: Api) -> None:
    hold(loaded, order_body("VNP", "JGK", count=3))
    hold(loaded, order_body("TIP", "UUH", "ZY", count=2))
    for station in (None, "JGK"):
        params = {"station": station} if station else {}
        response = loaded.get(f"{RUN}/od-matrix", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["stops"] == STOPS
        assert set(body["classes"]) == {"SW", "ZY", "ZE"}
        for a, b in [(0, 15), (0, 3), (1, 7), (3, 7), (3, 10), (7, 10), (14, 15)]:
            left = availability(loaded, STOPS[a], STOPS[b], station)
            for cls, matrix in body["classes"].items():
                assert matrix[a][b] == left[cls]["seats"], (cls, STOPS[a], STOPS[b], station)
                assert matrix[b][a] == 0


# ----------------------------------------------------------------- the TVM card rule


def card(order: dict[str, Any], confirm: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "method": "card",
        "amount_fen": order["total_fen"],
        "reference": "RRN-42",
        "acquirer": "ICBC",
        "card_masked": "622848******1234",
    }
    if confirm is not None:
        body["confirm_card_station"] = confirm
    return body


def test_card_at_a_tvm_for_a_journey_from_a_non_card_station_needs_confirmation(
    loaded: Api,
) -> None:
    # a TVM at DIP sells TIP->JGK: TIP is neither DIP nor in card_stations (["VNP"])
    order = hold(loaded, order_body("TIP", "JGK", channel="tvm", station="DIP"))
    path = f"/v1/orders/{order['order_id']}/pay"
    refused = loaded.post(path, card(order))
    assert refused.status_code == 409 and error_code(refused) == "card_station_not_accepted"
    assert loaded.get(f"/v1/orders/{order['order_id']}").json()["status"] == "held"
    not_confirmed = loaded.post(path, card(order, confirm=False))
    assert error_code(not_confirmed) == "card_station_not_accepted"
    confirmed = loaded.post(path, card(order, confirm=True))
    assert confirmed.status_code == 200, confirmed.text
    paid = confirmed.json()
    assert paid["status"] == "issued"
    assert paid["payment"]["method"] == "card" and paid["payment"]["acquirer"] == "ICBC"
    assert paid["payment"]["card_masked"] == "622848******1234"


@pytest.mark.parametrize(
    ("frm", "to", "channel", "station", "method"),
    [
        ("VNP", "TIP", "tvm", "DIP", "card"),  # VNP takes card refunds
        ("TIP", "JGK", "tvm", "TIP", "card"),  # the TVM's own station
        ("TIP", "JGK", "tvm", "DIP", "cash"),  # the rule is about cards only
        ("TIP", "JGK", "window", "DIP", "card"),  # and about TVMs only
    ],
)
def test_card_rule_does_not_apply(
    loaded: Api, frm: str, to: str, channel: str, station: str, method: str
) -> None:
    order = hold(loaded, order_body(frm, to, channel=channel, station=station))
    if method == "card":
        body = card(order)
    else:
        body = {"method": "cash", "amount_fen": order["total_fen"], "reference": "C"}
    paid = loaded.post(f"/v1/orders/{order['order_id']}/pay", body)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "issued"
