"""Driving ``wrk`` (C, one thread: this machine has two cores and the server needs them more).

``sales.lua`` sells (``sale``: hold then pay; ``hold``: holds only) and
``availability.lua`` asks availability; both print their own status counts,
and ``sales.lua`` the latency of whole sales, which ``parse_wrk`` reads
beside wrk's report.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.workload import station_codes, train_numbers

RUNS = 100
SALES_SCRIPT = Path(__file__).with_name("sales.lua")
AVAILABILITY_SCRIPT = Path(__file__).with_name("availability.lua")
TOKEN = "bench-operator-token"
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


class BenchError(RuntimeError):
    """A benchmark could not run; the message says what to do."""


@dataclass
class WrkReport:
    """What one wrk run reported."""

    requests: int
    seconds: float
    requests_per_s: float
    latency_ms: dict[str, float]  # "50%", "75%", "90%", "99%": every request alike
    non2xx: int
    socket_errors: int
    statuses: dict[str, int] = field(default_factory=dict)  # "hold 201", "pay 200", "other 409"
    sales: int = 0  # paid orders (sale mode)
    sale_ms: dict[str, float] = field(default_factory=dict)  # hold to paid, "50%", "99%"

    def count(self, kind: str, status: int) -> int:
        """Answers of one kind (hold, pay, other, get) with one status."""
        return self.statuses.get(f"{kind} {status}", 0)


def wrk_binary() -> str:
    """Path of ``wrk``, or a clear error."""
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: run `make deps` (it installs the Debian package)")
    return path


def parse_wrk(output: str) -> WrkReport:
    """Read the figures out of ``wrk --latency`` output and the script's own lines."""
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
    statuses: dict[str, int] = {}
    for kind, status, count in re.findall(r"^status (\w+) (\d+) (\d+)$", output, re.M):
        statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + int(count)
    sales = re.search(r"^sales (\d+)$", output, re.M)
    sale_ms = {
        f"{p}%": float(us) / 1e3 for p, us in re.findall(r"^sale_us (\d+) (\d+)$", output, re.M)
    }
    return WrkReport(
        requests=int(done.group(1)),
        seconds=float(done.group(2)) * UNIT_MS[done.group(3)] / 1e3,
        requests_per_s=float(rate.group(1)),
        latency_ms=latency,
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        statuses=statuses,
        sales=int(sales.group(1)) if sales else 0,
        sale_ms=sale_ms,
    )


def wrk_command(
    url: str, script: Path, seconds: float, connections: int, arguments: list[str]
) -> list[str]:
    """The wrk command line for one run of ``script``."""
    command = [wrk_binary(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    return [*command, "--latency", "-s", str(script), url, "--", *arguments]


def sales_arguments(mode: str, tag: str, date: dt.date) -> list[str]:
    """``sales.lua``'s arguments: mode, tag, trains, date, stations, token."""
    trains = ",".join(train_numbers(RUNS))
    return [mode, tag, trains, date.isoformat(), ",".join(station_codes()), TOKEN]


def finish(process: subprocess.Popen[str], seconds: float) -> WrkReport:
    """Wait for a wrk process started with ``start_wrk``; its report."""
    stdout, stderr = process.communicate(timeout=seconds + 60)
    if process.returncode != 0:
        raise BenchError(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
    return parse_wrk(stdout)


def start_wrk(command: list[str]) -> subprocess.Popen[str]:
    """Start wrk without waiting (to run two loads at once)."""
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_sales(
    url: str, mode: str, tag: str, seconds: float, date: dt.date, connections: int
) -> WrkReport:
    """One wrk run of ``sales.lua`` in ``mode`` (``sale`` or ``hold``)."""
    command = wrk_command(
        f"{url}/v1/orders", SALES_SCRIPT, seconds, connections, sales_arguments(mode, tag, date)
    )
    return finish(start_wrk(command), seconds)


def availability_command(url: str, seconds: float, date: dt.date) -> list[str]:
    """One client asking availability of random trains and OD pairs, back to back."""
    arguments = [",".join(train_numbers(RUNS)), date.isoformat(), ",".join(station_codes())]
    return wrk_command(f"{url}/v1/availability", AVAILABILITY_SCRIPT, seconds, 1, arguments)
