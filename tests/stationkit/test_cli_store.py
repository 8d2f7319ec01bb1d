"""``stationkit central migrate``, and serve's refusal of a store behind.

On SQLite through click's runner: the store work itself is tested on both
stores in tests/central/store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from central.store.migrations import BASELINE, head
from stationkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "timetables" / "demo.json"
LAYOUT3_SQL = ROOT / "tests" / "central" / "store" / "layout3_sqlite.sql"


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
