"""What the units' API tests share: registering and enrolling units, a small train, sales.

A unit enrols as a real one does: it makes its own token and sends only the
token's SHA-256 with its one-time code. The train runs on the day after the
tests' clock, so sales are open and times are easy to move past.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Api

from central.api.service import CentralService

TRAIN = "G7301"
STATIONS = ["AAA", "BBB", "CCC", "DDD"]
DAY = "2026-11-26"
# departures and arrivals in Beijing time: AAA 08:00, BBB 08:30/08:32, CCC 09:10/09:12, DDD 10:00
TIMES = [(None, "08:00"), ("08:30", "08:32"), ("09:10", "09:12"), ("10:00", None)]


def small_run(seats: int = 40, train: str = TRAIN) -> dict[str, Any]:
    """Four stops, ``seats`` ZE seats, no standing."""
    stops: list[dict[str, Any]] = []
    for n, (code, (arrive, depart)) in enumerate(zip(STATIONS, TIMES, strict=True)):
        stop: dict[str, Any] = {"station": code, "name": f"站{n}", "km": 40 * n}
        if arrive is not None:
            stop["arrive"] = f"{DAY}T{arrive}:00+08:00"
        if depart is not None:
            stop["depart"] = f"{DAY}T{depart}:00+08:00"
        stops.append(stop)
    return {
        "train": train,
        "date": DAY,
        "stops": stops,
        "coaches": [{"coach": 1, "class": "ZE", "seats": seats}],
        "standing": {"ZE": 0},
        "standing_policy": "never",
        "fares": {"ZE": 46},
        "preallocation": {"share_percent": 0},
    }


def load_small_run(api: Api, train: str = TRAIN) -> None:
    response = api.post("/v1/train-runs", small_run(train=train))
    assert response.status_code == 201, response.text


def arrival(station: str) -> datetime:
    """When the small train arrives at ``station`` (UTC)."""
    hhmm = TIMES[STATIONS.index(station)][0]
    assert hhmm is not None
    return datetime.fromisoformat(f"{DAY}T{hhmm}:00+08:00").astimezone(UTC)


def departure(station: str) -> datetime:
    """When the small train leaves ``station`` (UTC)."""
    hhmm = TIMES[STATIONS.index(station)][1]
    assert hhmm is not None
    return datetime.fromisoformat(f"{DAY}T{hhmm}:00+08:00").astimezone(UTC)


def sell(
    api: Api, board: str, alight: str, id_number: str, name: str = "旅客", train: str = TRAIN
) -> dict[str, Any]:
    """Hold and pay one ticket of the small train; the issued ticket's view."""
    body = {
        "train": train,
        "date": DAY,
        "from": board,
        "to": alight,
        "class": "ZE",
        "channel": "window",
        "station": board,
        "passengers": [{"name": name, "id_number": id_number}],
    }
    held = api.post("/v1/orders", body)
    assert held.status_code == 201, held.text
    order = held.json()
    payment = {"method": "cash", "amount_fen": order["total_fen"], "reference": "U1"}
    paid = api.post(f"/v1/orders/{order['order_id']}/pay", payment)
    assert paid.status_code == 200, paid.text
    ticket: dict[str, Any] = paid.json()["tickets"][0]
    return ticket


def id_number(n: int) -> str:
    """A distinct (made-up) ID number per ``n``."""
    return f"11010119900101{n:04d}"


def credential() -> tuple[str, str]:
    """A token a unit makes, and the SHA-256 it sends."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def register(api: Api, device_id: str, kind: str, station: str | None, **extra: Any) -> Any:
    """``POST /v1/devices`` as the operator; the raw response."""
    body = {"device_id": device_id, "kind": kind, "station": station, **extra}
    return api.post("/v1/devices", body)


def enrol(api: Api, code: str, credential_hash: str) -> Any:
    """``POST /v1/enrolments`` without credentials, as a unit does; the raw response."""
    body = {"enrolment_code": code, "credential_hash": credential_hash}
    return api.client.post("/v1/enrolments", json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_unit(api: Api, token: str, method: str, path: str, **kw: Any) -> Any:
    """A request with a unit's token (and a fresh Idempotency-Key, which reads ignore)."""
    headers = {**bearer(token), "Idempotency-Key": uuid.uuid4().hex, **kw.pop("headers", {})}
    return api.client.request(method, path, headers=headers, **kw)


def service_of(api: Api) -> CentralService:
    svc: CentralService = api.client.app.state.service  # type: ignore[attr-defined]
    return svc


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def beijing(text: str) -> datetime:
    """A Beijing wall-clock time of the small train's day, e.g. ``"07:55"``, in UTC."""
    return datetime.fromisoformat(f"{DAY}T{text}:00+08:00").astimezone(UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
