"""The scripted demo day behind ``stationkit demo`` (and ``make demo``).

Central runs on SQLite as a separate process, as in production, and the demo
talks to it over HTTP only. It loads the demo timetable for the next two
service dates (China time), registers a TVM, a ticket window and an internet
channel, and plays a short day: the operator's pre-allocation run and a
temporary quota adjustment, availability queries, real-name sales paid by
card, cash and mobile, an overlapping-journey refusal, a cancelled hold, the
quota view of different selling stations with a remote-station ticket, a
class sold out, standing tickets once the seats run out, refunds, a change,
and an offline check of a ticket token. It ends with a summary that is
checked against central's own sales statistics and audit trail.

Stations, fares and seat counts all come from the timetable file: the script
picks trains, stops and classes by their role in it (a station quota shared
with a group, the smallest class, a class with standing places, ...).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import sys
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from central.timetable_file import shift_run
from protocol.fields import MAX_PASSENGERS
from protocol.keys import KeyRing
from protocol.money import format_yuan
from protocol.token import TicketClaims, TokenError, decode_token
from stationkit.processes import CentralProcess

Json = dict[str, Any]

REPO = Path(__file__).resolve().parents[1]
TIMETABLE = REPO / "config" / "timetables" / "demo.json"
WORKDIR = Path("var") / "demo"
CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no DST: a fixed offset is exact
CAST = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
CARD = {"acquirer": "ABC", "card_masked": "622848******1234"}
ADJUST_SEATS = 10
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class DemoError(Exception):
    """A step of the demo failed unexpectedly; the message says which and why."""


class ApiError(DemoError):
    """Central answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.status = status
        self.code, self.detail = _error_of(body)
        super().__init__(f"{method} {path} -> HTTP {status} {self.code}: {self.detail}")


def _error_of(body: str) -> tuple[str, str]:
    """The code and message of an error body, or the raw text when it is not one."""
    try:
        error = json.loads(body)["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "unknown", body[:300]


# ---------------------------------------------------------------- HTTP


class Api:
    """A thin client of central's HTTP API: auth, idempotency keys, errors as exceptions."""

    def __init__(self, base_url: str, operator_token: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=15.0)
        self.operator_token = operator_token

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET with the operator token; the decoded JSON answer."""
        return self._send("GET", path, None, self.operator_token, None, params)

    def post(
        self, path: str, body: Json | None = None, token: str | None = None, key: str | None = None
    ) -> Any:
        """A mutating POST with a fresh (or the given) Idempotency-Key."""
        return self._send("POST", path, body, token or self.operator_token, key or new_key())

    def _send(
        self,
        method: str,
        path: str,
        body: Json | None,
        token: str,
        key: str | None,
        params: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        try:
            response = self.client.request(method, path, json=body, headers=headers, params=params)
        except httpx.HTTPError as exc:
            raise DemoError(f"{method} {path}: no answer from central: {exc}") from exc
        if response.status_code >= 400:
            raise ApiError(method, path, response.status_code, response.text)
        return response.json()


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return uuid.uuid4().hex


def refusal(action: Callable[[], Any], code: str) -> ApiError:
    """Run a request that central must refuse with ``code``; the refusal."""
    try:
        answer = action()
    except ApiError as exc:
        if exc.code != code:
            raise DemoError(f"expected refusal {code!r}, got: {exc}") from exc
        return exc
    raise DemoError(f"expected refusal {code!r}, but central accepted: {json.dumps(answer)[:300]}")


# ---------------------------------------------------------------- the timetable


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
        names = {stop["station"]: stop["name"] for stop in self.raw["stops"]}
        return f"{names.get(code, '?')} {code}"

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


# ---------------------------------------------------------------- passengers and books


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
    sellers: dict[str, Seller] = field(default_factory=dict)  # by channel
    people: People = field(default_factory=People)
    ledger: Ledger = field(default_factory=Ledger)
    kept: dict[str, tuple[Json, Json]] = field(default_factory=dict)  # role -> (ticket, passenger)

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


# ---------------------------------------------------------------- printing


def say(text: str) -> None:
    """One line of the demo's story."""
    print(text, flush=True)


def section(title: str) -> None:
    """A heading between scenes."""
    say(f"\n== {title} ==")


def yuan(fen: int) -> str:
    """Fen as ``¥123.50``."""
    return f"¥{format_yuan(fen)}"


def place(ticket: Json) -> str:
    """``coach 4 seat 12`` or ``standing (无座)``."""
    if ticket.get("seat") is None:
        return "standing (无座)"
    return f"coach {ticket['coach']} seat {ticket['seat']}"


def places(tickets: list[Json]) -> str:
    """The places of several tickets, comma-separated."""
    return ", ".join(place(t) for t in tickets)


def availability(demo: Demo, run: Run, a: int, b: int, station: str | None = None) -> list[Json]:
    """The classes answer of ``GET /v1/availability`` for a journey."""
    params = {"train": run.train, "date": run.date, "from": run.codes[a], "to": run.codes[b]}
    if station is not None:
        params["station"] = station
    classes: list[Json] = demo.api.get("/v1/availability", params)["classes"]
    return classes


def class_left(demo: Demo, run: Run, a: int, b: int, seat_class: str) -> Json:
    """Availability of one class for a journey."""
    found = [c for c in availability(demo, run, a, b) if c["class"] == seat_class]
    if not found:
        raise DemoError(f"{run.train} has no class {seat_class} in its availability")
    return found[0]


def availability_table(demo: Demo, journeys: list[tuple[Run, int, int]]) -> None:
    """A compact table: train, date, class, seats, standing, price, OD."""
    say(f"  {'train':<6} {'date':<10} {'class':<5} {'seats':>5} {'standing':>8} {'price':>10}  OD")
    for run, a, b in journeys:
        for c in availability(demo, run, a, b):
            say(
                f"  {run.train:<6} {run.date:<10} {c['class']:<5} {c['seats']:>5} "
                f"{c['standing']:>8} {yuan(c['price_fen']):>10}  {run.od(a, b)}"
            )


# ---------------------------------------------------------------- selling

Journey = tuple[Run, int, int, str]  # run, from stop index, to stop index, seat class
CARD_PAYMENT: Json = {"method": "card", **CARD}


def hold(demo: Demo, seller: Seller, journey: Journey, people: list[Json]) -> Json:
    """``POST /v1/orders``: hold places for the passengers."""
    run, a, b, seat_class = journey
    body = {
        **run.journey(a, b, seat_class),
        "passengers": people,
        "channel": seller.channel,
        "station": seller.station,
    }
    order: Json = demo.api.post("/v1/orders", body, seller.token)
    return order


def payment_body(order: Json, method: Json) -> Json:
    """A payment of the whole order with one method."""
    return {"amount_fen": order["total_fen"], "reference": f"demo-{new_key()[:12]}", **method}


def submit_payment(
    demo: Demo, seller: Seller, order: Json, body: Json, key: str | None = None
) -> Json:
    """``POST /v1/orders/{id}/pay``; the issued order, booked in the ledger."""
    paid: Json = demo.api.post(f"/v1/orders/{order['order_id']}/pay", body, seller.token, key)
    if paid["status"] != "issued" or any(not t.get("token") for t in paid["tickets"]):
        raise DemoError(f"order {order['order_id']} was paid but is {paid['status']}")
    demo.ledger.paid(paid, seller.channel)
    return paid


def method_label(method: Json) -> str:
    """``card 622848******1234 (ABC)``, ``cash`` or ``mobile``."""
    if method["method"] == "card":
        return f"card {method['card_masked']} via {method['acquirer']}"
    return str(method["method"])


def report_sale(seller: Seller, journey: Journey, people: list[Json], order: Json) -> None:
    """One line for an issued order."""
    run, a, b, seat_class = journey
    names = "、".join(p["name"] for p in people)
    payment = order.get("payment") or {}
    remote = " (remote-station ticket 异地票)" if any(t["remote"] for t in order["tickets"]) else ""
    say(
        f"sold     {seller.label(run)}: {names} — {run.train} {run.date} {seat_class} "
        f"{run.od(a, b)}, {places(order['tickets'])}{remote}; "
        f"{method_label(payment)} {yuan(order['total_fen'])}"
    )


def sell(demo: Demo, seller: Seller, journey: Journey, people: list[Json], method: Json) -> Json:
    """Hold and pay, printing one line; the issued order."""
    order = hold(demo, seller, journey, people)
    paid = submit_payment(demo, seller, order, payment_body(order, method))
    report_sale(seller, journey, people, paid)
    return paid


def sell_out(demo: Demo, journey: Journey, seats: int) -> int:
    """Sell ``seats`` places online in orders of up to five; the number of orders."""
    online = demo.sellers["internet"]
    orders = 0
    while seats > 0:
        count = min(MAX_PASSENGERS, seats)
        order = hold(demo, online, journey, demo.people.many(count))
        submit_payment(demo, online, order, payment_body(order, {"method": "mobile"}))
        seats -= count
        orders += 1
    return orders


def ticket_journey(demo: Demo, ticket: Json) -> Journey:
    """The journey of a ticket as central reports it."""
    run = demo.run(ticket["train"], ticket["date"])
    return run, run.codes.index(ticket["from"]), run.codes.index(ticket["to"]), ticket["class"]


def describe(demo: Demo, ticket: Json) -> str:
    """``G111 2026-11-26 ZY 北京南 VNP → 上海虹桥 AOH coach 2 seat 3``."""
    run, a, b, seat_class = ticket_journey(demo, ticket)
    return f"{run.train} {run.date} {seat_class} {run.od(a, b)} {place(ticket)}"


# ---------------------------------------------------------------- scenes: the operator


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
        token = demo.api.post("/v1/devices", body)["token"]
        demo.sellers[kind] = Seller(kind, token, station)
        say(f"device   {device_id} registered: {demo.sellers[kind].label(group.run)}")


def planned_class(run: Run) -> str:
    """The class pre-allocation and the adjustment work on: the one with most seats."""
    return max(run.classes_by_fare(), key=run.seats)


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


# ---------------------------------------------------------------- scenes: selling


def tvm_sale(demo: Demo) -> None:
    """Two passengers pay by card at the TVM; the TVM retries the payment with the same key."""
    group, tvm = demo.roles.group, demo.sellers["tvm"]
    run = group.run
    journey = (run, group.sharer, run.last, run.classes_by_fare()[-1])
    riders = [demo.people.one(CAST[0]), demo.people.one(CAST[1])]
    order = hold(demo, tvm, journey, riders)
    body, key = payment_body(order, CARD_PAYMENT), new_key()
    paid = submit_payment(demo, tvm, order, body, key)
    report_sale(tvm, journey, riders, paid)
    again = demo.api.post(f"/v1/orders/{order['order_id']}/pay", body, tvm.token, key)
    if again != paid:
        raise DemoError("a payment retried with the same Idempotency-Key gave another answer")
    say("retry    the TVM resends the payment with the same Idempotency-Key: same answer")
    demo.kept["verify"] = (paid["tickets"][0], riders[0])
    demo.kept["card_refund"] = (paid["tickets"][1], riders[1])


def window_sale(demo: Demo) -> None:
    """A family pays cash at the ticket window of the origin station."""
    run = demo.roles.group.run
    fares = run.classes_by_fare()
    family = [demo.people.one(name) for name in CAST[2:5]]
    journey = (run, 0, run.last, fares[-2] if len(fares) > 1 else fares[0])
    cash = sell(demo, demo.sellers["window"], journey, family, {"method": "cash"})
    demo.kept["change"] = (cash["tickets"][0], family[0])
    demo.kept["cash_refund"] = (cash["tickets"][1], family[1])


def online_sale(demo: Demo) -> None:
    """One passenger buys the dearest class of another train online, paid by mobile."""
    run = demo.roles.planned
    journey = (run, 0, run.last, run.classes_by_fare()[0])
    sell(demo, demo.sellers["internet"], journey, [demo.people.one(CAST[5])], {"method": "mobile"})


def overlap_refusal(demo: Demo) -> None:
    """The TVM passenger tries to buy an overlapping journey online: journey_overlap."""
    ticket, rider = demo.kept["verify"]
    run, _, b, _ = ticket_journey(demo, ticket)
    journey = (run, demo.roles.group.station, b, run.classes_by_fare()[0])
    refused = refusal(
        lambda: hold(demo, demo.sellers["internet"], journey, [rider]), "journey_overlap"
    )
    say(
        f"refused  internet: {rider['name']} (same ID) — {run.train} {run.date} "
        f"{run.od(journey[1], b)}: journey_overlap ({refused.detail})"
    )


def cancelled_hold(demo: Demo) -> None:
    """A hold is given up: the seats come back at once."""
    run = demo.roles.planned
    journey = (run, 0, run.last, planned_class(run))
    before = class_left(demo, *journey)["seats"]
    order = hold(demo, demo.sellers["internet"], journey, demo.people.many(2))
    during = class_left(demo, *journey)["seats"]
    demo.api.post(f"/v1/orders/{order['order_id']}/cancel", None, demo.sellers["internet"].token)
    after = class_left(demo, *journey)["seats"]
    demo.ledger.cancelled += len(order["tickets"])
    say(
        f"held     internet: 2 × {run.train} {run.date} {journey[3]} {run.od(0, run.last)} "
        f"until {order['expires_at'][11:19]} UTC; seats {before} → {during}"
    )
    if after != before:
        raise DemoError(f"cancelled order {order['order_id']}: seats {after}, expected {before}")
    say(f"cancel   order {order['order_id']}: seats back to {after}")


# ---------------------------------------------------------------- scenes: quotas, sold out


def quota_view(demo: Demo) -> None:
    """What three selling stations may sell of the same journey (a shared station quota)."""
    group = demo.roles.group
    run = group.run
    seen = []
    for stop in (group.station, group.sharer, group.outsider):
        seller = run.codes[stop]
        classes = availability(demo, run, group.station, run.last, seller)
        seats = next(c["seats"] for c in classes if c["class"] == group.seat_class)
        seen.append(f"{run.name(seller)} {seats}")
    say(
        f"quota    {run.train} {group.seat_class} {run.od(group.station, run.last)}, seats "
        f"sellable at: {' · '.join(seen)} ({group.quota} is kept for "
        f"{run.codes[group.station]} and its group)"
    )


def remote_sale(demo: Demo) -> None:
    """The TVM sells a journey from another station of its group, by card after a warning."""
    group, tvm = demo.roles.group, demo.sellers["tvm"]
    run = group.run
    journey = (run, group.station, run.last, group.seat_class)
    rider = [demo.people.one(CAST[6])]
    order = hold(demo, tvm, journey, rider)
    refused = refusal(
        lambda: demo.api.post(
            f"/v1/orders/{order['order_id']}/pay", payment_body(order, CARD_PAYMENT), tvm.token
        ),
        "card_station_not_accepted",
    )
    say(f"warning  {tvm.label(run)}: {refused.detail}; the passenger confirms")
    body = payment_body(order, {**CARD_PAYMENT, "confirm_card_station": True})
    report_sale(tvm, journey, rider, submit_payment(demo, tvm, order, body))


def sold_out(demo: Demo) -> None:
    """Sell the smallest class out online; the next order is refused with sold_out."""
    run, seat_class = demo.roles.small
    journey = (run, 0, run.last, seat_class)
    seats = class_left(demo, *journey)["seats"]
    orders = sell_out(demo, journey, seats)
    left = class_left(demo, *journey)
    say(
        f"rush     internet: {seats} {seat_class} seats of {run.train} {run.date} "
        f"{run.od(0, run.last)} sold in {orders} orders; left: seats {left['seats']}, "
        f"standing {left['standing']}"
    )
    refused = refusal(
        lambda: hold(demo, demo.sellers["internet"], journey, [demo.people.one()]), "sold_out"
    )
    say(f"refused  internet: one more {seat_class} — sold out ({refused.detail})")


def standing_sale(demo: Demo) -> None:
    """Sell a class's seats out; the next passengers get standing tickets (无座)."""
    run, seat_class = demo.roles.standing
    journey = (run, 0, run.last, seat_class)
    seats = class_left(demo, *journey)["seats"]
    orders = sell_out(demo, journey, seats)
    left = class_left(demo, *journey)
    say(
        f"rush     internet: {seats} {seat_class} seats of {run.train} {run.date} "
        f"{run.od(0, run.last)} sold in {orders} orders; left: seats {left['seats']}, "
        f"standing {left['standing']}"
    )
    if left["seats"] or not left["standing"]:
        raise DemoError(f"after selling out {seat_class}: {left}, expected standing places only")
    riders = [demo.people.one(CAST[7]), demo.people.one()]
    order = sell(demo, demo.sellers["internet"], journey, riders, {"method": "mobile"})
    if any(t["seat"] is not None for t in order["tickets"]):
        raise DemoError(f"seats were sold out but order {order['order_id']} got a seat")
    demo.kept["standing"] = (order["tickets"][0], riders[0])
    after = class_left(demo, *journey)
    say(f"left     {run.train} {seat_class}: seats {after['seats']}, standing {after['standing']}")


# ---------------------------------------------------------------- scenes: after the sale


def refunds(demo: Demo) -> None:
    """Refund a card ticket and a cash ticket: fee by the schedule, money back the same way."""
    for role in ("card_refund", "cash_refund"):
        ticket, rider = demo.kept[role]
        seller = demo.sellers[demo.ledger.channel_of[ticket["ticket_id"]]]
        answer = demo.api.post(f"/v1/tickets/{ticket['ticket_id']}/refund", None, seller.token)
        demo.ledger.refund(ticket["ticket_id"], answer["refund_fen"])
        back = answer.get("method") or "?"
        via = f" via {answer['acquirer']}" if answer.get("acquirer") else ""
        say(
            f"refund   {rider['name']} — {describe(demo, ticket)}: "
            f"price {yuan(ticket['price_fen'])}, fee {yuan(answer['fee_fen'])}, "
            f"refund {yuan(answer['refund_fen'])} to {back}{via}"
        )


def change(demo: Demo) -> None:
    """Change a ticket to the same journey on the later date in the cheapest class (改签)."""
    ticket, rider = demo.kept["change"]
    run, a, b, _ = ticket_journey(demo, ticket)
    later = demo.run(run.train, demo.later)
    body = {**later.journey(a, b, later.classes_by_fare()[-1]), "id_number": rider["id_number"]}
    seller = demo.sellers[demo.ledger.channel_of[ticket["ticket_id"]]]
    answer = demo.api.post(f"/v1/tickets/{ticket['ticket_id']}/change", body, seller.token)
    new = answer["ticket"]
    difference, fee = answer["price_difference_fen"], answer["fee_fen"]
    demo.ledger.change(ticket["ticket_id"], new["ticket_id"], difference, fee)
    say(
        f"change   {rider['name']} — {describe(demo, ticket)} ⇒ {new['date']} {new['class']} "
        f"{place(new)}: difference {yuan(difference)}, fee {yuan(fee)}"
    )
    old = demo.api.get(f"/v1/tickets/{ticket['ticket_id']}")
    say(f"status   old ticket {ticket['ticket_id']}: {old['status']}; new {new['ticket_id']}")
    if old["status"] != "changed":
        raise DemoError(f"changed ticket {ticket['ticket_id']} is {old['status']}")


def offline_check(demo: Demo) -> None:
    """Verify ticket tokens with the public keys only, as a gate does offline."""
    ring = KeyRing.from_json_dict(demo.api.get("/v1/keys"))
    say(f"keys     GET /v1/keys: {len(ring)} verification key(s), ids {ring.key_ids()}")
    for role in ("verify", "standing"):
        ticket, rider = demo.kept[role]
        claims = verified(ticket["token"], ring)
        holder = "matches" if claims.holder_matches(rider["id_number"]) else "DOES NOT MATCH"
        say(
            f"gate     {len(ticket['token'])}-char token of {rider['name']} verified offline "
            f"(key {claims.key_id}): {claims.train} {claims.service_date} {claims.seat_class} "
            f"{claims.from_station}→{claims.to_station} {place(vars_of(claims))}, ID {holder}"
        )
    token = demo.kept["verify"][0]["token"]
    middle = len(token) // 2
    forged = token[:middle] + next(c for c in BASE45 if c != token[middle]) + token[middle + 1 :]
    try:
        decode_token(forged, ring)
    except TokenError as exc:
        say(f"gate     a token with one character changed is refused: {exc.reason}")
        return
    raise DemoError("a forged token verified")


def verified(token: str, ring: KeyRing) -> TicketClaims:
    """Decode a token central issued; a failure is a demo failure."""
    try:
        return decode_token(token, ring)
    except TokenError as exc:
        raise DemoError(f"a token central issued does not verify: {exc.reason}: {exc}") from exc


def vars_of(claims: TicketClaims) -> Json:
    """The place fields of claims, shaped like a ticket view."""
    return {"coach": claims.coach, "seat": claims.seat}


# ---------------------------------------------------------------- the summary


def summary(demo: Demo) -> None:
    """The demo's own books, checked against central's statistics, and the audit trail."""
    books = demo.ledger
    say(
        f"tickets  sold {books.sold}, refunded {books.refunded}, changed {books.changed}, "
        f"cancelled holds {books.cancelled}; valid now {sum(books.tickets.values())}"
    )
    say(f"money    taken net {yuan(sum(books.money.values()))}")
    for channel in sorted(books.money):
        say(money_row(channel, books.tickets[channel], books.money[channel]))
    stats = demo.api.get("/v1/stats/sales")
    check_stats(books, stats)
    say(
        f"stats    GET /v1/stats/sales agrees by channel; {len(stats['by_od'])} OD pairs, "
        f"{len(stats['by_station'])} selling points, {len(stats['by_hour'])} hour(s)"
    )
    for row in stats["by_station"]:
        say(money_row(row["key"], row["tickets"], row["revenue_fen"]))
    records = demo.api.get("/v1/audit", {"limit": "1000"})
    actions = Counter(r["action"] for r in records)
    listed = ", ".join(f"{action} {n}" for action, n in sorted(actions.items()))
    say(f"audit    {len(records)} records: {listed}")


def money_row(key: str, tickets: int, fen: int) -> str:
    """An indented line: key, valid tickets, net money."""
    return f"         {key:<8} {tickets:>4} tickets {yuan(fen):>12}"


def check_stats(books: Ledger, stats: Json) -> None:
    """Central's tickets and money per channel must equal the demo's own books."""
    theirs = {row["key"]: (row["tickets"], row["revenue_fen"]) for row in stats["by_channel"]}
    ours = {c: (books.tickets[c], books.money[c]) for c in books.money}
    if theirs != ours:
        raise DemoError(f"sales statistics by channel {theirs} differ from the demo's books {ours}")


# ---------------------------------------------------------------- running it


def plan_days(raw_runs: list[Json], today: dt.date | None = None) -> dict[str, list[Run]]:
    """The timetable moved to tomorrow and the day after (China time)."""
    today = today or dt.datetime.now(CHINA).date()
    days = [today + dt.timedelta(days=n) for n in (1, 2)]
    try:
        return {day.isoformat(): [Run(shift_run(raw, day)) for raw in raw_runs] for day in days}
    except ValueError as exc:
        raise DemoError(f"cannot move the demo timetable to {days[0]}: {exc}") from exc


SCENES: tuple[tuple[str, tuple[Callable[[Demo], None], ...]], ...] = (
    ("Operator: timetable and devices", (load_timetable, register_devices)),
    ("Operator: pre-allocation and a temporary adjustment", (preallocation, adjustment)),
    ("Availability at the start of the day", (day_availability,)),
    (
        "Selling: TVM, window, internet",
        (tvm_sale, window_sale, online_sale, overlap_refusal, cancelled_hold),
    ),
    ("Quotas and a remote-station ticket", (quota_view, remote_sale)),
    ("Sold out, then standing tickets", (sold_out, standing_sale)),
    ("Refunds and a change", (refunds, change)),
    ("Gate check offline", (offline_check,)),
    ("Availability at the end of the day", (day_availability,)),
    ("Summary", (summary,)),
)


def play(demo: Demo) -> None:
    """Every scene of the day, in order."""
    for title, scenes in SCENES:
        section(title)
        for scene in scenes:
            scene(demo)


def fresh(workdir: Path) -> None:
    """An empty work directory for central (store, keys, log)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)


def run_demo(port: int = 8731, keep: bool = False) -> int:
    """Start central, play the day, stop central; 0 on success, 1 with a message on failure.

    The work directory ``var/demo`` (relative to the current directory) is
    emptied first and removed afterwards unless ``keep``; after a failure it
    stays, with central's log, for a look.
    """
    workdir = WORKDIR.resolve()
    operator_token = secrets.token_urlsafe(24)
    central = CentralProcess(f"sqlite:///{workdir / 'central.db'}", port, workdir, operator_token)
    api = Api(central.url, operator_token)
    ok = False
    try:
        days = plan_days(read_runs(TIMETABLE))
        fresh(workdir)
        say(f"StationKit demo: central on {central.url}, SQLite store in {workdir}")
        central.start()
        play(Demo(api, days, choose_roles(days[min(days)])))
        ok = True
    except (DemoError, RuntimeError, OSError) as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr, flush=True)
    except Exception as exc:  # any surprise still ends with a message and a stop
        traceback.print_exc()
        print(f"\ndemo failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        api.close()
        central.stop()
    return finish(workdir, ok, keep)


def finish(workdir: Path, ok: bool, keep: bool) -> int:
    """Tidy up the work directory and give the exit status."""
    if ok and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
        say("\ndemo finished; central stopped")
    else:
        say(f"\ncentral stopped; store and log kept in {workdir}")
    return 0 if ok else 1
