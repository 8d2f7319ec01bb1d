"""Central in its own process for the units' end-to-end tests, and the trains they sell.

Central runs as ``stationkit central serve`` on SQLite in the test's folder;
``train_run`` makes a three-stop run leaving soon, so check-in is open.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from stationkit.processes import CentralProcess, free_port

OPERATOR_TOKEN = "gate-rig-operator"
BEIJING = dt.timezone(dt.timedelta(hours=8))
STATIONS = ("AAA", "BBB", "CCC")


def train_run(train: str, departs_in: dt.timedelta, seats: int = 20) -> dict[str, Any]:
    """A three-stop run leaving AAA ``departs_in`` from now (times in Beijing time)."""
    leaves = (dt.datetime.now(dt.UTC) + departs_in).astimezone(BEIJING).replace(microsecond=0)

    def at(minutes: int) -> str:
        return (leaves + dt.timedelta(minutes=minutes)).isoformat()

    return {
        "train": train,
        "date": leaves.date().isoformat(),
        "stops": [
            {"station": "AAA", "name": "甲站", "km": 0, "depart": at(0)},
            {"station": "BBB", "name": "乙站", "km": 50, "arrive": at(30), "depart": at(32)},
            {"station": "CCC", "name": "丙站", "km": 120, "arrive": at(70)},
        ],
        "coaches": [{"coach": 1, "class": "ZE", "seats": seats}],
        "fares": {"ZE": 46},
    }


@dataclass
class Central:
    """Central in its own process, and the operator's calls the tests make."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: CentralProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Central:
        db = f"sqlite:///{self.workdir / 'central.db'}"
        self.process = CentralProcess(db, self.port, self.workdir, OPERATOR_TOKEN).start()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def post(self, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
        answer = httpx.post(self.url + path, json=body, headers=headers, timeout=10)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def get(self, path: str, **params: str) -> Any:
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        answer = httpx.get(self.url + path, params=params, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sell(self, run: dict[str, Any], name: str, id_number: str) -> dict[str, Any]:
        """Hold and pay one AAA->CCC ticket; the issued ticket (with its token)."""
        journey = {"train": run["train"], "date": run["date"], "from": "AAA", "to": "CCC"}
        held = self.post(
            "/v1/orders",
            {
                **journey,
                "class": "ZE",
                "channel": "window",
                "station": "AAA",
                "passengers": [{"name": name, "id_number": id_number}],
            },
        )
        payment = {"method": "cash", "amount_fen": held["total_fen"], "reference": name}
        paid = self.post(f"/v1/orders/{held['order_id']}/pay", payment)
        ticket: dict[str, Any] = paid["tickets"][0]
        return ticket
