"""Running the demo day: central started, every scene played in order, central stopped.

``run_demo`` starts central on SQLite in ``var/demo`` (relative to the
current directory) with a fresh operator token, plays ``SCENES`` with one
shared ``Demo`` state, and always closes the client and stops central; a
failure ends with a message on stderr and exit status 1, the store and log
kept for a look.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from stationkit.demo.after_sale import change, offline_check, refunds
from stationkit.demo.books import Demo
from stationkit.demo.client import Api, DemoError
from stationkit.demo.gate import gate_day
from stationkit.demo.operations import (
    adjustment,
    day_availability,
    load_timetable,
    preallocation,
    register_devices,
)
from stationkit.demo.report import say, section, summary
from stationkit.demo.selling import (
    cancelled_hold,
    online_sale,
    overlap_refusal,
    quota_view,
    remote_sale,
    sold_out,
    standing_sale,
    tvm_sale,
    window_sale,
)
from stationkit.demo.timetable import TIMETABLE, choose_roles, plan_days, read_runs
from stationkit.demo.tvm import tvm_day
from stationkit.processes import CentralProcess

WORKDIR = Path("var") / "demo"
PICTURES = Path("var") / "demo-pictures"  # kept after a run: what the units showed and printed

SCENES: tuple[tuple[str, tuple[Callable[[Demo], None], ...]], ...] = (
    ("Operator: timetable and devices", (load_timetable, register_devices)),
    ("Operator: pre-allocation and a temporary adjustment", (preallocation, adjustment)),
    ("Availability at the start of the day", (day_availability,)),
    (
        "Selling: TVM, window, internet",
        (tvm_sale, window_sale, online_sale, overlap_refusal, cancelled_hold),
    ),
    ("Quotas and a remote-station ticket", (quota_view, remote_sale)),
    ("Sold out, then standing tickets", (sold_out, standing_sale)),
    ("Refunds and a change", (refunds, change)),
    ("Gate check offline", (offline_check,)),
    ("A ticket vending machine at work", (tvm_day,)),
    ("A ticket gate at work", (gate_day,)),
    ("Availability at the end of the day", (day_availability,)),
    ("Summary", (summary,)),
)


def play(demo: Demo) -> None:
    """Every scene of the day, in order."""
    for title, scenes in SCENES:
        section(title)
        for scene in scenes:
            scene(demo)


def fresh(workdir: Path) -> None:
    """An empty work directory for central (store, keys, log)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)


def run_demo(port: int = 8731, keep: bool = False) -> int:
    """Start central, play the day, stop central; 0 on success, 1 with a message on failure.

    The work directory ``var/demo`` (relative to the current directory) is
    emptied first and removed afterwards unless ``keep``; after a failure it
    stays, with central's log, for a look.
    """
    workdir = WORKDIR.resolve()
    operator_token = secrets.token_urlsafe(24)
    central = CentralProcess(f"sqlite:///{workdir / 'central.db'}", port, workdir, operator_token)
    api = Api(central.url, operator_token)
    ok = False
    try:
        days = plan_days(read_runs(TIMETABLE))
        fresh(workdir)
        say(f"StationKit demo: central on {central.url}, SQLite store in {workdir}")
        central.start()
        play(Demo(api, days, choose_roles(days[min(days)]), workdir))
        ok = True
    except (DemoError, RuntimeError, OSError) as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr, flush=True)
    except Exception as exc:  # any surprise still ends with a message and a stop
        traceback.print_exc()
        print(f"\ndemo failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        api.close()
        central.stop()
    return finish(workdir, ok, keep)


def keep_pictures(workdir: Path, into: Path) -> int:
    """Move every unit's screens and printed tickets out of the work directory; how many."""
    if into.exists():
        shutil.rmtree(into)
    moved = 0
    for folder in sorted([*workdir.glob("*/screens"), *workdir.glob("*/printed")]):
        target = into / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), target)
        moved += len(list(target.glob("*.png")))
    return moved


def finish(workdir: Path, ok: bool, keep: bool) -> int:
    """Tidy up the work directory (the units' pictures are kept) and give the exit status."""
    if ok and not keep:
        pictures = keep_pictures(workdir, PICTURES)
        shutil.rmtree(workdir, ignore_errors=True)
        say("\ndemo finished; central stopped")
        if pictures:
            say(f"the units' screens and printed tickets (PNG) are in {PICTURES.resolve()}")
    else:
        say(f"\ncentral stopped; store and log kept in {workdir}")
    return 0 if ok else 1
