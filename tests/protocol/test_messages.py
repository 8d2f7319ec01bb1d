"""API message models: the demo timetable parses, every rule rejects clearly, aliases round-trip."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from protocol.ids import SeatClass
from protocol.messages import (
    AdjustmentRequest,
    AuditRecord,
    AvailabilityClass,
    AvailabilityResponse,
    ChangeRequest,
    ChangeResponse,
    ErrorResponse,
    KeysResponse,
    OrderRequest,
    OrderView,
    PassengerSpec,
    PaymentRequest,
    PreallocationRunRequest,
    SalesStatsResponse,
    StandingAdjustmentRequest,
    TicketView,
)
from protocol.timetable import CoachSpec, QuotaSpec, Timetable, TrainRunSpec

DEMO = Path(__file__).resolve().parents[2] / "config" / "timetables" / "demo.json"
TICKET_ID = "0123456789abcdef"

Json = dict[str, Any]


def rejection(model: type[BaseModel], data: object) -> str:
    """Validate ``data`` expecting failure; return 'loc: message' lines of every error."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return "\n".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in info.value.errors()
    )


def small_run() -> Json:
    """A valid four-stop train run to break one rule at a time."""
    return {
        "train": "G1",
        "date": "2026-12-01",
        "stops": [
            {"station": "AAA", "name": "甲", "km": 0, "depart": "2026-12-01T08:00:00+08:00"},
            {
                "station": "BBB",
                "name": "乙",
                "km": 100,
                "arrive": "2026-12-01T08:30:00+08:00",
                "depart": "2026-12-01T08:32:00+08:00",
            },
            {
                "station": "CCC",
                "name": "丙",
                "km": 250,
                "arrive": "2026-12-01T09:10:00+08:00",
                "depart": "2026-12-01T09:12:00+08:00",
            },
            {"station": "DDD", "name": "丁", "km": 400, "arrive": "2026-12-01T10:00:00+08:00"},
        ],
        "coaches": [
            {"coach": 1, "class": "ZY", "seats": 20},
            {"coach": 2, "class": "ZE", "seats": 80},
        ],
        "fares": {"ZY": 74, "ZE": 46},
        "groups": {"east": ["CCC", "DDD", "XYZ"]},
        "quotas": [
            {"quota": "origin", "class": "ZE", "seats": 30, "purpose": "origin", "min_dest": "CCC"},
            {
                "quota": "bbb_ze",
                "class": "ZE",
                "seats": 10,
                "purpose": "station",
                "station": "BBB",
                "share": {"mode": "group", "group": "east"},
            },
        ],
    }


def order() -> Json:
    return {
        "train": "G1",
        "date": "2026-12-01",
        "from": "AAA",
        "to": "CCC",
        "class": "ZE",
        "passengers": [{"name": "张三", "id_number": "11010519491231002X"}],
        "channel": "tvm",
        "station": "AAA",
    }


def ticket() -> Json:
    return {
        "ticket_id": TICKET_ID,
        "passenger": "张三",
        "coach": 4,
        "seat": 12,
        "price_fen": 12350,
        "status": "issued",
        "train": "G1",
        "date": "2026-12-01",
        "from": "AAA",
        "to": "CCC",
        "class": "ZE",
    }


# ---------------------------------------------------------------- demo timetable


def test_demo_timetable_parses() -> None:
    runs = Timetable.model_validate_json(DEMO.read_bytes()).root
    assert [run.train for run in runs] == ["G111", "K51", "D5461"]
    assert all(run.date == dt.date(2026, 12, 1) for run in runs)
    high_speed, conventional, _ = runs
    assert len(high_speed.stops) >= 12
    assert set(high_speed.seats_by_class()) == {
        SeatClass.BUSINESS,
        SeatClass.FIRST,
        SeatClass.SECOND,
    }
    assert conventional.standing == {SeatClass.HARD_SEAT: 100}
    assert conventional.reuse.max_splits == 1
    assert high_speed.reuse.no_reuse_stations == ["VNP"]


def test_demo_timetable_round_trips_through_json() -> None:
    raw = json.loads(DEMO.read_text(encoding="utf-8"))
    for item in raw:
        run = TrainRunSpec.model_validate(item)
        assert TrainRunSpec.model_validate_json(run.model_dump_json()) == run


def test_timetable_rejects_a_run_loaded_twice() -> None:
    text = rejection(Timetable, [small_run(), small_run()])
    assert "[1]: G1 on 2026-12-01 is already [0]" in text


# ---------------------------------------------------------------- identifiers and times


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("train",), "g1", "train: Value error, train number must be"),
        (("stops", 1, "station"), "bbb", "stops.1.station: Value error, station code must be"),
        (("stops", 1, "name"), "   ", "stops.1.name: Value error, name must not be blank"),
        (("stops", 1, "km"), -1, "stops.1.km: Input should be greater than or equal to 0"),
        (("stops", 1, "km"), 100.5, "stops.1.km: Input should be a valid integer"),
        (
            ("stops", 1, "arrive"),
            "2026-12-01T08:30:00",
            "stops.1.arrive: Value error, datetime must",
        ),
        (("coaches", 0, "coach"), 100, "coaches.0.coach: Input should be less than or equal to 99"),
        (("coaches", 0, "seats"), 0, "coaches.0.seats: Input should be greater than or equal to 1"),
        (("coaches", 0, "class"), "XX", "coaches.0.class: Input should be"),
        (("fares", "ZE"), 0, "fares.ZE: Input should be greater than or equal to 1"),
        (("standing_policy",), "always", "standing_policy: Input should be 'when_sold_out'"),
        (("reuse",), {"max_splits": 0}, "reuse.max_splits: Input should be greater than or equal"),
        (("quotas", 0, "quota"), "has space", "quotas.0.quota: Value error, quota id must be"),
        (("quotas", 0, "purpose"), "vip", "quotas.0.purpose: Input should be 'origin'"),
        (("preallocation",), {"share_percent": 101}, "preallocation.share_percent: Input should"),
    ],
)
def test_field_rules_name_the_field(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    data = small_run()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert expected in rejection(TrainRunSpec, data)


def test_naive_datetime_message_says_how_to_fix_it() -> None:
    data = small_run()
    data["stops"][0]["depart"] = "2026-12-01T08:00:00"
    assert "must carry a timezone offset, e.g. 2026-12-01T08:00:00+08:00" in rejection(
        TrainRunSpec, data
    )


def test_unknown_request_key_is_rejected() -> None:
    data = small_run()
    data["coaches"][0]["seat"] = 3
    assert "coaches.0.seat: Extra inputs are not permitted" in rejection(TrainRunSpec, data)


# ---------------------------------------------------------------- route rules


def _stop(data: Json, index: int) -> Json:
    stop: Json = data["stops"][index]
    return stop


def _drop_stops(data: Json) -> None:
    del data["stops"][1:]
    del data["quotas"]


def _too_many_stops(data: Json) -> None:
    start = dt.datetime(2026, 12, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    stops: list[Json] = []
    for i in range(63):
        at = (start + dt.timedelta(minutes=10 * i)).isoformat()
        stops.append({"station": f"A{chr(65 + i // 26)}{chr(65 + i % 26)}", "name": "x", "km": i})
        stops[-1].update({"arrive": at} if i == 62 else {"depart": at} if i == 0 else {})
        if 0 < i < 62:
            stops[-1].update({"arrive": at, "depart": at})
    data["stops"] = stops
    data["quotas"] = []


ROUTE_CASES: list[tuple[str, Any, str]] = [
    ("one stop", _drop_stops, "stops: List should have at least 2 items"),
    ("63 stops", _too_many_stops, "stops: List should have at most 62 items"),
    (
        "first stop without depart",
        lambda d: _stop(d, 0).pop("depart"),
        "stops[0] (AAA): needs a depart time",
    ),
    (
        "middle stop without arrive",
        lambda d: _stop(d, 1).pop("arrive"),
        "stops[1] (BBB): needs an arrive time",
    ),
    (
        "middle stop without depart",
        lambda d: _stop(d, 2).pop("depart"),
        "stops[2] (CCC): needs a depart time",
    ),
    (
        "last stop with depart",
        lambda d: _stop(d, 3).update(depart="2026-12-01T10:05:00+08:00"),
        "stops[3] (DDD): the last stop must not have a depart time",
    ),
    (
        "last stop without arrive",
        lambda d: _stop(d, 3).pop("arrive"),
        "stops[3] (DDD): needs an arrive time",
    ),
    (
        "last stop with a gate group",
        lambda d: _stop(d, 3).update(gate_group="A3"),
        "stops[3] (DDD): the last stop must not have a gate group",
    ),
    (
        "gate group not a group name",
        lambda d: _stop(d, 1).update(gate_group="A 3"),
        "gate group must be 1-16 letters, digits, '_' or '-', got 'A 3'",
    ),
    ("km not from 0", lambda d: _stop(d, 0).update(km=5), "stops[0] (AAA): km must be 0"),
    (
        "km not increasing",
        lambda d: _stop(d, 2).update(km=100),
        "stops[2] (CCC): km 100 must be greater than 100 at stops[1] (BBB)",
    ),
    (
        "arrive after depart",
        lambda d: _stop(d, 1).update(arrive="2026-12-01T08:40:00+08:00"),
        "stops[1] (BBB): arrives at 2026-12-01 08:40:00+08:00 after departing",
    ),
    (
        "time going back",
        lambda d: _stop(d, 2).update(arrive="2026-12-01T08:31:00+08:00"),
        "stops[2] (CCC): arrives at 2026-12-01 08:31:00+08:00 before leaving stops[1] (BBB)",
    ),
    (
        "station twice",
        lambda d: _stop(d, 3).update(station="BBB"),
        "stops[3] (BBB): station already called at stops[1]",
    ),
    (
        "departure on another day",
        lambda d: d.update(date="2026-11-30"),
        "stops[0] (AAA): departs on 2026-12-01 but the service date is 2026-11-30",
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "expected"), ROUTE_CASES, ids=[c[0] for c in ROUTE_CASES]
)
def test_route_rules(case: str, change: Any, expected: str) -> None:
    data = small_run()
    change(data)
    assert expected in rejection(TrainRunSpec, data)


def test_a_stop_names_where_the_train_checks_in() -> None:
    data = small_run()
    _stop(data, 0)["gate_group"] = "A3"
    spec = TrainRunSpec.model_validate(data)
    assert [stop.gate_group for stop in spec.stops] == ["A3", None, None, None]


def test_stop_errors_are_located_on_stops() -> None:
    data = small_run()
    _stop(data, 0)["km"] = 5
    assert rejection(TrainRunSpec, data).startswith("stops: stops[0] (AAA)")


def test_all_route_problems_are_reported_at_once() -> None:
    data = small_run()
    _stop(data, 0)["km"] = 5
    _stop(data, 3)["station"] = "AAA"
    text = rejection(TrainRunSpec, data)
    assert "km must be 0" in text
    assert "stops[3] (AAA): station already called at stops[0]" in text


def test_first_stop_may_have_an_arrive_time() -> None:
    data = small_run()
    _stop(data, 0)["arrive"] = "2026-12-01T07:50:00+08:00"
    assert TrainRunSpec.model_validate(data).stops[0].arrive is not None


# ---------------------------------------------------------------- coaches, fares, reuse, quotas


def _quota(data: Json, index: int) -> Json:
    quota: Json = data["quotas"][index]
    return quota


CROSS_CASES: list[tuple[str, Any, str]] = [
    (
        "coach twice",
        lambda d: d["coaches"].append({"coach": 1, "class": "ZE", "seats": 10}),
        "coaches: coaches[2]: coach 1 is already coaches[0]",
    ),
    (
        "no coaches",
        lambda d: d.update(coaches=[], quotas=[]),
        "coaches: List should have at least 1",
    ),
    (
        "class without fare",
        lambda d: d["fares"].pop("ZY"),
        "fares: no fare for class ZY, which has coaches 1",
    ),
    (
        "standing class without coaches",
        lambda d: d.update(standing={"YZ": 50}),
        "standing: class YZ has no coaches on this train",
    ),
    (
        "no-reuse station not a stop",
        lambda d: d.update(reuse={"no_reuse_stations": ["AAA", "ZZZ"]}),
        "reuse.no_reuse_stations[1]: ZZZ is not a stop of this train",
    ),
    ("empty group", lambda d: d.update(groups={"east": []}), "groups.east: List should have at"),
    (
        "quota id twice",
        lambda d: _quota(d, 1).update(quota="origin"),
        "quotas[1] (origin): quota id already used by quotas[0]",
    ),
    (
        "station quota without station",
        lambda d: _quota(d, 1).pop("station"),
        "quotas.1: Value error, a quota with purpose 'station' needs a station",
    ),
    (
        "origin quota with station",
        lambda d: _quota(d, 0).update(station="AAA"),
        "quotas.0: Value error, station is only used with purpose 'station', not 'origin'",
    ),
    (
        "quota station not a stop",
        lambda d: _quota(d, 1).update(station="ZZZ"),
        "quotas[1] (bbb_ze): station ZZZ is not a stop of this train",
    ),
    (
        "quota station is the last stop",
        lambda d: _quota(d, 1).update(station="DDD"),
        "quotas[1] (bbb_ze): station DDD is the last stop; nobody boards there",
    ),
    (
        "min_dest not a stop",
        lambda d: _quota(d, 0).update(min_dest="ZZZ"),
        "quotas[0] (origin): min_dest ZZZ is not a stop of this train",
    ),
    (
        "min_dest not after the boarding stop",
        lambda d: _quota(d, 1).update(min_dest="BBB"),
        "quotas[1] (bbb_ze): min_dest BBB must come after the boarding stop",
    ),
    (
        "share group not defined",
        lambda d: _quota(d, 1).update(share={"mode": "group", "group": "west"}),
        "quotas[1] (bbb_ze): share group 'west' is not in groups (defined: east)",
    ),
    (
        "share mode group without group",
        lambda d: _quota(d, 1).update(share={"mode": "group"}),
        "quotas.1.share: Value error, share mode 'group' needs a group name",
    ),
    (
        "share mode stations without stations",
        lambda d: _quota(d, 1).update(share={"mode": "stations"}),
        "quotas.1.share: Value error, share mode 'stations' needs a non-empty stations list",
    ),
    (
        "share group with the wrong mode",
        lambda d: _quota(d, 1).update(share={"mode": "route", "group": "east"}),
        "share group is only used with mode 'group', not 'route'",
    ),
    (
        "common quota shared",
        lambda d: _quota(d, 0).update(purpose="common", share={"mode": "route"}),
        "quotas.0: Value error, a common quota is sold everywhere already",
    ),
    (
        "quotas exceed seats",
        lambda d: _quota(d, 0).update(seats=71),
        "quotas: class ZE quotas take 81 seats, the train has 80",
    ),
    (
        "quota class without coaches",
        lambda d: _quota(d, 0).update({"class": "SW"}),
        "quotas: class SW has quotas but no coaches on this train",
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "expected"), CROSS_CASES, ids=[c[0] for c in CROSS_CASES]
)
def test_cross_reference_rules(case: str, change: Any, expected: str) -> None:
    data = small_run()
    change(data)
    assert expected in rejection(TrainRunSpec, data)


def test_quota_seats_may_fill_a_class_exactly() -> None:
    data = small_run()
    _quota(data, 0)["seats"] = 70
    assert sum(q.seats for q in TrainRunSpec.model_validate(data).quotas) == 80


def test_group_members_need_not_be_stops() -> None:
    assert TrainRunSpec.model_validate(small_run()).groups["east"][-1] == "XYZ"


def test_defaults_of_a_minimal_run() -> None:
    run = TrainRunSpec.model_validate(small_run())
    assert run.reuse.enabled and run.reuse.max_splits is None
    assert run.standing_policy == "when_sold_out"
    assert run.preallocation.share_percent == 30
    assert run.preallocation.opens_days_before == 15
    assert run.preallocation.release_minutes_before == 120
    assert run.stop_index("CCC") == 2
    assert run.stop_index("ZZZ") is None


# ---------------------------------------------------------------- aliases


def test_coach_accepts_alias_and_name_and_dumps_the_alias() -> None:
    by_alias = CoachSpec.model_validate({"coach": 1, "class": "ZE", "seats": 5})
    by_name = CoachSpec(coach=1, seat_class=SeatClass.SECOND, seats=5)
    assert by_alias == by_name
    assert by_name.model_dump(mode="json") == {"coach": 1, "class": "ZE", "seats": 5}
    assert by_name.model_dump(by_alias=True, mode="json")["class"] == "ZE"


def test_order_request_round_trips_with_wire_names() -> None:
    request = OrderRequest.model_validate(order())
    assert (request.from_station, request.to_station, request.seat_class) == ("AAA", "CCC", "ZE")
    wire = json.loads(request.model_dump_json())
    assert {"from", "to", "class"} <= set(wire)
    assert OrderRequest.model_validate(wire) == request


def test_availability_response_dumps_wire_names() -> None:
    response = AvailabilityResponse(
        train="G1",
        date=dt.date(2026, 12, 1),
        from_station="AAA",
        to_station="CCC",
        classes=[
            AvailabilityClass(seat_class=SeatClass.SECOND, seats=3, standing=0, price_fen=950)
        ],
    )
    wire = response.model_dump(by_alias=True, mode="json")
    assert wire["from"] == "AAA" and wire["to"] == "CCC"
    assert wire["classes"] == [{"class": "ZE", "seats": 3, "standing": 0, "price_fen": 950}]
    assert AvailabilityResponse.model_validate(wire) == response


def test_responses_ignore_keys_added_later() -> None:
    wire = {"error": {"code": "sold_out", "message": "no seats", "hint": "try K51"}}
    assert ErrorResponse.model_validate(wire).error.code == "sold_out"


# ---------------------------------------------------------------- orders and passengers


def test_passenger_name_is_stripped_and_id_upper_cased() -> None:
    passenger = PassengerSpec.model_validate({"name": " 张三 ", "id_number": "11010519491231002x"})
    assert passenger.name == "张三"
    assert passenger.id_number == "11010519491231002X"


def test_blank_passenger_name_is_rejected() -> None:
    text = rejection(PassengerSpec, {"name": "   ", "id_number": "A1234567"})
    assert "name: Value error, name must not be blank" in text


def test_bad_id_number_is_rejected_without_echoing_it() -> None:
    data = {"name": "李四", "id_number": "110105-19491231002X"}
    expected = "id_number: Value error, id_number must be 4-32 letters and digits"
    assert expected in rejection(PassengerSpec, data)
    for model, body in ((PassengerSpec, data), (OrderRequest, {**order(), "passengers": [data]})):
        with pytest.raises(ValidationError) as info:
            model.model_validate(body)
        assert "19491231002X" not in str(info.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"passengers": []}, "passengers: List should have at least 1 item"),
        (
            {"passengers": [{"name": f"p{i}", "id_number": f"ID{i:04d}"} for i in range(6)]},
            "passengers: List should have at most 5 items",
        ),
        ({"station": None}, "station (the selling station) is required for channel 'tvm'"),
        ({"to": "AAA"}, "from and to are both AAA"),
        ({"channel": "fax"}, "channel: Input should be 'window'"),
        (
            {
                "passengers": [
                    {"name": "a", "id_number": "ab12"},
                    {"name": "b", "id_number": "AB12"},
                ]
            },
            "passengers[1]: same ID number as passengers[0]",
        ),
    ],
)
def test_order_rules(change: Json, expected: str) -> None:
    assert expected in rejection(OrderRequest, {**order(), **change})


def test_internet_order_needs_no_station() -> None:
    assert OrderRequest.model_validate({**order(), "channel": "internet", "station": None})


def test_change_request_is_a_journey() -> None:
    journey = {k: v for k, v in order().items() if k in {"train", "date", "from", "to", "class"}}
    journey["id_number"] = "110101199001010000"  # the holder proves the ticket is theirs
    assert ChangeRequest.model_validate(journey).to_station == "CCC"
    assert "passengers: Extra inputs" in rejection(ChangeRequest, {**journey, "passengers": []})
    del journey["id_number"]
    assert "id_number" in rejection(ChangeRequest, journey)


# ---------------------------------------------------------------- payment


def card_payment() -> Json:
    return {
        "method": "card",
        "amount_fen": 12350,
        "reference": "POS-000123",
        "acquirer": "ICBC",
        "card_masked": "622848******1234",
    }


def test_card_payment_is_accepted() -> None:
    assert PaymentRequest.model_validate(card_payment()).card_masked == "622848******1234"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"acquirer": None}, "acquirer is required when method is 'card'"),
        ({"method": "cash"}, "card_masked is only used with method 'card', not 'cash'"),
        ({"amount_fen": -1}, "amount_fen: Input should be greater than or equal to 0"),
        ({"amount_fen": 12.5}, "amount_fen: Input should be a valid integer"),
        ({"amount_fen": "12350"}, "amount_fen: Input should be a valid integer"),
        ({"reference": ""}, "reference: Value error, reference must not be blank"),
        ({"card_masked": "6228-48xx-1234"}, "card_masked must be digits with '*' masking"),
    ],
)
def test_payment_rules(change: Json, expected: str) -> None:
    assert expected in rejection(PaymentRequest, {**card_payment(), **change})


def test_full_card_number_is_refused_and_never_echoed() -> None:
    pan = "6228480402564890018"
    with pytest.raises(ValidationError) as info:
        PaymentRequest.model_validate({**card_payment(), "card_masked": pan})
    assert "card_masked shows 19 digits; at most 10 may be visible" in str(info.value)
    assert pan not in str(info.value)


# ---------------------------------------------------------------- views


def test_order_view_round_trips_through_json() -> None:
    view = OrderView.model_validate(
        {
            "order_id": "a" * 24,
            "status": "issued",
            "expires_at": "2026-12-01T08:10:00+08:00",
            "tickets": [ticket()],
            "total_fen": 12350,
            "payment": {**card_payment(), "paid_at": "2026-12-01T08:05:00+08:00"},
        }
    )
    assert view.tickets[0].remote is False
    assert OrderView.model_validate_json(view.model_dump_json()) == view
    assert json.loads(view.model_dump_json())["tickets"][0]["class"] == "ZE"


def test_order_view_rejects_naive_expiry_and_unknown_status() -> None:
    data: Json = {
        "order_id": "a" * 24,
        "status": "paid",
        "expires_at": "2026-12-01T08:10:00",
        "tickets": [],
        "total_fen": 0,
    }
    text = rejection(OrderView, data)
    assert "status: Input should be 'held'" in text
    assert "expires_at: Value error, datetime must carry a timezone offset" in text


def test_ticket_ids_are_checked() -> None:
    expected = "ticket_id: Value error, ticket id must be 16 lower-case hex digits"
    assert expected in rejection(TicketView, {**ticket(), "ticket_id": "XYZ"})
    assert "old_" + expected in rejection(
        ChangeResponse,
        {"old_ticket_id": "XYZ", "ticket": ticket(), "price_difference_fen": 0, "fee_fen": 0},
    )


def test_change_response_allows_a_negative_difference() -> None:
    change = ChangeResponse.model_validate(
        {"old_ticket_id": TICKET_ID, "ticket": ticket(), "price_difference_fen": -500, "fee_fen": 0}
    )
    assert change.price_difference_fen == -500


def test_keys_and_stats_responses_parse() -> None:
    keys = KeysResponse.model_validate(
        {"keys": [{"key_id": 1, "algorithm": "Ed25519", "public_key": "MCow"}]}
    )
    assert keys.keys[0].algorithm == "Ed25519"
    row = {"key": "AAA", "tickets": 3, "revenue_fen": -200}
    stats = SalesStatsResponse.model_validate(
        {"by_hour": [row], "by_station": [row], "by_channel": [], "by_od": []}
    )
    assert stats.by_hour[0].revenue_fen == -200


def test_audit_record_needs_an_aware_time() -> None:
    record = {"audit_id": 1, "at": "2026-12-01T08:00:00", "actor": "op1", "action": "adjust"}
    assert "at: Value error, datetime must carry a timezone offset" in rejection(
        AuditRecord, record
    )
    record["at"] = "2026-12-01T00:00:00Z"
    assert AuditRecord.model_validate(record).detail == {}


# ---------------------------------------------------------------- operator requests


def adjustment() -> Json:
    return {"from_quota": "origin", "to_quota": "bbb_ze", "seats": 5, "reason": "group booking"}


def test_adjustment_into_a_new_quota() -> None:
    new_quota = {"quota": "tour", "class": "ZE", "seats": 5, "purpose": "common"}
    request = AdjustmentRequest.model_validate(
        {**adjustment(), "to_quota": "tour", "new_quota": new_quota}
    )
    assert isinstance(request.new_quota, QuotaSpec)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"to_quota": "origin"}, "from_quota and to_quota are both 'origin'"),
        ({"seats": 0}, "seats: Input should be greater than or equal to 1"),
        ({"reason": " "}, "reason: Value error, reason must not be blank"),
        (
            {"new_quota": {"quota": "tour", "class": "ZE", "seats": 5, "purpose": "common"}},
            "new_quota.quota 'tour' must equal to_quota 'bbb_ze'",
        ),
        (
            {"new_quota": {"quota": "bbb_ze", "class": "ZE", "seats": 4, "purpose": "common"}},
            "new_quota.seats (4) must equal seats (5)",
        ),
    ],
)
def test_adjustment_rules(change: Json, expected: str) -> None:
    assert expected in rejection(AdjustmentRequest, {**adjustment(), **change})


def test_standing_adjustment_uses_the_class_alias() -> None:
    request = StandingAdjustmentRequest.model_validate(
        {"class": "YZ", "capacity": 0, "reason": "crowding"}
    )
    assert request.seat_class is SeatClass.HARD_SEAT
    assert "capacity: Input should be greater than or equal to 0" in rejection(
        StandingAdjustmentRequest, {"class": "YZ", "capacity": -1, "reason": "x"}
    )


def test_preallocation_forecast() -> None:
    assert PreallocationRunRequest.model_validate({}).forecast is None
    entry = {"from": "AAA", "to": "CCC", "class": "ZE", "passengers": 40}
    request = PreallocationRunRequest.model_validate({"forecast": [entry]})
    assert request.forecast is not None and request.forecast[0].passengers == 40
    text = rejection(PreallocationRunRequest, {"forecast": [entry, copy.deepcopy(entry)]})
    assert "forecast[1]: same from, to and class as forecast[0]" in text
    same = {**entry, "to": "AAA"}
    assert "from and to are both AAA" in rejection(PreallocationRunRequest, {"forecast": [same]})
