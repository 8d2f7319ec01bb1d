"""The benchmarks' synthetic timetable is one central accepts, shaped as the issue asks."""

from __future__ import annotations

import datetime as dt
import re

from bench import workload
from central.timetable import RunInfo
from protocol.timetable import TrainRunSpec

DATE = dt.date(2026, 12, 1)


def test_timetable_has_100_valid_runs_of_20_stops_and_1000_seats() -> None:
    raw = workload.timetable(100, DATE)
    runs = workload.validated(raw)
    assert len({run.train for run in runs}) == 100
    for spec in (TrainRunSpec.model_validate(run) for run in raw):
        assert len(spec.stops) == 20
        assert spec.seats_by_class() == {"ZE": 1000}
        assert spec.stops[0].depart is not None and spec.stops[0].depart.date() == DATE
        assert spec.stops[0].depart.utcoffset() == dt.timedelta(hours=8)


def test_station_codes_are_unique_capital_triples() -> None:
    codes = workload.station_codes(700)
    assert codes[:2] == ["AAA", "AAB"] and workload.station_codes()[-1] == "AAT"
    assert len(set(codes)) == 700
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in codes)


def test_quotas_leave_a_common_quota() -> None:
    info = RunInfo(workload.run_spec(DATE))
    assignment = info.initial_assignment()
    assert {"origin_long", "station_ze", "COMMON-ZE"} == set(assignment)
    assert assignment.count("COMMON-ZE") == 1000 - 150 - 80


def test_three_class_run_for_the_matrix() -> None:
    spec = workload.run_spec(DATE, three_classes=True)
    assert set(spec.seats_by_class()) == {"SW", "ZY", "ZE"}
    assert len(spec.stops) == 20
