"""``stationkit central migrate``, serve's refusal of a store behind, and timetable dates.

On SQLite through click's runner: the store work itself is tested on both
stores in tests/central/store.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from central.store.migrations import BASELINE, head
from stationkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "timetables" / "demo.json"
LAYOUT3_SQL = ROOT / "tests" / "central" / "store" / "layout3_sqlite.sql"
CHINA = dt.timezone(dt.timedelta(hours=8))  # where the demo timetable's trains run


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # keys land under var/keys here
    return tmp_path / "central.db"


def legacy_store(path: Path) -> str:
    """A store as StationKit made it before migrations (layout 3)."""
    with sqlite3.connect(path) as store:
        store.executescript(LAYOUT3_SQL.read_text() + "INSERT INTO store_schema VALUES (3);")
    return f"sqlite:///{path}"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["central", *args])


def assert_one_line_error(result: Result, *said: str) -> None:
    """Exit 1 and one line on the output, saying what went wrong; no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert all(part in lines[0] for part in said), lines[0]


def test_migrate_upgrades_a_store_from_before_migrations_then_has_nothing_to_do(db: Path) -> None:
    url = legacy_store(db)
    first = run("migrate", "--db", url)
    assert first.exit_code == 0, first.output
    assert first.output == (
        f"store {url}: made before migrations, taken as revision {BASELINE}; "
        f"migrated from revision {BASELINE} to {head()}\n"
    )
    again = run("migrate", "--db", url)
    assert again.output == f"store {url}: at revision {head()} already, nothing to do\n"


def test_migrate_lays_out_a_new_store(db: Path) -> None:
    url = f"sqlite:///{db}"
    done = run("migrate", "--db", url)
    assert done.output == f"store {url}: new, laid out at revision {head()}\n"


def test_serve_refuses_a_store_behind_in_one_line(db: Path) -> None:
    url = legacy_store(db)
    refused = run("serve", "--db", url, "--port", "1")
    assert_one_line_error(refused, "made before migrations", "run `stationkit central migrate`")
    loading = run("load-timetable", str(DEMO), "--db", url)
    assert_one_line_error(loading, "run `stationkit central migrate`")


def test_migrate_errors_are_one_line(db: Path) -> None:
    url = f"sqlite:///{db}"
    assert run("migrate", "--db", url).exit_code == 0
    with sqlite3.connect(db) as store:
        store.execute("UPDATE alembic_version SET version_num = '0999'")
    assert_one_line_error(run("migrate", "--db", url), "0999", "newer StationKit")
    assert_one_line_error(run("migrate", "--db", "mysql://db/central"), "unsupported database")
    assert_one_line_error(run("migrate", "--db", "not a url"), "URL")


@pytest.mark.parametrize(("on", "ahead"), [("today", 0), ("tomorrow", 1), ("+1", 1), ("+30", 30)])
def test_load_timetable_on_a_day_relative_to_today_where_the_trains_run(
    db: Path, on: str, ahead: int
) -> None:
    today = dt.datetime.now(CHINA).date()
    loaded = run("load-timetable", str(DEMO), "--db", f"sqlite:///{db}", "--on", on)
    assert loaded.exit_code == 0, loaded.output
    service_date = loaded.output.splitlines()[0].split()[2]  # loaded G111 2030-01-02 as run 1
    midnight_passed = today + dt.timedelta(days=ahead + 1)
    assert service_date in {str(today + dt.timedelta(days=ahead)), str(midnight_passed)}
    assert "warning" not in loaded.output or ahead == 0  # today's early trains may have left


def test_load_timetable_on_a_calendar_date(db: Path) -> None:
    loaded = run("load-timetable", str(DEMO), "--db", f"sqlite:///{db}", "--on", "2099-03-04")
    assert loaded.exit_code == 0, loaded.output
    assert "loaded G111 2099-03-04 as run 1" in loaded.output
    assert "warning" not in loaded.output


def test_a_bad_date_is_a_usage_error(db: Path) -> None:
    refused = run("load-timetable", str(DEMO), "--db", f"sqlite:///{db}", "--on", "someday")
    assert refused.exit_code == 2
    assert "'someday' is not YYYY-MM-DD, today, tomorrow or +N" in refused.output


def test_loading_a_run_that_has_left_warns(db: Path) -> None:
    loaded = run("load-timetable", str(DEMO), "--db", f"sqlite:///{db}", "--on", "2001-01-01")
    assert loaded.exit_code == 0, loaded.output
    assert "warning: G111 2001-01-01 has left already" in loaded.output
    assert "--on today, tomorrow, +N or YYYY-MM-DD" in loaded.output
