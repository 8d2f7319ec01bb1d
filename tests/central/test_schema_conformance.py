"""Schemathesis against a live central: the schema and the server agree, and nothing is a 5xx.

A real ``stationkit central serve`` process runs on SQLite and on PostgreSQL
with the demo timetable loaded (through the API) for a day shortly after
today. Schemathesis reads ``/openapi.json`` and runs its phases (examples,
coverage, fuzzing, stateful) with a bounded number of cases per operation,
authenticated as the operator and sending the Idempotency-Key the schema
declares. Every check runs; two are configured, precisely, for what a schema
cannot say:

- ``positive_data_acceptance`` also accepts 422 on the operations whose
  bodies carry rules between values that JSON Schema cannot state (two
  stations that must differ, distances that must rise ...; each listed in the
  model's description) or whose journeys the timetable may refuse
  (``bad_journey``: a class the train has no coaches of, a reversed journey).
- Those 422 answers are vetted by ``valid_data_refused_only_for_unstated_rules``
  (below): the answer must be ``bad_journey``, or the body must break only
  rules of the ``inconsistent`` kind. A schema-valid request refused for a
  rule the schema states is a finding.

This module is also the hooks module of the schemathesis run
(``SCHEMATHESIS_HOOKS``), which is how the CLI process finds the check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from pydantic import BaseModel, ValidationError
from schemathesis import GenerationMode

from protocol.fields import INCONSISTENT
from protocol.messages import (
    AdjustmentRequest,
    ChangeRequest,
    DeviceRequest,
    OrderRequest,
    PaymentRequest,
    PreallocationRunRequest,
    StandingAdjustmentRequest,
)
from protocol.timetable import TrainRunSpec
from protocol.tvm import BlockRequest, BlockSalesUpload, SigningKeyRequest
from protocol.units import EnrolmentRequest, PassageUpload

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEMO = ROOT / "config" / "timetables" / "demo.json"
TOKEN = "schemathesis-operator-token"
# Cases per operation and phase: on this 2-core machine a run takes ~20 s a store when idle.
# A deeper hunt: STATIONKIT_SCHEMATHESIS_EXAMPLES=200; a replay: STATIONKIT_SCHEMATHESIS_SEED.
MAX_EXAMPLES = int(os.environ.get("STATIONKIT_SCHEMATHESIS_EXAMPLES", "20"))
SEED = os.environ.get("STATIONKIT_SCHEMATHESIS_SEED")  # unset: a new seed each run, printed
RUN = "/v1/train-runs/{train}/{date}"

# The body model of every operation that takes a body, as its route declares it.
BODY_MODELS: dict[str, type[BaseModel]] = {
    "POST /v1/orders": OrderRequest,
    "POST /v1/orders/{order_id}/pay": PaymentRequest,
    "POST /v1/tickets/{ticket_id}/change": ChangeRequest,
    "POST /v1/train-runs": TrainRunSpec,
    f"POST {RUN}/adjustments": AdjustmentRequest,
    f"POST {RUN}/standing": StandingAdjustmentRequest,
    f"POST {RUN}/preallocation": PreallocationRunRequest,
    "POST /v1/devices": DeviceRequest,
    "POST /v1/enrolments": EnrolmentRequest,
    "POST /v1/passages": PassageUpload,
    "POST /v1/units/me/signing-key": SigningKeyRequest,
    "POST /v1/units/me/block-sales": BlockSalesUpload,
    f"POST {RUN}/blocks": BlockRequest,
}
# Operations a schema-valid request may be refused by with 422: rules between values in the
# body (BODY_MODELS' descriptions) or a journey the loaded timetable cannot make (bad_journey).
REFUSED_BY_UNSTATED_RULES = [
    "GET /v1/availability",
    "POST /v1/orders",
    "POST /v1/tickets/{ticket_id}/change",
    "POST /v1/train-runs",
    f"POST {RUN}/adjustments",
    f"POST {RUN}/standing",
    f"POST {RUN}/preallocation",
    f"POST {RUN}/blocks",
]
GATE_OPERATIONS = ["POST /v1/passages", "GET /v1/units/me"]
TVM_OPERATIONS = [
    "POST /v1/units/me/signing-key",
    "GET /v1/units/me/blocks",
    "POST /v1/units/me/block-sales",
]
UNSTATED_CODES = {"bad_journey"}  # 422 codes that depend on the stored timetable, not the schema


# ----------------------------------------------------------------- the check (a schemathesis hook)


@schemathesis.check
def valid_data_refused_only_for_unstated_rules(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """A schema-valid request answered 422 broke only rules the schema cannot state."""
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    if response.status_code != 422:
        return None
    code = response.json()["error"]["code"]
    if code in UNSTATED_CODES:
        return None
    kinds = _error_kinds(case.operation.label, case.body)
    if not kinds or kinds - {INCONSISTENT}:
        raise AssertionError(
            f"a schema-valid request was refused for a rule the schema states "
            f"(errors of kinds {sorted(kinds)}): {response.text[:500]}"
        )
    return True


def _error_kinds(operation: str, body: Any) -> set[str]:
    """The kinds of error the operation's body model finds in ``body`` (empty: none, or no body)."""
    model = BODY_MODELS.get(operation)
    if model is None:
        return set()
    try:
        model.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        return {error["type"] for error in exc.errors()}
    return set()


# ----------------------------------------------------------------- the run


def schemathesis_config(day: dt.date, stations: list[str], gate_token: str, tvm_token: str) -> str:
    """The run's configuration: auth, case budget, checks, and values that reach the timetable."""
    names = ", ".join(f'"{name}"' for name in REFUSED_BY_UNSTATED_RULES)
    gates = ", ".join(f'"{name}"' for name in GATE_OPERATIONS)
    tvms = ", ".join(f'"{name}"' for name in TVM_OPERATIONS)
    codes = ", ".join(f'"{code}"' for code in stations)
    return f"""
headers = {{ Authorization = "Bearer {TOKEN}" }}
workers = 1
request-timeout = 20
continue-on-failure = true

[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[phases.stateful]
max-steps = 10

[checks]
enabled = true

# Half the time, a train, service date and stations that exist, so requests reach past 404.
[dictionaries]
trains = {{ values = ["G111", "K51", "D5461"] }}
dates = {{ values = ["{day.isoformat()}"] }}
stations = {{ values = [{codes}] }}

[parameters]
"query.train" = {{ dictionary = "trains", probability = 0.5 }}
"path.train" = {{ dictionary = "trains", probability = 0.5 }}
"body.train" = {{ dictionary = "trains", probability = 0.5 }}
"query.date" = {{ dictionary = "dates", probability = 0.5 }}
"path.date" = {{ dictionary = "dates", probability = 0.5 }}
"body.date" = {{ dictionary = "dates", probability = 0.5 }}
"query.from" = {{ dictionary = "stations", probability = 0.5 }}
"query.to" = {{ dictionary = "stations", probability = 0.5 }}
"body.from" = {{ dictionary = "stations", probability = 0.5 }}
"body.to" = {{ dictionary = "stations", probability = 0.5 }}
"body.station" = {{ dictionary = "stations", probability = 0.5 }}

# Rules JSON Schema cannot state: 422 is a documented answer to valid data here, and
# valid_data_refused_only_for_unstated_rules checks each such answer (module docstring).
[[operations]]
include-name = [{names}]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# What only a unit may call is called as a gate of the demo's first station.
[[operations]]
include-name = [{gates}]
headers = {{ Authorization = "Bearer {gate_token}" }}

# And what only a TVM may call, as a TVM of that station.
[[operations]]
include-name = [{tvms}]
headers = {{ Authorization = "Bearer {tvm_token}" }}
"""


def load_demo(base_url: str, day: dt.date) -> list[str]:
    """Load the demo timetable moved to ``day`` through the API; the stations it calls at."""
    from central.operating.timetable_file import read_timetable

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    stations: list[str] = []
    for run in read_timetable(DEMO, on=day):
        headers["Idempotency-Key"] = uuid.uuid4().hex
        body = run.model_dump_json(by_alias=True, exclude_none=True)
        answer = httpx.post(f"{base_url}/v1/train-runs", content=body, headers=headers)
        assert answer.status_code == 201, answer.text
        stations += [stop.station for stop in run.stops if stop.station not in stations]
    return stations


def enrolled_unit(base_url: str, station: str, kind: str = "gate") -> str:
    """Register a unit at ``station`` and enrol it as a unit does; its bearer token."""
    operator = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
    body = {"device_id": f"{kind}-schemathesis", "kind": kind, "station": station}
    code = httpx.post(f"{base_url}/v1/devices", json=body, headers=operator).json()
    token = uuid.uuid4().hex
    proof = {"enrolment_code": code["enrolment_code"], "credential_hash": sha256(token)}
    assert httpx.post(f"{base_url}/v1/enrolments", json=proof).status_code == 200
    return token


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run_schemathesis(base_url: str, config: Path) -> subprocess.CompletedProcess[str]:
    """The schemathesis CLI against the server, this module as its hooks."""
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": Path(__file__).stem,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
    }
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    command += [f"{base_url}/openapi.json", "--no-color"]
    command += ["--seed", SEED] if SEED else []
    return subprocess.run(
        command, cwd=config.parent, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_schemathesis_finds_nothing(kind: str, tmp_path: Path) -> None:
    from server_fixtures import store_database

    from stationkit.processes import CentralProcess, free_port

    day = dt.date.today() + dt.timedelta(days=2)
    env = {"PYTHONPATH": str(ROOT)}  # the server runs this tree's code, not the installed one
    with store_database(kind, tmp_path) as db_url:
        server = CentralProcess(db_url, free_port(), tmp_path / "work", TOKEN, extra_env=env)
        server.start()
        try:
            config = tmp_path / "schemathesis.toml"
            stations = load_demo(server.url, day)
            gate = enrolled_unit(server.url, stations[0])
            tvm = enrolled_unit(server.url, stations[0], "tvm")
            config.write_text(schemathesis_config(day, stations, gate, tvm))
            started = time.monotonic()
            result = run_schemathesis(server.url, config)
            took = time.monotonic() - started
        finally:
            server.stop()
    output = result.stdout + result.stderr
    print(f"schemathesis on {kind}: {took:.1f} s\n{output[-3000:]}")
    assert result.returncode == 0, output[-20000:]


def test_every_operation_with_a_body_has_its_model_here() -> None:
    from central.api.app import create_app
    from central.settings import CentralSettings

    spec = create_app(CentralSettings(database_url="sqlite://")).openapi()
    with_body = {
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert with_body == set(BODY_MODELS)
    assert set(REFUSED_BY_UNSTATED_RULES) <= {
        f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
    }
