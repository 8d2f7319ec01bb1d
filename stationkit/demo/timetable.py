"""The demo timetable: its runs moved to the coming service dates, and who plays what.

Stations, fares and seat counts all come from the timetable file
``config/timetables/demo.json``: it is read, moved to tomorrow and the day
after (China time), and ``choose_roles`` picks the trains, stops and classes
of each scene by their role in it (a station quota shared with a group, the
smallest class, a class with standing places, a run with pre-allocation
settings). ``Run`` wraps one loaded run with the names the story prints.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from central.operating.timetable_file import shift_run
from stationkit.demo.client import DemoError, Json

REPO = Path(__file__).resolve().parents[2]
TIMETABLE = REPO / "config" / "timetables" / "demo.json"
CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no DST: a fixed offset is exact


@dataclass(frozen=True)
class Run:
    """One train run as loaded (the shifted timetable JSON), with names for printing."""

    raw: Json

    @property
    def train(self) -> str:
        """Train number."""
        return str(self.raw["train"])

    @property
    def date(self) -> str:
        """Service date, ISO."""
        return str(self.raw["date"])

    @property
    def codes(self) -> list[str]:
        """Station codes of the stops, in order."""
        return [str(stop["station"]) for stop in self.raw["stops"]]

    @property
    def last(self) -> int:
        """Index of the last stop."""
        return len(self.raw["stops"]) - 1

    def name(self, code: str) -> str:
        """``北京南 VNP`` for a station code of this run."""
        return f"{self.chinese_name(code)} {code}"

    def chinese_name(self, code: str) -> str:
        """``北京南`` for a station code of this run, as the timetable names it."""
        names = {stop["station"]: stop["name"] for stop in self.raw["stops"]}
        return str(names.get(code, "?"))

    def od(self, a: int, b: int) -> str:
        """A journey between stop indexes for printing."""
        return f"{self.name(self.codes[a])} → {self.name(self.codes[b])}"

    def seats(self, seat_class: str) -> int:
        """Seats of a class on the train."""
        return sum(c["seats"] for c in self.raw["coaches"] if c["class"] == seat_class)

    def standing(self, seat_class: str) -> int:
        """Standing capacity of a class (0 when sold out means sold out)."""
        if self.raw.get("standing_policy") == "never":
            return 0
        return int((self.raw.get("standing") or {}).get(seat_class, 0))

    def classes_by_fare(self) -> list[str]:
        """Seat classes, dearest first."""
        fares: dict[str, int] = self.raw["fares"]
        return sorted(fares, key=lambda c: -fares[c])

    def journey(self, a: int, b: int, seat_class: str) -> Json:
        """The journey fields of an order or change request."""
        return {
            "train": self.train,
            "date": self.date,
            "from": self.codes[a],
            "to": self.codes[b],
            "class": seat_class,
        }


@dataclass(frozen=True)
class GroupQuota:
    """A station quota shared with a station group: the quota effect to show."""

    run: Run
    quota: str
    seat_class: str
    station: int  # stop index the quota is reserved for
    sharer: int  # stop index of another group member (the TVM stands there)
    outsider: int  # stop index of a station outside the group


@dataclass(frozen=True)
class Roles:
    """Which run and class plays which part of the day, chosen from the timetable."""

    group: GroupQuota
    small: tuple[Run, str]  # the smallest class without standing: sold out
    standing: tuple[Run, str]  # the smallest class with standing: seats run out
    planned: Run  # a run with pre-allocation settings


def read_runs(path: Path) -> list[Json]:
    """The raw train runs of the demo timetable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DemoError(f"cannot read the demo timetable {path}: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise DemoError(f"{path}: expected a non-empty JSON list of train runs")
    return raw


def plan_days(raw_runs: list[Json], today: dt.date | None = None) -> dict[str, list[Run]]:
    """The timetable moved to tomorrow and the day after (China time)."""
    today = today or dt.datetime.now(CHINA).date()
    days = [today + dt.timedelta(days=n) for n in (1, 2)]
    try:
        return {day.isoformat(): [Run(shift_run(raw, day)) for raw in raw_runs] for day in days}
    except ValueError as exc:
        raise DemoError(f"cannot move the demo timetable to {days[0]}: {exc}") from exc


def choose_roles(runs: list[Run]) -> Roles:
    """Pick the runs and classes of each scene from what the timetable holds."""
    group = next((g for run in runs if (g := group_quota(run)) is not None), None)
    if group is None:
        raise DemoError("the demo timetable has no station quota shared with a station group")
    pairs = [(run, c) for run in runs for c in run.classes_by_fare()]
    seated = [p for p in pairs if p[0].standing(p[1]) == 0]
    standing = [p for p in pairs if p[0].standing(p[1]) > 0]
    if not seated or not standing:
        raise DemoError("the demo timetable needs a class without and one with standing places")
    planned = [r for r in runs if r.raw.get("preallocation") and r is not group.run]
    return Roles(
        group=group,
        small=min(seated, key=lambda p: p[0].seats(p[1])),
        standing=min(standing, key=lambda p: p[0].seats(p[1])),
        planned=(planned or [group.run])[0],
    )


def group_quota(run: Run) -> GroupQuota | None:
    """The run's first station quota shared with a group that has another member."""
    codes = run.codes
    for quota in run.raw.get("quotas", []):
        share = quota.get("share") or {}
        if quota.get("purpose") != "station" or share.get("mode") != "group":
            continue
        members = run.raw.get("groups", {}).get(share.get("group"), [])
        others = [codes.index(m) for m in members if m in codes and m != quota["station"]]
        outside = [i for i, code in enumerate(codes[:-1]) if code not in members]
        if others and outside:
            return GroupQuota(
                run,
                quota["quota"],
                quota["class"],
                codes.index(quota["station"]),
                others[0],
                outside[0],
            )
    return None


def planned_class(run: Run) -> str:
    """The class pre-allocation and the adjustment work on: the one with most seats."""
    return max(run.classes_by_fare(), key=run.seats)
