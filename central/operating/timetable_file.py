"""Reading timetable files: a JSON list of train runs, optionally moved to another date.

Moving a timetable shifts every stop time by whole days, so a demo or a
template week can be loaded for any service date; the times of day stay.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocol.timetable import Timetable, TrainRunSpec


class TimetableFileError(ValueError):
    """A timetable file is unreadable or invalid; the message names file and run."""


def read_timetable(path: Path, on: date | None = None) -> list[TrainRunSpec]:
    """Parse a timetable file; with ``on``, every run is moved to that service date."""
    try:
        raw: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TimetableFileError(f"{path}: cannot read timetable: {exc}") from exc
    if not isinstance(raw, list):
        raise TimetableFileError(f"{path}: a timetable is a JSON list of train runs")
    if on is not None:
        raw = [shift_run(run, on) for run in raw]
    try:
        return list(Timetable.model_validate(raw).root)
    except ValidationError as exc:
        raise TimetableFileError(f"{path}: {exc}") from exc


def shift_run(run: dict[str, Any], on: date) -> dict[str, Any]:
    """A copy of a raw run moved to service date ``on`` (times shift by whole days)."""
    try:
        delta = on - date.fromisoformat(run["date"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TimetableFileError(f"train run without a valid date: {exc}") from exc
    stops = [
        {**stop, **{k: _shift(stop.get(k), delta) for k in ("arrive", "depart") if stop.get(k)}}
        for stop in run.get("stops", [])
    ]
    return {**run, "date": on.isoformat(), "stops": stops}


def _shift(moment: str | None, delta: timedelta) -> str | None:
    if moment is None:
        return None
    return (datetime.fromisoformat(moment) + delta).isoformat()
