"""Kill a TVM at random instants while it sells; after its restarts, money and tickets reconcile.

The terminal and printer simulators run as processes of their own (they
outlive the TVM, as the devices do); the TVM's checkout runs in a child that
buys one ticket after another and is SIGKILLed at random moments. A last
child only recovers. Then: every charge the terminal approved and did not
reverse paid for an issued ticket and the other way round, the sums agree,
every issued ticket was printed, and no sale is left open.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from central_rig import Central, train_run
from PIL import Image
from tvm_rig import enrol

from device.clock import utc_now
from drivers.pos.simulator.steering import TerminalScript
from drivers.sim.control import SimulatorProcess
from offline_store.store import UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.ids import StationCode
from stationkit.processes import code_path_env

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # a text line may read as 1D

pytestmark = pytest.mark.slow
KILLS = 6
HERE = Path(__file__).parent


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    server = Central(tmp_path / "central").start()
    yield server
    server.stop()


def child(
    folder: Path, central: Central, token: str, pty: str, port: int, mode: str
) -> subprocess.Popen[bytes]:
    """The checkout in a process of its own (its output is kept in ``child.log``)."""
    arguments = [str(folder / "tvm.db"), central.url, token, pty, str(port), mode]
    command = [sys.executable, str(HERE / "tvm_crash_child.py"), *arguments]
    env = code_path_env()
    env["PYTHONPATH"] = f"{HERE}:{HERE.parent}:{env['PYTHONPATH']}"
    log = (folder / "child.log").open("ab")
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def test_killing_the_tvm_mid_sale_never_keeps_money_without_a_ticket(
    central: Central, tmp_path: Path
) -> None:
    run = train_run("G7301", dt.timedelta(hours=3), seats=200)
    central.post("/v1/train-runs", run)
    (tmp_path / "train.json").write_text(json.dumps(run))
    token = enrol(central, "tvm-crash")
    with UnitStore.open(tmp_path / "tvm.db") as store:
        here = StationCode("AAA")
        identity = DeviceIdentity("tvm-crash", "tvm", here, central.url, token, utc_now())
        store.enrolment.replace(identity)
    output = tmp_path / "printed"
    with (
        SimulatorProcess("drivers.pos.simulator") as terminal,
        SimulatorProcess("drivers.printer.simulator", "--output", str(output)) as printer,
    ):
        pty = terminal.events("ready")[0]["path"]
        port = printer.events("ready")[0]["port"]
        script = TerminalScript(terminal)
        rng = random.Random(7)
        for _ in range(KILLS):
            for outcome in rng.choices(
                ["approve", "decline", "approve_lose_answer"], [6, 1, 1], k=8
            ):
                script.next(outcome)
            process = child(tmp_path, central, token, pty, port, "buy")
            time.sleep(rng.uniform(1.0, 4.0))
            process.kill()
            process.wait(10)
        final = child(tmp_path, central, token, pty, port, "recover")
        assert final.wait(60) == 0, (tmp_path / "child.log").read_text()[-3000:]
        totals = script.totals()
        reconcile(tmp_path, central, totals, output)


def reconcile(folder: Path, central: Central, totals: dict[str, int], output: Path) -> None:
    with UnitStore.open(folder / "tvm.db") as store:
        open_sales = store.sales.open_sales()
    assert [s.state for s in open_sales] in ([], ["unresolved"])  # only a terminal left silent
    with sqlite3.connect(central.workdir / "central.db") as db:
        where = "FROM tickets WHERE status = 'issued' AND channel = 'tvm'"
        issued = db.execute(f"SELECT count(*), coalesce(sum(price_fen), 0) {where}").fetchone()
        tokens = {row[0] for row in db.execute(f"SELECT token {where}")}
    kept = totals["approved_fen"] - totals["reversed_fen"]
    assert kept == issued[1], f"terminal kept {kept} fen, central issued {issued[1]} fen"
    assert totals["approved_count"] - totals["reversed_count"] == issued[0]
    printed = [
        code.text
        for png in sorted(output.glob("*.png"))
        for code in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png.read_bytes())), formats=QR_ONLY
        )
    ]
    assert set(printed) == tokens, "every issued ticket is printed, and nothing else"
    assert issued[0] > 0
