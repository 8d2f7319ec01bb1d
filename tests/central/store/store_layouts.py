"""Stores at given layouts for the migration tests, and revisions written for a test.

``make_legacy_store`` builds a store as StationKit made it before migrations
(layout 3): on SQLite from the very SQL that code wrote
(``layout3_sqlite.sql``), on PostgreSQL by running the baseline revision
(found identical to that code's ``pg_dump --schema-only`` when the baseline
was written). ``LEGACY_ROWS`` is a little of everything a store holds, in
that layout. ``write_revision`` adds a revision after the head in a folder
of the test's own, so the shipped revisions stay as they are.
"""

from __future__ import annotations

import sqlite3
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from central.store.database import connect
from central.store.migrations import BASELINE, alembic_config, head, layout_lock

LAYOUT3_SQL = Path(__file__).with_name("layout3_sqlite.sql")
T0 = datetime(2030, 1, 2, 7, 0, tzinfo=UTC)
LEGACY_ROWS: dict[str, list[dict[str, Any]]] = {
    "train_runs": [
        {
            "run_id": 1,
            "train": "G1",
            "service_date": "2030-01-02",
            "spec": '{"train": "G1"}',
            "departs_at": T0,
            "presale_opens_at": T0,
            "release_at": T0,
            "created_at": T0,
        }
    ],
    "run_versions": [{"run_id": 1, "version": 2, "quota_version": 1}],
    "quotas": [
        {
            "run_id": 1,
            "quota_id": "COMMON-ZE",
            "seat_class": "ZE",
            "purpose": "common",
            "min_dest": 0,
            "share_mode": "none",
            "sharers": "[]",
            "position": 0,
        }
    ],
    "seats": [
        {
            "run_id": 1,
            "seat_no": n,
            "coach": 1,
            "number": n + 1,
            "seat_class": "ZE",
            "quota_id": "COMMON-ZE",
            "sold": 3 * (n == 0),
            "blocked": 0,
            "splits": 0,
            "journeys": "0-2" if n == 0 else "",
            "version": 2,
        }
        for n in range(3)
    ],
    "orders": [
        {
            "order_id": "O1",
            "run_id": 1,
            "status": "paid",
            "channel": "tvm",
            "station": "AAA",
            "created_at": T0,
            "expires_at": T0,
            "total_fen": 4600,
            "paid_at": T0,
        }
    ],
    "tickets": [
        {
            "seq": 1,
            "ticket_id": "T1",
            "order_id": "O1",
            "run_id": 1,
            "seat_class": "ZE",
            "board": 0,
            "dest": 2,
            "seat_no": 0,
            "is_remote": False,
            "passenger_name": "旅客",
            "id_masked": "1101**********0011",
            "id_key": "k" * 64,
            "name_hash": "n" * 16,
            "id_hash": "i" * 16,
            "price_fen": 4600,
            "status": "issued",
            "departs_at": T0,
            "arrives_at": T0,
            "channel": "tvm",
            "created_at": T0,
        }
    ],
    "audit": [
        {
            "at": T0,
            "actor": "cli:ops",
            "action": "run.load",
            "run_id": 1,
            "reason": "",
            "detail": "{}",
        }
    ],
    "devices": [
        {
            "device_id": "tvm-1",
            "kind": "tvm",
            "token_hash": "h" * 64,
            "active": True,
            "created_at": T0,
        }
    ],
    "idempotency": [
        {
            "scope": "operator",
            "key": "k1",
            "request_hash": "r" * 64,
            "status_code": 201,
            "response": "{}",
            "created_at": T0,
        }
    ],
    "ticket_events": [
        {
            "at": T0,
            "kind": "issued",
            "ticket_id": "T1",
            "run_id": 1,
            "board_station": "AAA",
            "dest_station": "CCC",
            "departs_at": T0,
            "arrives_at": T0,
            "token": "tok",
        }
    ],
}

REVISION = '''\
"""A revision written by a test."""

import time
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}
'''

# Rebuilds train_runs on SQLite (a batch migration: copy, drop, rename) under its children.
WIDEN_TRAIN_RUNS = """\
with op.batch_alter_table("train_runs") as batch:
    batch.add_column(sa.Column("platform", sa.String(4), nullable=False, server_default="1"))
    batch.alter_column(
        "train", existing_type=sa.String(8), type_=sa.String(12), existing_nullable=False
    )
op.create_index("ix_train_runs_platform", "train_runs", ["platform"])
"""


def make_legacy_store(url: str) -> None:
    """A store as StationKit made it before migrations: layout 3, stamped in store_schema."""
    if make_url(url).get_backend_name() == "sqlite":
        with sqlite3.connect(str(make_url(url).database)) as db:
            db.executescript(LAYOUT3_SQL.read_text() + "INSERT INTO store_schema VALUES (3);")
        return
    engine = connect(url)
    with layout_lock(engine) as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, BASELINE)
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


def insert_rows(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert rows into the store's tables as they are laid out there."""
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            conn.execute(insert(tables.tables[name]), table_rows)
    engine.dispose()


def snapshot(conn: Connection, names: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the named tables (default: all), in primary-key order."""
    return {
        name: [tuple(row.values()) for row in rows] for name, rows in records(conn, names).items()
    }


def records(conn: Connection, names: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of the named tables (default: all) as column -> value, in primary-key order."""
    tables = MetaData()
    tables.reflect(conn)
    chosen = names if names is not None else sorted(tables.tables)
    shot: dict[str, list[dict[str, Any]]] = {}
    for name in chosen:
        table = tables.tables[name]
        order = list(table.primary_key.columns) or list(table.columns)
        rows = conn.execute(select(table).order_by(*order))
        shot[name] = [dict(row._mapping) for row in rows]
    return shot


def kept(
    after: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """``after`` with only the columns ``before`` had: what a migration had to keep."""
    return {
        name: [{column: row[column] for column in before[name][0]} for row in rows]
        for name, rows in after.items()
        if before.get(name)
    }


def write_revision(folder: Path, body: str, rev: str | None = None) -> Config:
    """A revision after the head, in ``folder``; the configuration that knows it."""
    down = head()
    rev = rev or f"{int(down) + 1:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    code = REVISION.format(rev=rev, down=down, body=textwrap.indent(body, "    "))
    (folder / f"v{rev}_test.py").write_text(code)
    return alembic_config([folder])


def drop_everything(url: str) -> None:
    """Drop every table of the database, Alembic's and the old layout's included."""
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
    engine.dispose()
