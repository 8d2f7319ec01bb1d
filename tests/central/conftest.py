"""Fixtures for central: a real store (SQLite file or PostgreSQL), the app, a clock."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from central.api.app import create_app
from central.api.service import CentralService
from central.sales.context import SalesContext
from central.settings import CentralSettings
from central.signing import KeyStore
from central.store.run_cache import RunCache
from central.store.tables import metadata
from central.writer.thread import WriterThread

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMETABLE = ROOT / "config" / "timetables" / "demo.json"
OPERATOR_TOKEN = "test-operator-token"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


PG_ADMIN_URL = os.environ.get(
    "STATIONKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own on the local PostgreSQL for this test run, dropped at the end."""
    name = f"stationkit_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every central test runs on the embedded store and on the production store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    metadata.drop_all(engine)  # the next test starts from an empty schema
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> CentralSettings:
    return CentralSettings(
        database_url=store_url,
        operator_token=OPERATOR_TOKEN,
        keys_dir=str(tmp_path / "keys"),
        card_stations=["VNP"],
        housekeeping_seconds=3600,
    )


def tiny_run(**overrides: Any) -> dict[str, Any]:
    """Three stops, one seat of ZE, two standing places."""
    run: dict[str, Any] = {
        "train": "G7001",
        "date": "2026-12-03",
        "stops": [
            {"station": "AAA", "name": "甲", "km": 0, "depart": "2026-12-03T08:00:00+08:00"},
            {
                "station": "BBB",
                "name": "乙",
                "km": 50,
                "arrive": "2026-12-03T08:30:00+08:00",
                "depart": "2026-12-03T08:32:00+08:00",
            },
            {"station": "CCC", "name": "丙", "km": 120, "arrive": "2026-12-03T09:10:00+08:00"},
        ],
        "coaches": [{"coach": 1, "class": "ZE", "seats": 1}],
        "standing": {"ZE": 2},
        "fares": {"ZE": 46},
    }
    run.update(overrides)
    return run


def demo_runs() -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = json.loads(DEMO_TIMETABLE.read_text())
    return runs


class Api:
    """A test client that adds the operator token and fresh idempotency keys."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    def post(self, path: str, body: Any = None, key: str | None = None, **kw: Any) -> Any:
        headers = {**self.auth, "Idempotency-Key": key or uuid.uuid4().hex, **kw.pop("headers", {})}
        return self.client.post(path, json=body, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.auth, **kw)


@pytest.fixture
def api(settings: CentralSettings, clock: FakeClock) -> Iterator[Api]:
    with TestClient(create_app(settings, clock)) as client:
        yield Api(client)


@pytest.fixture
def loaded(api: Api) -> Api:
    for run in demo_runs():
        response = api.post("/v1/train-runs", run)
        assert response.status_code == 201, response.text
    return api


def device_token(
    api: Api, device_id: str, kind: str = "tvm", station: str | None = "VNP", **extra: Any
) -> str:
    """Register a device or channel and return its bearer token.

    A channel gets its token in the answer; a unit (gate, TVM) gets an
    enrolment code, and enrols here as a unit does: it makes a token and
    sends only the token's SHA-256 with the code.
    """
    body = {"device_id": device_id, "kind": kind, "station": station, **extra}
    response = api.post("/v1/devices", body)
    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["device_id"] == device_id
    if "token" in registered:
        return str(registered["token"])
    token = secrets.token_urlsafe(32)
    enrolment = {
        "enrolment_code": registered["enrolment_code"],
        "credential_hash": hashlib.sha256(token.encode()).hexdigest(),
    }
    enrolled = api.client.post("/v1/enrolments", json=enrolment)
    assert enrolled.status_code == 200, enrolled.text
    return token


def writer_of(api: Api) -> WriterThread:
    """The writer thread of an in-process app, for tests that run a step in its transaction."""
    svc: CentralService = api.client.app.state.service  # type: ignore[attr-defined]
    assert isinstance(svc.writer, WriterThread)
    return svc.writer


def bare_context(tmp_path: Path) -> SalesContext:
    """A selling context on default settings, for tests of the writer alone."""
    settings = CentralSettings(keys_dir=str(tmp_path / "keys"))
    return SalesContext(settings, KeyStore(tmp_path / "keys"), RunCache(), settings.refund_policy())
