"""The demo's own books and the state every scene shares.

``People`` makes up passengers with well-formed ID numbers, ``Ledger`` keeps
what the demo sold and paid back (the summary checks central's statistics
against it), ``Seller`` is one registered selling point, and ``Demo`` ties
them to the HTTP client, the loaded service days and the chosen roles, with
the availability queries the scenes consult.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stationkit.demo.client import Api, DemoError, Json
from stationkit.demo.timetable import Roles, Run

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


class People:
    """Passengers with made-up but well-formed ID numbers (never printed)."""

    def __init__(self) -> None:
        self.count = 0

    def one(self, name: str | None = None) -> Json:
        """A new passenger; the ID number is unique within the demo."""
        self.count += 1
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=7 * self.count)
        body = f"110101{birth:%Y%m%d}{self.count % 1000:03d}"
        return {"name": name or f"旅客{self.count:04d}", "id_number": body + id_check(body)}

    def many(self, count: int) -> list[Json]:
        """``count`` new passengers."""
        return [self.one() for _ in range(count)]


def id_check(body: str) -> str:
    """The check character of a 17-digit Chinese resident ID body (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@dataclass
class Ledger:
    """What the demo itself sold and paid back, to check central's statistics against."""

    sold: int = 0
    refunded: int = 0
    changed: int = 0
    cancelled: int = 0
    money: Counter[str] = field(default_factory=Counter)  # net fen per channel
    tickets: Counter[str] = field(default_factory=Counter)  # valid tickets per channel
    channel_of: dict[str, str] = field(default_factory=dict)  # ticket id -> channel

    def paid(self, order: Json, channel: str) -> None:
        """An order was paid and issued."""
        self.sold += len(order["tickets"])
        self.money[channel] += order["total_fen"]
        self.tickets[channel] += len(order["tickets"])
        for ticket in order["tickets"]:
            self.channel_of[ticket["ticket_id"]] = channel

    def refund(self, ticket_id: str, refund_fen: int) -> None:
        """A ticket was refunded; ``refund_fen`` went back to the passenger."""
        channel = self.channel_of[ticket_id]
        self.refunded += 1
        self.money[channel] -= refund_fen
        self.tickets[channel] -= 1

    def change(self, old_id: str, new_id: str, difference: int, fee: int) -> None:
        """A ticket was changed: the passenger paid the difference, or got it back less fee."""
        channel = self.channel_of[old_id]
        self.channel_of[new_id] = channel
        self.changed += 1
        self.money[channel] += difference if difference >= 0 else difference + fee


@dataclass(frozen=True)
class Seller:
    """A selling point: channel, its device token and its station (None online)."""

    channel: str
    token: str
    station: str | None

    def label(self, run: Run) -> str:
        """``tvm at 德州东 DIP`` or ``internet``."""
        where = f" at {run.name(self.station)}" if self.station else ""
        return f"{self.channel}{where}"


@dataclass
class Demo:
    """Everything the scenes share."""

    api: Api
    days: dict[str, list[Run]]  # service date -> runs
    roles: Roles
    workdir: Path  # where central and the units keep their files
    sellers: dict[str, Seller] = field(default_factory=dict)  # by channel
    people: People = field(default_factory=People)
    ledger: Ledger = field(default_factory=Ledger)
    kept: dict[str, tuple[Json, Json]] = field(default_factory=dict)  # role -> (ticket, passenger)
    soon: Run | None = None  # the run leaving within the hour the unit scenes share
    soon_loaded: bool = False

    def run(self, train: str, date: str) -> Run:
        """A loaded run by train number and service date."""
        found = [r for r in self.days.get(date, []) if r.train == train]
        if not found:
            raise DemoError(f"central answered about {train} {date}, which the demo did not load")
        return found[0]

    @property
    def later(self) -> str:
        """The second service date."""
        return sorted(self.days)[-1]

    def seller_of(self, ticket: Json) -> Seller:
        """The selling point that sold a ticket (refunds and changes go back to it)."""
        return self.sellers[self.ledger.channel_of[ticket["ticket_id"]]]

    def availability(self, run: Run, a: int, b: int, station: str | None = None) -> list[Json]:
        """The classes answer of ``GET /v1/availability`` for a journey."""
        params = {"train": run.train, "date": run.date, "from": run.codes[a], "to": run.codes[b]}
        if station is not None:
            params["station"] = station
        classes: list[Json] = self.api.get("/v1/availability", params)["classes"]
        return classes

    def class_left(self, run: Run, a: int, b: int, seat_class: str) -> Json:
        """Availability of one class for a journey."""
        found = [c for c in self.availability(run, a, b) if c["class"] == seat_class]
        if not found:
            raise DemoError(f"{run.train} has no class {seat_class} in its availability")
        return found[0]
