"""Sales over HTTP: one central server on durable SQLite, driven by ``wrk``.

The synthetic timetable (100 runs x 20 stops x 1,000 seats) is loaded with
``stationkit central load-timetable`` into a fresh SQLite file; then
``stationkit central serve --writer-process`` (an HTTP process and the
writer process) starts on it and ``wrk`` sells: one internet passenger per
order, random train and OD pair, unique ID number and Idempotency-Keys.

The headline is the complete sale (hold, then pay by card, tickets issued
with signed tokens): ``central.http_sales_per_s`` and the latency of a whole
sale. Holds alone (``central.http_holds_per_s``) are measured with the same
clients in the same run, round by round alternating with the sales, so the
two figures share the machine's mood. Then availability is asked by one
client with the server idle and again during a sales storm. Afterwards the
store is asked what it really holds: issued tickets, and any seat segment
sold twice.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.workload import timetable
from bench.wrk import (
    RUNS,
    TOKEN,
    BenchError,
    WrkReport,
    availability_command,
    finish,
    run_sales,
    sales_arguments,
    start_wrk,
    wrk_binary,
    wrk_command,
)
from stationkit.processes import CentralProcess, code_path_env, free_port

# Latency depends on how many requests are in flight (Little's law): the headline
# figures are at 16 concurrent clients; 32 is measured too, to show the curve.
CONNECTIONS = 16
MORE_CONNECTIONS = 32
WARMUP_S = 4
DURATION_S = 10
AVAILABILITY_S = 5
# This small shared machine's speed drifts by 10-15 % between runs: the headline is
# the median of several rounds, with the slowest and fastest beside it.
ROUNDS = 3
# One HTTP process parses and validates while one writer process sells and commits.
HTTP_WORKERS = int(os.environ.get("STATIONKIT_BENCH_HTTP_WORKERS", "1"))


def load_timetable(workdir: Path, db_url: str, date: dt.date) -> float:
    """Write the synthetic timetable and load it with the CLI; returns the seconds it took."""
    path = workdir / "timetable.json"
    path.write_bytes(orjson.dumps(timetable(RUNS, date)))
    command = [sys.executable, "-m", "stationkit", "central", "load-timetable", str(path)]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--db", db_url],
        cwd=workdir,
        env=code_path_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise BenchError(f"load-timetable failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


ISSUED_BY_TAG = "SELECT count(*) FROM tickets WHERE status = 'issued' AND passenger_name LIKE ?"
# live tickets of one seat whose journeys overlap: a seat segment sold twice
DOUBLE_SOLD = """
SELECT count(*) FROM tickets x JOIN tickets y
  ON x.run_id = y.run_id AND x.seat_no = y.seat_no AND x.seq < y.seq
 AND x.board < y.dest AND y.board < x.dest
WHERE x.status IN ('held', 'issued') AND y.status IN ('held', 'issued')
"""


def store_counts(db_path: Path, tag: str) -> tuple[int, int]:
    """Issued tickets of passengers named ``P<tag>...``, and seat segments sold twice.

    Read once the server has stopped: what the store kept, whatever wrk counted.
    """
    with sqlite3.connect(db_path) as conn:
        issued = conn.execute(ISSUED_BY_TAG, (f"P{tag}%",)).fetchone()[0]
        double = conn.execute(DOUBLE_SOLD).fetchone()[0]
    return int(issued), int(double)


def log_tail(workdir: Path, lines: int = 30) -> str:
    """The end of the server logs, for an error message."""
    logs = sorted(workdir.glob("central-*.log"))
    text = "\n".join(log.read_text(errors="replace") for log in logs)
    return "\n".join(text.splitlines()[-lines:])


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(server: CentralProcess) -> list[int]:
    """The server's processes: the HTTP process and its children (the writer process)."""
    assert server.process is not None
    http = server.process.pid
    children = Path(f"/proc/{http}/task/{http}/children").read_text().split()
    return [http, *(int(pid) for pid in children)]


@dataclass
class Round:
    """One measured wrk run and the CPU the server's processes spent in it."""

    mode: str  # "sale" or "hold"
    report: WrkReport
    http_cpu_s: float
    writer_cpu_s: float

    @property
    def done(self) -> int:
        """Complete sales (paid) in sale mode, holds in hold mode."""
        return self.report.sales if self.mode == "sale" else self.report.count("hold", 201)

    @property
    def per_s(self) -> float:
        """Complete sales or holds per second."""
        return self.done / self.report.seconds

    @property
    def p99_ms(self) -> float:
        """A whole sale's p99 (hold to paid), or a hold's."""
        latency = self.report.sale_ms if self.mode == "sale" else self.report.latency_ms
        return latency.get("99%", float("nan"))

    @property
    def p50_ms(self) -> float:
        """A whole sale's median, or a hold's."""
        latency = self.report.sale_ms if self.mode == "sale" else self.report.latency_ms
        return latency.get("50%", float("nan"))


def measure_round(server: CentralProcess, mode: str, tag: str, date: dt.date) -> Round:
    """One wrk run of ``DURATION_S`` with the server processes' CPU time around it."""
    pids = server_pids(server)
    before = [cpu_seconds(pid) for pid in pids]
    report = run_sales(server.url, mode, tag, DURATION_S, date, CONNECTIONS)
    after = [cpu_seconds(pid) for pid in pids]
    writer = sum(after[1:]) - sum(before[1:])
    return Round(mode, report, after[0] - before[0], writer)


def round_figures(rounds: list[Round], name: str) -> dict[str, float]:
    """The median round's figures under ``central.http_<name>...``, with the spread."""
    ordered = sorted(rounds, key=lambda r: r.per_s)
    middle = ordered[len(ordered) // 2]
    unit = name[:-1]  # "sales" -> "sale"
    return {
        f"central.http_{name}_per_s": middle.per_s,
        f"central.http_{name}_per_s_slowest_round": ordered[0].per_s,
        f"central.http_{name}_per_s_fastest_round": ordered[-1].per_s,
        f"central.http_{unit}_p50_ms": middle.p50_ms,
        f"central.http_{unit}_p99_ms": middle.p99_ms,
        f"central.http_{unit}_p99_ms_worst_round": max(r.p99_ms for r in rounds),
        f"central.http_cpu_us_per_{unit}_http": middle.http_cpu_s / max(middle.done, 1) * 1e6,
        f"central.http_cpu_us_per_{unit}_writer": middle.writer_cpu_s / max(middle.done, 1) * 1e6,
    }


def availability_figures(server: CentralProcess, date: dt.date) -> dict[str, float]:
    """Availability asked by one client: with the server idle, then during a sales storm."""
    idle = finish(start_wrk(availability_command(server.url, AVAILABILITY_S, date)), AVAILABILITY_S)
    storm_command = wrk_command(
        f"{server.url}/v1/orders",
        Path(__file__).with_name("sales.lua"),
        DURATION_S,
        CONNECTIONS,
        sales_arguments("sale", "S", date),
    )
    storm = start_wrk(storm_command)
    time.sleep(1)  # the storm is at full strength before the measured queries start
    during = finish(start_wrk(availability_command(server.url, DURATION_S - 2, date)), DURATION_S)
    stormed = finish(storm, DURATION_S)
    idle_p99 = idle.latency_ms.get("99%", float("nan"))
    storm_p99 = during.latency_ms.get("99%", float("nan"))
    return {
        "central.availability_http_p50_ms": idle.latency_ms.get("50%", float("nan")),
        "central.availability_http_p99_ms": idle_p99,
        "central.availability_http_storm_p99_ms": storm_p99,
        "central.availability_http_storm_ratio": storm_p99 / idle_p99,
        "central.availability_http_storm_sales_per_s": stormed.sales / stormed.seconds,
        "central.availability_http_non200": float(
            idle.requests - idle.count("get", 200) + during.requests - during.count("get", 200)
        ),
    }


def measure(workdir: Path, date: dt.date) -> dict[str, float]:
    """Load, serve, warm up, measure; flat result keys."""
    db_path = workdir / "central.db"
    db_url = f"sqlite:///{db_path}"
    load_s = load_timetable(workdir, db_url, date)
    server = CentralProcess(
        db_url, free_port(), workdir, TOKEN, workers=HTTP_WORKERS, writer_process=True
    )
    try:
        server.start()
        run_sales(server.url, "sale", "W", WARMUP_S, date, CONNECTIONS)
        holds, sales = [], []
        for n in range(ROUNDS):
            holds.append(measure_round(server, "hold", f"H{n}", date))
            sales.append(measure_round(server, "sale", f"M{n}", date))
        available = availability_figures(server, date)
        busier = run_sales(server.url, "sale", "N", DURATION_S, date, MORE_CONNECTIONS)
    except BenchError as exc:
        raise BenchError(f"{exc}\n--- server log ---\n{log_tail(workdir)}") from exc
    finally:
        server.stop()
    issued, double_sold = store_counts(db_path, "M")
    sale_figures = round_figures(sales, "sales")
    hold_figures = round_figures(holds, "holds")
    paid = sum(r.report.sales for r in sales)
    return {
        "central.http_load_timetable_s": load_s,
        **sale_figures,
        **hold_figures,
        "central.http_sale_to_hold_ratio": (
            sale_figures["central.http_sales_per_s"] / hold_figures["central.http_holds_per_s"]
        ),
        "central.http_rounds": float(ROUNDS),
        "central.http_connections": float(CONNECTIONS),
        "central.http_paid": float(paid),
        "central.http_issued_in_store": float(issued),
        "central.http_non2xx": float(sum(r.report.non2xx for r in [*sales, *holds])),
        "central.http_socket_errors": float(sum(r.report.socket_errors for r in [*sales, *holds])),
        "central.http_double_sold": float(double_sold),
        **available,
        f"central.http_c{MORE_CONNECTIONS}_sales_per_s": busier.sales / busier.seconds,
        f"central.http_c{MORE_CONNECTIONS}_sale_p99_ms": busier.sale_ms.get("99%", float("nan")),
    }


def run(date: dt.date, keep: bool = False) -> dict[str, float]:
    """The HTTP figures, in a temporary directory removed afterwards unless ``keep``."""
    wrk_binary()
    workdir = Path(tempfile.mkdtemp(prefix="stationkit-bench-"))
    try:
        return measure(workdir, date)
    finally:
        if keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
