"""Sales over HTTP: one central process on durable SQLite, driven by ``wrk``.

The synthetic timetable (100 runs x 20 stops x 1,000 seats) is written to a
temporary directory and loaded with ``stationkit central load-timetable``
into a fresh SQLite file; then ``stationkit central serve --writer-process``
(an HTTP process and the writer process) starts on it and
``wrk`` (C, one thread: this machine has two cores, and the server needs
them more) runs ``sales.lua``: one internet passenger per order, random train
and OD pair, unique ID number and Idempotency-Key. A short warm-up loads
every run into the server's cache first. Figures come from wrk's report and
the status counts the script prints; afterwards the store is asked how many
orders it really holds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.workload import station_codes, timetable, train_numbers
from stationkit.processes import CentralProcess, free_port

RUNS = 100
# Latency depends on how many requests are in flight (Little's law): the headline
# figures are at 16 concurrent clients; 32 is measured too, to show the curve.
CONNECTIONS = 16
MORE_CONNECTIONS = 32
WARMUP_S = 4
DURATION_S = 10
# This small shared machine's speed drifts by 10-15 % between runs: the headline is
# the median of several rounds, with the slowest and fastest beside it.
ROUNDS = 3
TOKEN = "bench-operator-token"
# One HTTP process parses and validates while one writer process sells and commits
# (a second HTTP process measured slower: the first one accepts every wrk connection).
HTTP_WORKERS = int(os.environ.get("STATIONKIT_BENCH_HTTP_WORKERS", "1"))
LUA_SCRIPT = Path(__file__).with_name("sales.lua")
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


class BenchError(RuntimeError):
    """The HTTP benchmark could not run; the message says what to do."""


@dataclass
class WrkReport:
    """What one wrk run reported."""

    requests: int
    seconds: float
    requests_per_s: float
    latency_ms: dict[str, float]  # "50%", "75%", "90%", "99%"
    non2xx: int
    socket_errors: int
    statuses: dict[int, int] = field(default_factory=dict)


def wrk_binary() -> str:
    """Path of ``wrk``, or a clear error."""
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: run `make deps` (it installs the Debian package)")
    return path


def parse_wrk(output: str) -> WrkReport:
    """Read the figures out of ``wrk --latency`` output and the script's status lines."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done is None or rate is None:
        raise BenchError(f"cannot read wrk's report:\n{output}")
    latency = {
        pct: float(value) * UNIT_MS[unit]
        for pct, value, unit in re.findall(r"^\s+(\d+%)\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    statuses: dict[int, int] = {}
    for status, count in re.findall(r"^status (\d+) (\d+)$", output, re.M):
        statuses[int(status)] = statuses.get(int(status), 0) + int(count)
    return WrkReport(
        requests=int(done.group(1)),
        seconds=float(done.group(2)) * UNIT_MS[done.group(3)] / 1e3,
        requests_per_s=float(rate.group(1)),
        latency_ms=latency,
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        statuses=statuses,
    )


def run_wrk(
    url: str,
    tag: str,
    seconds: int,
    date: dt.date,
    latency: bool = True,
    connections: int = CONNECTIONS,
) -> WrkReport:
    """One wrk run of ``sales.lua``; ``tag`` starts its passengers' names and ID numbers."""
    command = [wrk_binary(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["--latency"] if latency else []
    command += ["-s", str(LUA_SCRIPT), f"{url}/v1/orders", "--", tag]
    command += [",".join(train_numbers(RUNS)), date.isoformat(), ",".join(station_codes()), TOKEN]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(done.stdout)


def load_timetable(workdir: Path, db_url: str, date: dt.date) -> float:
    """Write the synthetic timetable and load it with the CLI; returns the seconds it took."""
    path = workdir / "timetable.json"
    path.write_bytes(orjson.dumps(timetable(RUNS, date)))
    command = [sys.executable, "-m", "stationkit", "central", "load-timetable", str(path)]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--db", db_url], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise BenchError(f"load-timetable failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


HELD_BY_TAG = "SELECT count(*) FROM tickets WHERE status = 'held' AND passenger_name LIKE ?"
# held tickets of one seat whose journeys overlap: a seat segment sold twice
DOUBLE_SOLD = """
SELECT count(*) FROM tickets x JOIN tickets y
  ON x.run_id = y.run_id AND x.seat_no = y.seat_no AND x.seq < y.seq
 AND x.board < y.dest AND y.board < x.dest
WHERE x.status = 'held' AND y.status = 'held'
"""


def store_counts(db_path: Path, tag: str) -> tuple[int, int]:
    """Held tickets of passengers named ``P<tag>...``, and seat segments sold twice.

    Read once the server has stopped: what the store kept, whatever wrk counted.
    """
    with sqlite3.connect(db_path) as conn:
        held = conn.execute(HELD_BY_TAG, (f"P{tag}%",)).fetchone()[0]
        double = conn.execute(DOUBLE_SOLD).fetchone()[0]
    return int(held), int(double)


def log_tail(workdir: Path, lines: int = 30) -> str:
    """The end of the server logs, for an error message."""
    logs = sorted(workdir.glob("central-*.log"))
    text = "\n".join(log.read_text(errors="replace") for log in logs)
    return "\n".join(text.splitlines()[-lines:])


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(server: CentralProcess) -> tuple[int, int]:
    """The HTTP process and the writer process (its child) of a split server."""
    assert server.process is not None
    http = server.process.pid
    children = Path(f"/proc/{http}/task/{http}/children").read_text().split()
    if len(children) != 1:
        raise BenchError(f"expected one writer process under {http}, found {children}")
    return http, int(children[0])


@dataclass
class Round:
    """One measured wrk run and the CPU the server's two processes spent in it."""

    report: WrkReport
    http_cpu_s: float
    writer_cpu_s: float

    @property
    def created(self) -> int:
        """Orders created (201) in this round."""
        return self.report.statuses.get(201, 0)

    @property
    def sales_per_s(self) -> float:
        """Orders created per second."""
        return self.created / self.report.seconds


def measure_round(server: CentralProcess, tag: str, date: dt.date) -> Round:
    """One wrk run of ``DURATION_S`` with the server processes' CPU time around it."""
    pids = server_pids(server)
    before = [cpu_seconds(pid) for pid in pids]
    report = run_wrk(server.url, tag, DURATION_S, date)
    after = [cpu_seconds(pid) for pid in pids]
    return Round(report, after[0] - before[0], after[1] - before[1])


def round_figures(rounds: list[Round]) -> dict[str, float]:
    """The median round's figures, with the spread of sales per second across rounds."""
    ordered = sorted(rounds, key=lambda r: r.sales_per_s)
    middle = ordered[len(ordered) // 2]
    report = middle.report
    return {
        "central.http_sales_per_s": middle.sales_per_s,
        "central.http_sales_per_s_slowest_round": ordered[0].sales_per_s,
        "central.http_sales_per_s_fastest_round": ordered[-1].sales_per_s,
        "central.http_rounds": float(len(rounds)),
        "central.http_requests_per_s": report.requests_per_s,
        "central.http_sale_p50_ms": report.latency_ms.get("50%", float("nan")),
        "central.http_sale_p99_ms": report.latency_ms.get("99%", float("nan")),
        "central.http_sale_p99_ms_worst_round": max(
            r.report.latency_ms.get("99%", float("nan")) for r in rounds
        ),
        "central.http_cpu_us_per_sale_http": middle.http_cpu_s / max(middle.created, 1) * 1e6,
        "central.http_cpu_us_per_sale_writer": middle.writer_cpu_s / max(middle.created, 1) * 1e6,
        "central.http_duration_s": report.seconds,
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
        run_wrk(server.url, "W", WARMUP_S, date, latency=False)
        rounds = [measure_round(server, f"M{n}", date) for n in range(ROUNDS)]
        busier = run_wrk(server.url, "N", DURATION_S, date, connections=MORE_CONNECTIONS)
    except BenchError as exc:
        raise BenchError(f"{exc}\n--- server log ---\n{log_tail(workdir)}") from exc
    finally:
        server.stop()
    created = sum(r.created for r in rounds)
    held, double_sold = store_counts(db_path, "M")
    return {
        "central.http_load_timetable_s": load_s,
        **round_figures(rounds),
        "central.http_requests": float(sum(r.report.requests for r in rounds)),
        "central.http_created": float(created),
        "central.http_non2xx": float(sum(r.report.non2xx for r in rounds)),
        "central.http_socket_errors": float(sum(r.report.socket_errors for r in rounds)),
        "central.http_sold_ok": float(held),
        "central.http_double_sold": float(double_sold),
        "central.http_connections": float(CONNECTIONS),
        f"central.http_c{MORE_CONNECTIONS}_sales_per_s": busier.statuses.get(201, 0)
        / busier.seconds,
        f"central.http_c{MORE_CONNECTIONS}_sale_p50_ms": busier.latency_ms.get("50%", float("nan")),
        f"central.http_c{MORE_CONNECTIONS}_sale_p99_ms": busier.latency_ms.get("99%", float("nan")),
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
