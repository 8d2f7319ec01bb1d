"""Complete sales over HTTP on PostgreSQL: several API workers, each with its writer.

The production layout: ``stationkit central serve --db postgresql... --workers N``
(no writer process: each worker's writer locks only the run it sells on, so
sales of different trains go side by side). The same synthetic timetable,
``wrk`` script and clients as the SQLite benchmark sell complete sales (hold,
then pay). A database of its own is created for the run and dropped after.
Reported, no target: on this 2-core machine PostgreSQL shares the cores with
the workers and ``wrk``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench.http_bench import CONNECTIONS, DURATION_S, WARMUP_S, load_timetable, log_tail
from bench.wrk import TOKEN, BenchError, run_sales
from stationkit.processes import CentralProcess, code_path_env, free_port

PG_ADMIN_URL = os.environ.get(
    "STATIONKIT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
WORKERS = int(os.environ.get("STATIONKIT_BENCH_PG_WORKERS", "2"))


def run(date: dt.date) -> dict[str, float]:
    """Complete sales per second and their p99 on PostgreSQL; empty when it cannot be reached."""
    name = f"stationkit_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"pg: PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); skipped")
        return {}
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="stationkit-pg-bench-"))
    try:
        return _measure(url, workdir, date)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(url: str, workdir: Path, date: dt.date) -> dict[str, float]:
    migrate(url, workdir)
    load_timetable(workdir, url, date)
    server = CentralProcess(url, free_port(), workdir, TOKEN, workers=WORKERS)
    try:
        server.start()
        run_sales(server.url, "sale", "PW", WARMUP_S, date, CONNECTIONS)
        report = run_sales(server.url, "sale", "PM", DURATION_S, date, CONNECTIONS)
    except BenchError as exc:
        raise BenchError(f"{exc}\n--- server log ---\n{log_tail(workdir)}") from exc
    finally:
        server.stop()
    return {
        "central.pg_http_sales_per_s": report.sales / report.seconds,
        "central.pg_http_sale_p50_ms": report.sale_ms.get("50%", float("nan")),
        "central.pg_http_sale_p99_ms": report.sale_ms.get("99%", float("nan")),
        "central.pg_http_workers": float(WORKERS),
        "central.pg_http_non2xx": float(report.non2xx),
    }


def migrate(url: str, workdir: Path) -> None:
    """Lay the new database out, as an operator does before serving."""
    command = [sys.executable, "-m", "stationkit", "central", "migrate", "--db", url]
    done = subprocess.run(
        command, cwd=workdir, env=code_path_env(), capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise BenchError(f"migrate failed:\n{done.stdout}\n{done.stderr}")
