"""The operator's scenes of the demo day, done with the operator token.

The operator loads the timetable for both service dates, registers the
selling points (a TVM where the group quota is shared, a ticket window at
the origin, an internet channel), runs pre-allocation from a supplied
origin-destination forecast, moves seats between quotas as an audited
temporary adjustment, and looks at availability at the start and end of
the day.
"""

from __future__ import annotations

import hashlib
import secrets

from stationkit.demo.books import Demo, Seller
from stationkit.demo.client import DemoError, Json
from stationkit.demo.report import availability_table, say
from stationkit.demo.timetable import Run, planned_class

ADJUST_SEATS = 10


def load_timetable(demo: Demo) -> None:
    """``POST /v1/train-runs`` for every run of every service date."""
    for date, runs in sorted(demo.days.items()):
        for run in runs:
            loaded = demo.api.post("/v1/train-runs", run.raw)
            say(
                f"loaded   {run.train} {date}: {run.od(0, run.last)}, {len(run.codes)} stops, "
                f"{loaded['seats']} seats, {len(loaded['quotas'])} quotas"
            )


def register_devices(demo: Demo) -> None:
    """A TVM where the group quota is shared, a ticket window at the origin, an internet channel."""
    group = demo.roles.group
    points = {
        "tvm": group.run.codes[group.sharer],
        "window": group.run.codes[0],
        "internet": None,
    }
    for kind, station in points.items():
        device_id = f"{kind}-{station or 'online'}".lower()
        body = {"device_id": device_id, "kind": kind, "station": station}
        registered = demo.api.post("/v1/devices", body)
        token = registered.get("token") or enrol(demo, registered["enrolment_code"])
        demo.sellers[kind] = Seller(kind, token, station)
        say(f"device   {device_id} registered: {demo.sellers[kind].label(group.run)}")


def enrol(demo: Demo, code: str) -> str:
    """Enrol as a unit does: make a token, send central only its SHA-256 with the code."""
    token = secrets.token_urlsafe(32)
    body = {"enrolment_code": code, "credential_hash": hashlib.sha256(token.encode()).hexdigest()}
    demo.api.post("/v1/enrolments", body)
    say(f"device   enrolled with its one-time code {code}")
    return token


def preallocation(demo: Demo) -> None:
    """Run pre-allocation with a supplied OD forecast; print what each station got."""
    run = demo.roles.planned
    seat_class, n = planned_class(run), run.last
    pairs = [(0, n, 60), (n // 3, 2 * n // 3, 80), (n // 2, n, 50)]
    forecast = [
        {"from": run.codes[a], "to": run.codes[b], "class": seat_class, "passengers": count}
        for a, b, count in pairs
    ]
    path = f"/v1/train-runs/{run.train}/{run.date}/preallocation"
    result = demo.api.post(path, {"forecast": forecast})
    say(f"pre-allocation {run.train} {run.date}, {seat_class} forecast of {len(pairs)} OD pairs:")
    for line in [*result["items"], *(f"moved {move}" for move in result["moves"])]:
        say(f"         {line}")


def show_quotas(demo: Demo, run: Run, seat_class: str) -> list[Json]:
    """``GET .../quotas``: one line for a class; that class's quotas."""
    quotas = demo.api.get(f"/v1/train-runs/{run.train}/{run.date}/quotas")["quotas"]
    mine = [q for q in quotas if q["class"] == seat_class]
    listed = " · ".join(
        f"{q['quota']}{'@' + q['station'] if q['purpose'] == 'station' else ''} {q['seats']}"
        for q in mine
    )
    say(f"quotas   {run.train} {seat_class}: {listed}")
    return mine


def adjustment(demo: Demo) -> None:
    """Move seats from the class's common quota to a station quota (audited)."""
    run = demo.roles.planned
    seat_class = planned_class(run)
    quotas = show_quotas(demo, run, seat_class)
    common = [q for q in quotas if q["purpose"] == "common" and q["min_dest"] is None]
    stations = [q for q in quotas if q["purpose"] == "station"]
    if not common or not stations:
        raise DemoError(f"{run.train} {seat_class} has no common and station quota to adjust")
    source, target = common[0], stations[0]
    reason = f"temporary extra demand at {run.name(target['station'])}"
    body = {
        "from_quota": source["quota"],
        "to_quota": target["quota"],
        "seats": ADJUST_SEATS,
        "reason": reason,
    }
    demo.api.post(f"/v1/train-runs/{run.train}/{run.date}/adjustments", body)
    say(f"adjust   {ADJUST_SEATS} seats {source['quota']} → {target['quota']}: {reason}")
    show_quotas(demo, run, seat_class)


def day_availability(demo: Demo) -> None:
    """Availability of every first-day run over its whole route."""
    first = sorted(demo.days)[0]
    availability_table(demo, [(run, 0, run.last) for run in demo.days[first]])
