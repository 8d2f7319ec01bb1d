"""The synthetic timetable the benchmarks sell on.

Every run calls at the same 20 made-up stations ``AAA``..``AAT`` (a train
line, 60 km apart), has ten second-class coaches of 100 seats, and quotas
like a real train: an origin quota for long journeys, one station quota, and
the rest in the class's common quota. Trains are ``G1001``, ``G1002``, ...
leaving five minutes apart from 06:00 (+08:00). The service date is 20 days
ahead, so sales are open but the scheduled pre-allocation (15 days before
departure by default) does not start in the middle of a measurement.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from protocol.timetable import Timetable, TrainRunSpec

STOPS = 20
COACHES = 10
SEATS_PER_COACH = 100
FIRST_TRAIN = 1001
DAYS_AHEAD = 20
KM_PER_LEG = 60
LEG_MINUTES = 20
DWELL_MINUTES = 2
HEADWAY_MINUTES = 5
CHINA = dt.timezone(dt.timedelta(hours=8))
FARES_FEN_PER_KM = {"SW": 146, "ZY": 74, "ZE": 46}
# coaches of the three-class run used for the OD matrix: (class, coaches, seats per coach)
THREE_CLASS_COACHES = (("SW", 1, 30), ("ZY", 2, 60), ("ZE", 8, 100))


def station_codes(count: int = STOPS) -> list[str]:
    """Unique three-letter codes ``AAA``, ``AAB``, ... (base 26, ``A`` = 0)."""
    letters = string.ascii_uppercase
    if count > len(letters) ** 3:
        raise ValueError(f"at most {len(letters) ** 3} station codes, {count} asked")
    return [letters[n // 676] + letters[n // 26 % 26] + letters[n % 26] for n in range(count)]


def service_date(today: dt.date | None = None) -> dt.date:
    """The date every benchmark run is on: ``DAYS_AHEAD`` days after today."""
    return (today or dt.date.today()) + dt.timedelta(days=DAYS_AHEAD)


def train_numbers(runs: int) -> list[str]:
    """Train numbers ``G1001``, ``G1002``, ... of ``runs`` runs."""
    return [f"G{FIRST_TRAIN + n}" for n in range(runs)]


def stops(departure: dt.datetime, count: int = STOPS) -> list[dict[str, Any]]:
    """The stops of one run leaving the first station at ``departure``."""
    result: list[dict[str, Any]] = []
    moment = departure
    for index, code in enumerate(station_codes(count)):
        stop: dict[str, Any] = {
            "station": code,
            "name": f"Station {code}",
            "km": index * KM_PER_LEG,
        }
        if index > 0:
            moment += dt.timedelta(minutes=LEG_MINUTES)
            stop["arrive"] = moment.isoformat()
            moment += dt.timedelta(minutes=DWELL_MINUTES)
        if index < count - 1:
            stop["depart"] = moment.isoformat()
        result.append(stop)
    return result


def coaches(layout: tuple[tuple[str, int, int], ...]) -> list[dict[str, Any]]:
    """Coach list from ``(class, coaches, seats per coach)`` entries, numbered from 1."""
    numbered: list[dict[str, Any]] = []
    for seat_class, count, seats in layout:
        for _ in range(count):
            numbered.append({"coach": len(numbered) + 1, "class": seat_class, "seats": seats})
    return numbered


def quotas(codes: list[str], seat_class: str = "ZE") -> list[dict[str, Any]]:
    """An origin quota for journeys past mid-route and one station quota; the rest is common."""
    middle, station = codes[len(codes) // 2], codes[len(codes) // 3]
    return [
        {"quota": "origin_long", "class": seat_class, "seats": 150, "purpose": "origin",
         "min_dest": middle},
        {"quota": "station_ze", "class": seat_class, "seats": 80, "purpose": "station",
         "station": station, "share": {"mode": "route"}},
    ]  # fmt: skip


def train_run(
    train: str,
    date: dt.date,
    departure_minute: int = 6 * 60,
    layout: tuple[tuple[str, int, int], ...] = (("ZE", COACHES, SEATS_PER_COACH),),
) -> dict[str, Any]:
    """One run as the JSON body of ``POST /v1/train-runs`` (a timetable file entry)."""
    departure = dt.datetime.combine(date, dt.time(), CHINA)
    departure += dt.timedelta(minutes=departure_minute)
    route = stops(departure)
    classes = {seat_class for seat_class, _, _ in layout}
    return {
        "train": train,
        "date": date.isoformat(),
        "stops": route,
        "coaches": coaches(layout),
        "fares": {c: fen for c, fen in FARES_FEN_PER_KM.items() if c in classes},
        "quotas": quotas([stop["station"] for stop in route]),
    }


def timetable(runs: int, date: dt.date) -> list[dict[str, Any]]:
    """``runs`` single-class runs on ``date``, leaving ``HEADWAY_MINUTES`` apart from 06:00."""
    return [
        train_run(train, date, 6 * 60 + n * HEADWAY_MINUTES)
        for n, train in enumerate(train_numbers(runs))
    ]


def run_spec(date: dt.date, three_classes: bool = False) -> TrainRunSpec:
    """One validated run: 1,000 second-class seats, or three classes for the OD matrix."""
    layout = THREE_CLASS_COACHES if three_classes else (("ZE", COACHES, SEATS_PER_COACH),)
    return TrainRunSpec.model_validate(train_run(train_numbers(1)[0], date, layout=layout))


def validated(runs: list[dict[str, Any]]) -> list[TrainRunSpec]:
    """The runs checked as central checks a timetable file (each train and date once)."""
    return list(Timetable.model_validate(runs).root)
