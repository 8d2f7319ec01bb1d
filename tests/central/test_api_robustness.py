"""No input makes central answer 500, every refusal has the one error shape, and a
refused request changes nothing in the store: on SQLite and on PostgreSQL.

Hypothesis throws random JSON, mutated valid bodies (control characters and NUL
in text included), random path and query parameters, wrong content types,
invalid UTF-8 and random headers at every route of the in-process app. After
each request the store (read directly from the database) and the inventory the
server shows (quotas, availability) are compared with what they were before; a
request answered 4xx must change neither.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import OPERATOR_TOKEN, Api, FakeClock, demo_runs, device_token, tiny_run
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from server_fixtures import store_database
from sqlalchemy import Engine, create_engine, func, select

from central.api.app import create_app
from central.settings import CentralSettings
from central.store import tables as t
from protocol.timetable import TrainRunSpec

RUNS = demo_runs()
G = RUNS[0]
LOADED = {(run["train"], run["date"]) for run in RUNS}
STOPS_OF = {(run["train"], run["date"]): [s["station"] for s in run["stops"]] for run in RUNS}
INT64_MAX = 2**63 - 1

FUZZ = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ----------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**31), max_value=2**31)
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**400])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "G111", "2026-12-01", "VNP", "ZE", "COMMON-ZE", "\x00", "💥" * 5])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
# path segments: anything, including '/', '%', NUL and non-ASCII, percent-encoded
path_text = st.text(max_size=40).map(lambda s: quote(s, safe=""))
query_text = st.text(max_size=30) | st.sampled_from(["G111", "2026-12-01", "VNP", "-1", "1e9"])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


PLAUSIBLE_TEXT = st.sampled_from(
    [
        *("G111", "K51", "D5461", "G9999", "2026-12-01", "2026-12-02", "1999-01-01"),
        *("VNP", "TIP", "JGK", "UUH", "NKH", "AOH", "BJP", "XYZ", "ZE", "ZY", "SW", "YZ"),
        *("COMMON-ZE", "COMMON-ZY", "jinan_ze", "origin_sw", "PA-ZE-JGK", "tvm", "window"),
        *("internet", "gate", "card", "cash", "ICBC", "622848******1234", "6228480012341234"),
        *("110101199001011234", "station", "common", "origin", "route", "group", "none"),
        *("2026-12-01T07:00:00+08:00", "2026-12-01T07:00:00", "", " "),
        # PostgreSQL refuses NUL in text: every text field must refuse controls first
        *("\x00", "旅客\x00", "R\x00", "line\nbreak", "tab\t", "\x85", "\x7f", "\u3000"),
    ]
)


def replacement(old: Any) -> st.SearchStrategy[Any]:
    """A value to put where ``old`` was: often of the same kind, sometimes anything."""
    if isinstance(old, bool):
        return st.booleans() | json_values
    if isinstance(old, int):
        return st.integers(-3, 300) | st.integers(-(10**30), 10**30) | json_values
    if isinstance(old, str):
        return PLAUSIBLE_TEXT | st.text(max_size=20) | json_values
    return json_values


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """A valid body with one to three of its nodes replaced, deleted or padded."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from([p for p in _paths(body) if p]))
        parent = body
        for part in where[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "extra"]))
        if action == "delete":
            del parent[where[-1]]
        elif action == "extra" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | PLAUSIBLE_TEXT)] = draw(json_values)
        else:
            parent[where[-1]] = draw(replacement(parent[where[-1]]))
        if not isinstance(body, dict | list) or not body:
            break
    return body


@st.composite
def retargeted(draw: st.DrawFn, base: Any) -> Any:
    """A valid body with one or two leaves swapped for a plausible value of their kind:
    another train, station, class, quota, amount ... so refusals come from deep inside."""
    body = copy.deepcopy(base)
    leaves = [p for p in _paths(body) if p and not isinstance(_at(body, p), dict | list)]
    for where in draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=2, unique=True)):
        old = _at(body, where)
        if isinstance(old, bool):
            new: Any = draw(st.booleans())
        elif isinstance(old, int):
            new = draw(st.integers(-3, 300) | st.sampled_from([0, 2**31, 2**63, 10**30]))
        else:
            new = draw(PLAUSIBLE_TEXT)
        _at(body, where[:-1])[where[-1]] = new
    return body


def _at(node: Any, where: tuple[Any, ...]) -> Any:
    for part in where:
        node = node[part]
    return node


def bodies(base: Any) -> st.SearchStrategy[Any]:
    """Random JSON, a valid body broken in a few places, or one aimed at a wrong target."""
    return json_values | mutated(base) | retargeted(base)


def run_paths(suffix: str) -> st.SearchStrategy[str]:
    """``/v1/train-runs/{train}/{date}/<suffix>`` for a loaded run or random text."""
    real = st.sampled_from(sorted(LOADED))
    fake = st.tuples(path_text, path_text)
    return (real | fake).map(lambda td: f"/v1/train-runs/{td[0]}/{td[1]}/{suffix}")


# ----------------------------------------------------------------- the server under test


@dataclass
class Server:
    """One app for the whole module, with orders and tickets to aim at."""

    api: Api
    engine: Engine
    held_for_pay: dict[str, Any]
    held_for_cancel: str
    ticket_for_refund: str
    ticket_for_change: dict[str, Any]
    gate_token: str
    last: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        """What a refused request must not change: store rows and the served inventory."""
        with self.engine.connect() as conn:

            def rows(query: Any) -> list[tuple[Any, ...]]:
                return [tuple(row) for row in conn.execute(query)]

            state: dict[str, Any] = {
                "runs": rows(
                    select(
                        t.train_runs.c.run_id,
                        t.train_runs.c.train,
                        t.run_versions.c.version,
                        t.run_versions.c.quota_version,
                        t.train_runs.c.preallocated_at,
                        t.train_runs.c.released_at,
                    )
                    .join_from(t.train_runs, t.run_versions)
                    .order_by(t.train_runs.c.run_id)
                ),
                "quotas": rows(select(t.quotas).order_by(t.quotas.c.run_id, t.quotas.c.quota_id)),
                "seats": rows(
                    select(
                        t.seats.c.run_id,
                        t.seats.c.seat_no,
                        t.seats.c.quota_id,
                        t.seats.c.sold,
                        t.seats.c.blocked,
                    ).order_by(t.seats.c.run_id, t.seats.c.seat_no)
                ),
                "standing": rows(
                    select(t.standing).order_by(t.standing.c.run_id, t.standing.c.seat_class)
                ),
                "orders": rows(
                    select(t.orders.c.order_id, t.orders.c.status).order_by(t.orders.c.order_id)
                ),
                "tickets": rows(
                    select(t.tickets.c.ticket_id, t.tickets.c.status, t.tickets.c.seat_no).order_by(
                        t.tickets.c.seq
                    )
                ),
                "audit": conn.execute(select(func.count()).select_from(t.audit)).scalar_one(),
                "events": conn.execute(
                    select(func.count()).select_from(t.ticket_events)
                ).scalar_one(),
                "devices": rows(select(t.devices.c.device_id).order_by(t.devices.c.device_id)),
            }
        for train, date in sorted(LOADED):
            stops = STOPS_OF[(train, date)]
            served = self.api.get(f"/v1/train-runs/{train}/{date}/quotas")
            assert served.status_code == 200, served.text
            state[f"served quotas {train}"] = served.json()
            params = {"train": train, "date": date, "from": stops[0], "to": stops[-1]}
            left = self.api.get("/v1/availability", params=params)
            assert left.status_code == 200, left.text
            state[f"availability {train}"] = left.json()
        return state


STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=STORES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("robustness")
    with store_database(request.param, tmp) as url:
        yield from _serve(url, tmp)


def _serve(url: str, tmp: Path) -> Iterator[Server]:
    config = CentralSettings(
        database_url=url,
        operator_token=OPERATOR_TOKEN,
        keys_dir=str(tmp / "keys"),
        card_stations=["VNP"],
        housekeeping_seconds=3600,
    )
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    with TestClient(create_app(config, clock), raise_server_exceptions=False) as client:
        api = Api(client)
        for run in RUNS:
            assert api.post("/v1/train-runs", run).status_code == 201
        orders = [_hold(api, n) for n in range(4)]
        for order in orders[2:]:
            paid = api.post(
                f"/v1/orders/{order['order_id']}/pay",
                {"method": "cash", "amount_fen": order["total_fen"], "reference": "R"},
            )
            assert paid.status_code == 200, paid.text
        engine = create_engine(config.database_url)
        change_ticket = {
            "ticket_id": orders[3]["tickets"][0]["ticket_id"],
            "id_number": _id_number(3),
        }
        srv = Server(
            api=api,
            engine=engine,
            held_for_pay=orders[0],
            held_for_cancel=orders[1]["order_id"],
            ticket_for_refund=orders[2]["tickets"][0]["ticket_id"],
            ticket_for_change=change_ticket,
            gate_token=device_token(api, "gate-fuzz", "gate", "VNP"),
        )
        srv.last = srv.snapshot()
        yield srv
        engine.dispose()


def _id_number(n: int) -> str:
    return f"44010619880808{n:04d}"


def _hold(api: Api, n: int) -> dict[str, Any]:
    body = {
        "train": G["train"],
        "date": G["date"],
        "from": "VNP",
        "to": "JGK",
        "class": "ZE",
        "channel": "internet",
        "passengers": [{"name": f"旅客{n}", "id_number": _id_number(n)}],
    }
    response = api.post("/v1/orders", body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


# ----------------------------------------------------------------- the checks


def assert_error_shape(response: Any) -> None:
    """Below 500; from 400 on, exactly ``{"error": {"code", "message"}}`` with strings."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), response.headers
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error"}, body
        error = body["error"]
        assert isinstance(error, dict) and set(error) == {"code", "message"}, body
        assert isinstance(error["code"], str) and error["code"], body
        assert isinstance(error["message"], str), body


def exchange(server: Server, send: Callable[[], Any]) -> Any:
    """Send one request; check its answer and that a refusal changed nothing."""
    response = send()
    assert_error_shape(response)
    after = server.snapshot()
    if response.status_code >= 400:
        for part, value in server.last.items():
            assert after[part] == value, (
                f"{part} changed after a refused request: {response.status_code} {response.text}"
            )
    server.last = after
    return response


def post_json(server: Server, path: str, body: Any, **headers: str) -> Any:
    """POST ``body`` as JSON text (NaN and Infinity allowed, as Python writes them)."""
    all_headers = {
        **server.api.auth,
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/json",
        **headers,
    }
    return server.api.client.post(path, content=json.dumps(body).encode(), headers=all_headers)


# ----------------------------------------------------------------- known server bugs


def _valid(model: Any, body: Any) -> Any:
    try:
        return model.model_validate(body)
    except (ValidationError, ValueError, TypeError, RecursionError):
        return None


def _run_of(path: str) -> tuple[str, str] | None:
    parts = path.split("/")
    if len(parts) >= 5 and (parts[3], parts[4]) in LOADED:
        return parts[3], parts[4]
    return None


def _timetable_overflows(spec: TrainRunSpec) -> bool:
    """Numbers or times the store cannot hold (see test_out_of_range_timetable_*)."""
    if any(n > INT64_MAX for n in spec.standing.values()):
        return True
    try:
        for stop in spec.stops:
            for moment in (stop.arrive, stop.depart):
                if moment is not None:
                    moment.astimezone(UTC)
        first = spec.stops[0].depart or spec.stops[0].arrive
        assert first is not None
        first - timedelta(days=spec.preallocation.opens_days_before)
        first - timedelta(minutes=spec.preallocation.release_minutes_before)
    except (OverflowError, ValueError):
        return True
    return False


def fuzz_post(server: Server, path: str, body: Any) -> Any:
    return exchange(server, lambda: post_json(server, path, body))


# ----------------------------------------------------------------- POST routes

ORDER = {
    "train": G["train"],
    "date": G["date"],
    "from": "TIP",
    "to": "DIP",
    "class": "ZY",
    "channel": "tvm",
    "station": "TIP",
    "passengers": [{"name": "旅客", "id_number": "110101199001019999"}],
}
TIMETABLE = tiny_run(
    coaches=[{"coach": 1, "class": "ZE", "seats": 4}],
    reuse={"enabled": True, "no_reuse_stations": [], "max_splits": 1},
    quotas=[{"quota": "q1", "class": "ZE", "seats": 1, "purpose": "station", "station": "BBB"}],
    preallocation={"share_percent": 30, "opens_days_before": 15, "release_minutes_before": 60},
)
ADJUSTMENT = {"from_quota": "COMMON-ZE", "to_quota": "jinan_ze", "seats": 1, "reason": "r"}
NEW_QUOTA_ADJUSTMENT = {
    **ADJUSTMENT,
    "to_quota": "fresh",
    "new_quota": {"quota": "fresh", "class": "ZE", "seats": 1, "purpose": "common"},
}
STANDING = {"class": "ZE", "capacity": 5, "reason": "r"}
FORECAST = {"forecast": [{"from": "VNP", "to": "JGK", "class": "ZE", "passengers": 5}]}
DEVICE = {"device_id": "gate-x", "kind": "gate", "station": "VNP"}
CHANGE = {
    "train": G["train"],
    "date": G["date"],
    "from": "VNP",
    "to": "TIP",
    "class": "ZE",
    "id_number": _id_number(3),
}


@FUZZ
@given(body=bodies(ORDER))
def test_orders(server: Server, body: Any) -> None:
    fuzz_post(server, "/v1/orders", body)


@FUZZ
@given(data=st.data())
def test_pay(server: Server, data: st.DataObject) -> None:
    order = server.held_for_pay
    base = {"method": "cash", "amount_fen": order["total_fen"], "reference": "R"}
    order_id = data.draw(st.just(order["order_id"]) | path_text)
    fuzz_post(server, f"/v1/orders/{order_id}/pay", data.draw(bodies(base)))


@FUZZ
@given(data=st.data())
def test_cancel(server: Server, data: st.DataObject) -> None:
    order_id = data.draw(path_text | st.just(server.held_for_cancel))
    fuzz_post(server, f"/v1/orders/{order_id}/cancel", data.draw(json_values))


@FUZZ
@given(data=st.data())
def test_refund(server: Server, data: st.DataObject) -> None:
    ticket_id = data.draw(path_text | st.just(server.ticket_for_refund))
    fuzz_post(server, f"/v1/tickets/{ticket_id}/refund", data.draw(json_values))


@FUZZ
@given(data=st.data())
def test_change(server: Server, data: st.DataObject) -> None:
    ticket_id = data.draw(path_text | st.just(server.ticket_for_change["ticket_id"]))
    fuzz_post(server, f"/v1/tickets/{ticket_id}/change", data.draw(bodies(CHANGE)))


@FUZZ
@given(body=bodies(TIMETABLE) | mutated(G))
def test_train_runs(server: Server, body: Any) -> None:
    fuzz_post(server, "/v1/train-runs", body)


@FUZZ
@given(path=run_paths("adjustments"), body=bodies(ADJUSTMENT) | mutated(NEW_QUOTA_ADJUSTMENT))
def test_adjustments(server: Server, path: str, body: Any) -> None:
    fuzz_post(server, path, body)


@FUZZ
@given(path=run_paths("standing"), body=bodies(STANDING))
def test_standing(server: Server, path: str, body: Any) -> None:
    fuzz_post(server, path, body)


@FUZZ
@given(path=run_paths("preallocation"), body=bodies(FORECAST))
def test_preallocation(server: Server, path: str, body: Any) -> None:
    fuzz_post(server, path, body)


@FUZZ
@given(path=run_paths("release"), body=json_values)
def test_release(server: Server, path: str, body: Any) -> None:
    fuzz_post(server, path, body)


@FUZZ
@given(body=bodies(DEVICE))
def test_devices(server: Server, body: Any) -> None:
    fuzz_post(server, "/v1/devices", body)


ENROLMENT = {"enrolment_code": "ABCD-EFGH", "credential_hash": "0" * 64}
PASSAGES = {
    "passages": [
        {
            "passage_id": "00000000-0000-4000-8000-000000000000",
            "ticket_id": "0123456789abcdef",
            "direction": "entry",
            "kind": "refused",
            "reason": "malformed",
            "at": "2026-11-25T12:00:00+08:00",
            "mode": "normal",
            "detail": {"scan": "W50E\r\n", "tries": 2, "nested": [1.5, None, True]},
        }
    ],
    "counts": [
        {
            "slot_start": "2026-11-25T12:00:00+08:00",
            "slot_minutes": 15,
            "direction": "entry",
            "kind": "refused",
            "count": 1,
        }
    ],
}


@FUZZ
@given(body=bodies(ENROLMENT))
def test_enrolments(server: Server, body: Any) -> None:
    fuzz_post(server, "/v1/enrolments", body)


@FUZZ
@given(body=bodies(PASSAGES))
def test_passages(server: Server, body: Any) -> None:
    gate = {"Authorization": f"Bearer {server.gate_token}"}
    response = exchange(server, lambda: post_json(server, "/v1/passages", body, **gate))
    assert response.status_code in (200, 400, 422), response.text


# ----------------------------------------------------------------- GET routes
# Reads never change the store, so the store is compared once around each whole run.


def get_checked(server: Server, path: str, params: dict[str, Any] | None = None) -> Any:
    response = server.api.get(path, params=params)
    assert_error_shape(response)
    return response


def reads_change_nothing(server: Server, fuzz: Callable[[], None]) -> None:
    before = server.snapshot()
    fuzz()
    assert server.snapshot() == before


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return strategy | query_text | st.integers(-(10**30), 10**30)


def test_availability(server: Server) -> None:
    @FUZZ
    @given(
        train=maybe(st.sampled_from(["G111", "K51", "G9999"])),
        date=maybe(st.sampled_from(["2026-12-01", "2026-02-30", "0000-01-01"])),
        frm=maybe(st.sampled_from(["VNP", "JGK", "AOH", "BJP", "vnp"])),
        to=maybe(st.sampled_from(["AOH", "TIP", "VNP", "SHH"])),
        station=st.none() | maybe(st.sampled_from(["JGK", "ZZZ"])),
    )
    def fuzz(train: Any, date: Any, frm: Any, to: Any, station: Any) -> None:
        params = {"train": train, "date": date, "from": frm, "to": to}
        if station is not None:
            params["station"] = station
        get_checked(server, "/v1/availability", params)

    reads_change_nothing(server, fuzz)


def test_order_and_ticket_lookups(server: Server) -> None:
    @FUZZ
    @given(order_id=path_text, ticket_id=path_text)
    def fuzz(order_id: str, ticket_id: str) -> None:
        get_checked(server, f"/v1/orders/{order_id}")
        get_checked(server, f"/v1/tickets/{ticket_id}")

    reads_change_nothing(server, fuzz)


def test_quotas_and_od_matrix(server: Server) -> None:
    @FUZZ
    @given(path=run_paths("quotas") | run_paths("od-matrix"), station=st.none() | query_text)
    def fuzz(path: str, station: str | None) -> None:
        get_checked(server, path, None if station is None else {"station": station})

    reads_change_nothing(server, fuzz)


def test_stats(server: Server) -> None:
    @FUZZ
    @given(
        date_from=st.none() | maybe(st.just("2026-11-01")),
        date_to=st.none() | maybe(st.just("2026-12-31")),
        train=st.none() | maybe(st.just("G111")),
    )
    def fuzz(date_from: Any, date_to: Any, train: Any) -> None:
        params = {"date_from": date_from, "date_to": date_to, "train": train}
        get_checked(server, "/v1/stats/sales", {k: v for k, v in params.items() if v is not None})

    reads_change_nothing(server, fuzz)


def test_audit_and_run_list(server: Server) -> None:
    @FUZZ
    @given(limit=st.none() | maybe(st.integers(1, 1000)), date=st.none() | query_text)
    def fuzz(limit: Any, date: Any) -> None:
        get_checked(server, "/v1/audit", None if limit is None else {"limit": limit})
        get_checked(server, "/v1/train-runs", None if date is None else {"date": date})

    reads_change_nothing(server, fuzz)


def test_station_feed_and_keys(server: Server) -> None:
    @FUZZ
    @given(station=path_text | st.just("VNP"), cursor=maybe(st.just(0)), limit=maybe(st.just(10)))
    def fuzz(station: str, cursor: Any, limit: Any) -> None:
        get_checked(server, f"/v1/stations/{station}/feed", {"cursor": cursor, "limit": limit})
        assert get_checked(server, "/v1/keys").status_code == 200

    reads_change_nothing(server, fuzz)


# ----------------------------------------------------------------- raw bodies and headers

POST_PATHS = [
    "/v1/orders",
    "/v1/train-runs",
    "/v1/devices",
    "/v1/orders/00000000/pay",
    "/v1/orders/00000000/cancel",
    "/v1/tickets/0000000000000000/refund",
    "/v1/tickets/0000000000000000/change",
    "/v1/train-runs/G111/2026-12-01/adjustments",
    "/v1/train-runs/G111/2026-12-01/standing",
    "/v1/train-runs/G111/2026-12-01/preallocation",
    "/v1/train-runs/G111/2026-12-01/release",
    "/v1/enrolments",
    "/v1/passages",
    "/v1/devices/gate-x/revoke",
]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/octet-stream",
    "*/*",
]
raw_bodies = (
    st.binary(max_size=200)
    | st.sampled_from(
        [
            b"",
            b"\xff\xfe\xfd",
            b'{"train": "\xc3\x28"}',
            b'{"train": "G111", "date": "\xed\xa0\x80"}',
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b"1" * 5000,
            b"null",
            b"NaN",
            b'{"seats": 1e999}',
        ]
    )
    | json_values.map(lambda v: json.dumps(v).encode("utf-16"))
)


@FUZZ
@given(path=st.sampled_from(POST_PATHS), content=raw_bodies, ctype=st.sampled_from(CONTENT_TYPES))
def test_raw_bodies_and_content_types(
    server: Server, path: str, content: bytes, ctype: str | None
) -> None:
    headers = {**server.api.auth, "Idempotency-Key": uuid.uuid4().hex}
    if ctype is not None:
        headers["Content-Type"] = ctype
    exchange(server, lambda: server.api.client.post(path, content=content, headers=headers))


header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=200
)


@FUZZ
@given(
    path=st.sampled_from(POST_PATHS),
    key=st.none() | header_text,
    auth=st.none() | header_text | header_text.map(lambda s: f"Bearer {s}"),
    body=json_values,
)
def test_random_headers(
    server: Server, path: str, key: str | None, auth: str | None, body: Any
) -> None:
    headers: dict[str, bytes] = {"Content-Type": b"application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key.encode("latin-1")
    if auth is not None:
        headers["Authorization"] = auth.encode("latin-1")
    content = json.dumps(body).encode()
    response = exchange(
        server, lambda: server.api.client.post(path, content=content, headers=headers)
    )
    if auth is None or auth.strip() != f"Bearer {OPERATOR_TOKEN}":
        assert response.status_code in (400, 401, 404, 405, 422), response.text


@FUZZ
@given(
    method=st.sampled_from(["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]),
    path=st.sampled_from([*POST_PATHS, "/v1/keys", "/v1/availability", "/nowhere"]),
)
def test_wrong_methods(server: Server, method: str, path: str) -> None:
    response = exchange(server, lambda: server.api.client.request(method, path))
    assert response.status_code in (404, 405)
    if response.status_code == 405:  # the methods the path has, e.g. "GET, POST"
        assert method not in response.headers["allow"] and response.headers["allow"]


# ----------------------------------------------------------------- OpenAPI

CONTRACT = {
    "/v1/train-runs": {"get", "post"},
    "/v1/availability": {"get"},
    "/v1/orders": {"post"},
    "/v1/orders/{order_id}": {"get"},
    "/v1/orders/{order_id}/pay": {"post"},
    "/v1/orders/{order_id}/cancel": {"post"},
    "/v1/tickets/{ticket_id}": {"get"},
    "/v1/tickets/{ticket_id}/refund": {"post"},
    "/v1/tickets/{ticket_id}/change": {"post"},
    "/v1/keys": {"get"},
    "/v1/train-runs/{train}/{date}/quotas": {"get"},
    "/v1/train-runs/{train}/{date}/od-matrix": {"get"},
    "/v1/train-runs/{train}/{date}/adjustments": {"post"},
    "/v1/train-runs/{train}/{date}/standing": {"post"},
    "/v1/train-runs/{train}/{date}/preallocation": {"post"},
    "/v1/train-runs/{train}/{date}/release": {"post"},
    "/v1/stats/sales": {"get"},
    "/v1/audit": {"get"},
    "/v1/devices": {"post"},
    "/v1/stations/{station}/feed": {"get"},
    "/v1/enrolments": {"post"},
    "/v1/passages": {"post"},
    "/v1/units/me": {"get"},
    "/v1/devices/{device_id}/revoke": {"post"},
    "/v1/anomalies": {"get"},
}


def test_openapi_lists_the_contract(server: Server) -> None:
    response = server.api.client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    for path, methods in CONTRACT.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
    order = spec["paths"]["/v1/orders"]["post"]
    assert "201" in order["responses"] and "409" in order["responses"]
    schemas = spec["components"]["schemas"]
    assert {"OrderRequest", "OrderView", "ErrorResponse", "TrainRunSpec"} <= set(schemas)


# ----------------------------------------------------------------- pinned server bugs


@pytest.fixture
def fresh(settings: CentralSettings, clock: FakeClock) -> Iterator[Api]:
    """The demo timetable on a fresh store, 500s answered instead of raised."""
    with TestClient(create_app(settings, clock), raise_server_exceptions=False) as client:
        api = Api(client)
        for run in RUNS:
            assert api.post("/v1/train-runs", run).status_code == 201
        yield api


def test_huge_standing_capacity_is_refused_not_500(fresh: Api) -> None:
    path = "/v1/train-runs/D5461/2026-12-01/standing"
    for capacity in (2**63, 10**30):
        response = fresh.post(path, {"class": "ZE", "capacity": capacity, "reason": "x"})
        assert_error_shape(response)
        assert response.status_code == 422


def _moved(run: dict[str, Any], train: str, edit: Callable[[dict[str, Any]], None]) -> Any:
    spec = copy.deepcopy(run)
    spec["train"] = train
    edit(spec)
    return spec


def _set_times(spec: dict[str, Any], date: str, moment: str) -> None:
    spec["date"] = date
    for stop in spec["stops"]:
        for name in ("arrive", "depart"):
            if name in stop:
                stop[name] = moment


def _last_km(spec: dict[str, Any]) -> None:
    spec["stops"][-1]["km"] = 10**19


def _fare(spec: dict[str, Any]) -> None:
    spec["fares"]["ZE"] = 10**25


def _standing(spec: dict[str, Any]) -> None:
    spec["standing"] = {"ZE": 10**20}


def _opens(spec: dict[str, Any]) -> None:
    spec["preallocation"] = {"opens_days_before": 10**12}


def _release(spec: dict[str, Any]) -> None:
    spec["preallocation"] = {"release_minutes_before": 10**15}


def _year_one(spec: dict[str, Any]) -> None:
    _set_times(spec, "0001-01-01", "0001-01-01T00:01:00+23:59")


def _year_9999(spec: dict[str, Any]) -> None:
    _set_times(spec, "9999-12-31", "9999-12-31T23:59:00-23:59")


def _past_token_range(spec: dict[str, Any]) -> None:
    for stop in spec["stops"]:
        for name in ("arrive", "depart"):
            if name in stop:
                stop[name] = "2190" + stop[name][4:]
    spec["date"] = "2190" + spec["date"][4:]


@pytest.mark.parametrize(
    "edit",
    [_last_km, _fare, _standing, _opens, _release, _year_one, _year_9999, _past_token_range],
)
def test_out_of_range_timetable_is_refused_or_served(
    fresh: Api, edit: Callable[[dict[str, Any]], None]
) -> None:
    spec = _moved(RUNS[2], "D9", edit)  # D5461: NJH .. SHH, classes RZ and ZE
    loaded = fresh.post("/v1/train-runs", spec)
    assert_error_shape(loaded)
    if loaded.status_code != 201:
        assert loaded.status_code == 422
        return
    params = {"train": "D9", "date": spec["date"], "from": "NJH", "to": "SHH"}
    assert_error_shape(fresh.get("/v1/availability", params=params))
    body = {
        **{k: params[k] for k in ("train", "date", "from", "to")},
        "class": "ZE",
        "channel": "internet",
        "passengers": [{"name": "甲", "id_number": "1234"}],
    }
    held = fresh.post("/v1/orders", body)
    assert_error_shape(held)
    if held.status_code == 201:
        order = held.json()
        paid = fresh.post(
            f"/v1/orders/{order['order_id']}/pay",
            {"method": "cash", "amount_fen": order["total_fen"], "reference": "R"},
        )
        assert_error_shape(paid)


def test_paying_an_expired_order_expires_it_in_the_store(
    fresh: Api, clock: FakeClock, settings: CentralSettings
) -> None:
    params = {"train": G["train"], "date": G["date"], "from": "VNP", "to": "AOH"}
    body = {
        **{k: params[k] for k in ("train", "date", "from", "to")},
        "class": "SW",
        "channel": "internet",
        "passengers": [{"name": "甲", "id_number": "1234"}],
    }
    order = fresh.post("/v1/orders", body).json()
    clock.advance(minutes=11)
    paid = fresh.post(
        f"/v1/orders/{order['order_id']}/pay",
        {"method": "cash", "amount_fen": order["total_fen"], "reference": "R"},
    )
    assert paid.status_code == 409 and paid.json()["error"]["code"] == "order_expired"
    assert fresh.get(f"/v1/orders/{order['order_id']}").json()["status"] == "expired"
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        statuses = conn.execute(select(t.tickets.c.status)).scalars().all()
    engine.dispose()
    assert statuses == ["expired"]
