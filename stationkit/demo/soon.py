"""The run the unit scenes share: the first timetable run moved to leave within the hour.

Its check-in is open, so a TVM can sell it and a gate admit its passengers.
Loaded once, on first asking; None after 23:20, when it would clash with
tomorrow's run of the same train.
"""

from __future__ import annotations

import datetime as dt

from stationkit.demo.books import Demo
from stationkit.demo.client import Json
from stationkit.demo.report import say
from stationkit.demo.timetable import CHINA, Run

LEAVES_IN = dt.timedelta(minutes=40)  # inside the gate's check-in window


def leaving_soon(demo: Demo) -> Run | None:
    """The shared run, loaded on the first call."""
    if not demo.soon_loaded:
        demo.soon = _load(demo)
        demo.soon_loaded = True
    return demo.soon


def _load(demo: Demo) -> Run | None:
    """The first timetable run moved to leave its first station ``LEAVES_IN`` from now."""
    base = demo.days[min(demo.days)][0]
    first = dt.datetime.fromisoformat(base.raw["stops"][0]["depart"])
    leaves = dt.datetime.now(CHINA).replace(second=0, microsecond=0) + LEAVES_IN
    if leaves.date().isoformat() in demo.days:  # after 23:20: it would clash with tomorrow's
        return None
    run = Run(_shifted(base.raw, leaves - first, leaves.date()))
    loaded = demo.api.post("/v1/train-runs", run.raw)
    say(
        f"loaded   {run.train} {run.date}: leaves {run.name(run.codes[0])} at {leaves:%H:%M}, "
        f"{loaded['seats']} seats (check-in open)"
    )
    return run


def _shifted(raw: Json, delta: dt.timedelta, day: dt.date) -> Json:
    def moved(moment: str | None) -> str | None:
        return None if moment is None else (dt.datetime.fromisoformat(moment) + delta).isoformat()

    stops = [
        {**stop, **{key: moved(stop.get(key)) for key in ("arrive", "depart") if stop.get(key)}}
        for stop in raw["stops"]
    ]
    return {**raw, "date": day.isoformat(), "stops": stops}
