"""A new revision on a store that holds sales: applied with the data kept, all or nothing.

The revision is written by the test (``store_layouts.write_revision``): it
rebuilds ``train_runs``, the table every other one points to, which SQLite
can only do by copying it (a batch migration). Each test runs on SQLite and
on PostgreSQL; on both, a migration is one transaction.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Api, FakeClock, demo_runs
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from store_layouts import WIDEN_TRAIN_RUNS, drop_everything, snapshot, write_revision

from central.api.app import create_app
from central.settings import CentralSettings
from central.store.database import connect
from central.store.migrations import Migration, StoreLayoutError, head, migrate, store_state

ROOT = Path(__file__).resolve().parents[3]
MIGRATE = """
import sys
from pathlib import Path
from central.store.database import connect
from central.store.migrations import alembic_config, migrate
migrate(connect(sys.argv[1]), alembic_config([Path(sys.argv[2])]))
"""


@pytest.fixture
def store(settings: CentralSettings, clock: FakeClock) -> Iterator[str]:
    """A store at the head holding the demo timetable and one paid order; closed again."""
    with TestClient(create_app(settings, clock)) as client:
        api = Api(client)
        for run in demo_runs():
            assert api.post("/v1/train-runs", run).status_code == 201
        run = demo_runs()[0]
        stops = [stop["station"] for stop in run["stops"]]
        passenger = {"name": "旅客", "id_number": "110101199001010000"}
        order = {"train": run["train"], "date": run["date"], "from": stops[0], "to": stops[-1]}
        order |= {"class": "ZE", "channel": "tvm", "station": stops[0]}
        held = api.post("/v1/orders", {**order, "passengers": [passenger]}).json()
        payment = {"method": "cash", "amount_fen": held["total_fen"], "reference": "R1"}
        assert api.post(f"/v1/orders/{held['order_id']}/pay", payment).status_code == 200
    yield settings.database_url
    drop_everything(settings.database_url)


def everything(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of central's tables, without the column the revision adds."""
    engine = connect(url)
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
        shot = snapshot(conn, names)
        columns = [c["name"] for c in inspect(conn).get_columns("train_runs")]
    engine.dispose()
    if "platform" in columns:
        at = columns.index("platform")
        shot["train_runs"] = [row[:at] + row[at + 1 :] for row in shot["train_runs"]]
    return shot


def train_runs_columns(url: str) -> list[str]:
    engine = connect(url)
    columns = [c["name"] for c in inspect(engine).get_columns("train_runs")]
    engine.dispose()
    return columns


def test_a_new_revision_applies_and_keeps_every_row(store: str, tmp_path: Path) -> None:
    before = everything(store)
    assert before["tickets"] and before["seats"], "the store holds sales"
    config = write_revision(tmp_path / "versions", WIDEN_TRAIN_RUNS)
    engine = connect(store)
    done = migrate(engine, config)
    with engine.connect() as conn:
        platforms = conn.execute(text("SELECT DISTINCT platform FROM train_runs")).all()
        widened = {c["name"]: c["type"] for c in inspect(conn).get_columns("train_runs")}
    engine.dispose()
    assert (done.before, done.after) == (head(), head(config))
    assert everything(store) == before
    assert platforms == [("1",)]
    assert getattr(widened["train"], "length", None) == 12


def test_a_migration_killed_midway_leaves_the_old_revision(store: str, tmp_path: Path) -> None:
    """The process dies after the rebuild, before the commit: nothing of it stays."""
    marker = tmp_path / "rebuilt"
    stall = f"Path({str(marker)!r}).write_text('done')\ntime.sleep(120)\n"
    folder = tmp_path / "versions"
    write_revision(folder, WIDEN_TRAIN_RUNS + stall)
    before = everything(store)
    migrating = subprocess.Popen([sys.executable, "-c", MIGRATE, store, str(folder)], cwd=ROOT)
    try:
        wait_for(marker, migrating)
    finally:
        migrating.kill()
        migrating.wait(timeout=30)
    engine = connect(store)
    with engine.connect() as conn:
        assert store_state(conn).revision == head()
    engine.dispose()
    assert "platform" not in train_runs_columns(store)
    assert everything(store) == before
    config = write_revision(folder, WIDEN_TRAIN_RUNS)  # the same revision, without the stall
    engine = connect(store)
    assert migrate(engine, config).after == head(config)
    engine.dispose()
    assert "platform" in train_runs_columns(store)


def test_a_revision_that_would_orphan_rows_is_rolled_back(store: str, tmp_path: Path) -> None:
    """SQLite runs revisions with foreign keys off: they are checked before the commit."""
    config = write_revision(tmp_path / "versions", 'op.execute("DELETE FROM train_runs")')
    before = everything(store)
    engine = connect(store)
    with pytest.raises((StoreLayoutError, IntegrityError)) as refused:
        migrate(engine, config)
    with engine.connect() as conn:
        assert store_state(conn).revision == head()
    engine.dispose()
    assert everything(store) == before
    if engine.dialect.name == "sqlite":
        assert "row(s) pointing nowhere" in str(refused.value)


def test_two_migrations_at_once_apply_a_revision_once(store: str, tmp_path: Path) -> None:
    """The second waits on the layout lock, then finds the store at the head."""
    marked = "INSERT INTO audit (at, actor, action, reason, detail) VALUES "
    marked += "(CURRENT_TIMESTAMP, 'migration', 'test.migrated', '', '{}')"
    config = write_revision(tmp_path / "versions", f"op.execute({marked!r})")
    results: list[Migration] = []

    def run() -> None:
        engine = connect(store)
        results.append(migrate(engine, config))
        engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    new = head(config)
    assert sorted((m.before, m.after) for m in results) == [(head(), new), (new, new)]
    engine = connect(store)
    with engine.connect() as conn:
        rows = conn.execute(
            select(text("count(*)"))
            .select_from(text("audit"))
            .where(text("action = 'test.migrated'"))
        ).scalar()
    engine.dispose()
    assert rows == 1


def wait_for(marker: Path, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    """Until the migrating process has written ``marker``; fail if it ends first."""
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        assert process.poll() is None, f"the migration ended with {process.returncode}"
        assert time.monotonic() < deadline, "the migration never reached its stall"
        time.sleep(0.05)
