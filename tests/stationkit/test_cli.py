"""The stationkit command's operator commands on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from central.store import tables as t
from stationkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "timetables" / "demo.json"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # keys land under var/keys here
    url = f"sqlite:///{tmp_path / 'central.db'}"
    loaded = CliRunner().invoke(
        main, ["central", "load-timetable", str(DEMO), "--db", url, "--on", "2027-01-10"]
    )
    assert loaded.exit_code == 0, loaded.output
    assert "loaded G111 2027-01-10 as run 1" in loaded.output
    return url


def invoke(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.output)
    return answer


def quota_seats(url: str) -> dict[str, int]:
    shown = invoke("central", "quotas", "K51", "2027-01-10", "--db", url)
    return {q["quota"]: q["seats"] for q in shown["quotas"]}  # type: ignore[attr-defined]


def test_adjust_preallocate_release_are_audited(store: str, tmp_path: Path) -> None:
    before = quota_seats(store)
    invoke(
        "central",
        "adjust",
        "K51",
        "2027-01-10",
        "--from-quota",
        "COMMON-YZ",
        "--to-quota",
        "origin_yz",
        "--seats",
        "5",
        "--reason",
        "group booking",
        "--db",
        store,
    )
    after = quota_seats(store)
    assert after["origin_yz"] == before["origin_yz"] + 5
    forecast = tmp_path / "forecast.json"
    forecast.write_text(json.dumps([{"from": "JNK", "to": "SHH", "class": "YZ", "passengers": 40}]))
    planned = invoke(
        "central", "preallocate", "K51", "2027-01-10", "--forecast", str(forecast), "--db", store
    )
    assert any("PA-YZ-JNK" in item for item in planned["items"])  # type: ignore[attr-defined]
    assert quota_seats(store)["PA-YZ-JNK"] == 12  # 30 % of 40
    invoke("central", "release", "K51", "2027-01-10", "--db", store)
    assert quota_seats(store)["PA-YZ-JNK"] == 0
    engine = create_engine(store)
    with engine.connect() as conn:
        actions = list(conn.execute(select(t.audit.c.action, t.audit.c.actor)))
    engine.dispose()
    names = [action for action, _ in actions]
    assert {"quota.adjust", "preallocation.run", "preallocation.release"} <= set(names)
    assert all(actor.startswith("cli:") for _, actor in actions)


def test_errors_are_clear_and_change_nothing(store: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "central",
            "adjust",
            "K51",
            "2027-01-10",
            "--from-quota",
            "nope",
            "--to-quota",
            "origin_yz",
            "--seats",
            "1",
            "--reason",
            "x",
            "--db",
            store,
        ],
    )
    assert result.exit_code != 0 and "unknown_quota" in result.output
    missing = CliRunner().invoke(main, ["central", "quotas", "G9", "2027-01-10", "--db", store])
    assert missing.exit_code != 0 and "unknown_train" in missing.output


@pytest.mark.parametrize(
    "text", ["{not json", '[{"from": "BJP", "to": "SHH", "class": "YZ", "passengers": -1}]']
)
def test_a_bad_forecast_file_is_refused_clearly(store: str, tmp_path: Path, text: str) -> None:
    forecast = tmp_path / "forecast.json"
    forecast.write_text(text)
    command = ["central", "preallocate", "K51", "2027-01-10", "--forecast", str(forecast)]
    result = CliRunner().invoke(main, [*command, "--db", store])
    assert result.exit_code == 1 and "bad forecast file" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
