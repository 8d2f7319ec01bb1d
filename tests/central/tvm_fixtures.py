"""Helpers for the TVM tests: a small train, an enrolled TVM with its key, block sales it signs.

A TVM here does what the unit does: it enrols with its one-time code, makes
an Ed25519 key pair and registers the public half, and signs each ticket it
sells from a block with the key id central gave it, the window the block
states, and the passenger's hashes (``TicketClaims.for_passenger``).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from conftest import Api, device_token

from protocol.keys import SigningKey
from protocol.token import TicketClaims, encode_token

TRAIN, DAY = "G7100", "2026-12-03"
RUN = f"/v1/train-runs/{TRAIN}/{DAY}"
STATIONS = ["AAA", "BBB", "CCC", "DDD"]
FARE = 46  # fen per km, as the timetable below says


def small_run(seats: int = 3, **overrides: Any) -> dict[str, Any]:
    """Four stops, ``seats`` ZE seats in one coach, no standing, no pre-allocation."""
    run: dict[str, Any] = {
        "train": TRAIN,
        "date": DAY,
        "stops": [
            {"station": "AAA", "name": "甲", "km": 0, "depart": f"{DAY}T08:00:00+08:00"},
            {
                "station": "BBB",
                "name": "乙",
                "km": 50,
                "arrive": f"{DAY}T08:30:00+08:00",
                "depart": f"{DAY}T08:32:00+08:00",
            },
            {
                "station": "CCC",
                "name": "丙",
                "km": 120,
                "arrive": f"{DAY}T09:10:00+08:00",
                "depart": f"{DAY}T09:12:00+08:00",
            },
            {"station": "DDD", "name": "丁", "km": 200, "arrive": f"{DAY}T09:50:00+08:00"},
        ],
        "coaches": [{"coach": 1, "class": "ZE", "seats": seats}],
        "standing": {"ZE": 0},
        "standing_policy": "never",
        "fares": {"ZE": FARE},
        "preallocation": {"share_percent": 0},
    }
    run.update(overrides)
    return run


def load_small_run(api: Api, seats: int = 3, **overrides: Any) -> None:
    response = api.post("/v1/train-runs", small_run(seats, **overrides))
    assert response.status_code == 201, response.text


@dataclass
class Tvm:
    """An enrolled TVM: its id, station, bearer token and (once registered) signing key."""

    api: Api
    device_id: str
    station: str
    token: str
    key: SigningKey | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def register_key(self, key: SigningKey | None = None) -> Any:
        """Register a (new) key pair; on success the TVM signs with it under central's id."""
        key = key or SigningKey.generate(0)
        body = {"public_key": key.public_key().public_hex()}
        response = self.api.client.post("/v1/units/me/signing-key", json=body, headers=self.auth)
        if response.status_code == 200:
            self.key = SigningKey.from_private_hex(
                response.json()["key_id"], key.private_bytes_hex()
            )
        return response

    def blocks(self) -> list[dict[str, Any]]:
        response = self.api.client.get("/v1/units/me/blocks", headers=self.auth)
        assert response.status_code == 200, response.text
        blocks: list[dict[str, Any]] = response.json()["blocks"]
        return blocks

    def upload(self, *sales: dict[str, Any]) -> Any:
        body = {"sales": list(sales)}
        return self.api.client.post("/v1/units/me/block-sales", json=body, headers=self.auth)

    def sale(
        self,
        block: dict[str, Any],
        to: str,
        seat: dict[str, int] | None = None,
        name: str = "张三",
        id_number: str = "110101199001011234",
        **changes: Any,
    ) -> dict[str, Any]:
        """A sale from ``block`` to ``to`` on ``seat`` (its first), with the token it printed."""
        assert self.key is not None, "register a key first"
        ticket_id = changes.pop("ticket_id", secrets.token_hex(8))
        sale = signed_sale(
            self.key, block, seat or block["seats"][0], to, name, id_number, ticket_id
        )
        return {**sale, **changes}


def signed_sale(
    key: SigningKey,
    block: dict[str, Any],
    seat: dict[str, int],
    to: str,
    name: str,
    id_number: str,
    ticket_id: str,
) -> dict[str, Any]:
    """A ``BlockSale`` as a TVM uploads it, its token signed as the TVM signs it."""
    stop = next(s for s in block["stops"] if s["code"] == to)
    claims = TicketClaims.for_passenger(
        ticket_id=ticket_id,
        train=block["train"],
        service_date=datetime.fromisoformat(block["date"]).date(),
        from_station=block["station"],
        to_station=to,
        seat_class=block["class"],
        coach=seat["coach"],
        seat=seat["seat"],
        name=name,
        id_number=id_number,
        not_before=at(block["departs_at"]) - minutes(block["checkin_opens_minutes"]),
        not_after=at(stop["arrives_at"]) + minutes(block["valid_after_arrival_minutes"]),
    )
    return {
        "block_id": block["block_id"],
        "ticket_id": ticket_id,
        "coach": seat["coach"],
        "seat": seat["seat"],
        "to": to,
        "passenger_name": name,
        "id_number": id_number,
        "price_fen": stop["price_fen"],
        "payment": {"method": "cash", "reference": f"cash-{ticket_id}"},
        "sold_at": "2026-11-25T12:00:00Z",
        "token": encode_token(claims, key),
    }


def enrolled_tvm(api: Api, station: str, with_key: bool = True) -> Tvm:
    """A TVM registered and enrolled at ``station`` (and its key registered)."""
    device_id = f"tvm-{station.lower()}-{uuid.uuid4().hex[:6]}"
    tvm = Tvm(api, device_id, station, device_token(api, device_id, "tvm", station))
    if with_key:
        response = tvm.register_key()
        assert response.status_code == 200, response.text
    return tvm


def lease(
    api: Api,
    tvm: Tvm,
    seats: int,
    return_at: str = "2026-12-02T12:00:00Z",
    run: str = RUN,
    seat_class: str = "ZE",
) -> Any:
    """The operator leases ``seats`` seats to the TVM (the answer, for the test to check)."""
    body = {"device_id": tvm.device_id, "class": seat_class, "seats": seats, "return_at": return_at}
    return api.post(f"{run}/blocks", body)


def leased(api: Api, tvm: Tvm, seats: int, **kw: Any) -> dict[str, Any]:
    response = lease(api, tvm, seats, **kw)
    assert response.status_code == 201, response.text
    block: dict[str, Any] = response.json()
    return block


def seats_left(api: Api, board: str, dest: str, station: str | None = None) -> int:
    """ZE seats availability says are sellable on the small train for (board, dest)."""
    params = {"train": TRAIN, "date": DAY, "from": board, "to": dest}
    if station is not None:
        params["station"] = station
    response = api.client.get("/v1/availability", params=params)
    assert response.status_code == 200, response.text
    return int(next(c["seats"] for c in response.json()["classes"] if c["class"] == "ZE"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
