"""The TVM's figures: a card purchase's software time, a frame, memory and cold start.

``python -m bench.tvm_bench [--purchases N] [--frames N] [--starts N]`` starts
central (``stationkit central serve`` on SQLite in a temporary directory),
loads one train run AAA->CCC and measures:

- ``tvm.purchase_*``: one-passenger card purchases made in this process
  through the TVM's own desk and checkout (``OnlineDesk``, ``Checkout``:
  hold at central, charge, issue at central, render and print the ticket,
  each step journaled durably in the TVM's SQLite store) with the real
  drivers on their simulators: the Concert terminal on a pty, answering at
  once (no scripted delay), and the ESC/POS printer over TCP. The time
  spent inside the terminal driver's ``sale`` (the exchange with the POS)
  is timed on its own (``tvm.purchase_pos_*``), and so is the time spent
  waiting for the printer's answers to its status queries (``DLE EOT``
  before and after each ticket, ``tvm.purchase_printer_*``: the printer's
  own, which for the simulator includes drawing the ticket's PNG when the
  cut arrives, as a real printer is busy printing). Both are subtracted from
  each purchase: ``tvm.purchase_software_*`` is the purchase without the
  devices' time; ``tvm.purchase_software_with_printer_*`` keeps the
  printer's. After each purchase one floor sample: the same hold and pay HTTP
  round trips to central through the same ``TvmLink`` (one httpx client),
  nothing else; ``tvm.purchase_floor_ms`` is their median. Warm-up
  purchases and floor samples come first and are not counted.
- ``tvm.frame_*``: ``ui.tvm.frames.frame_times`` at 1280x800 headless
  (SDL's dummy driver) on the busiest screens (passengers with the busy
  overlay, destination search, trains), the countdown showing on every
  frame; ``tvm.frame_p99_ms`` is the largest of their p99s.
- ``tvm.cold_start_s``, ``tvm.rss_*``: a real TVM process
  (``bench.tvm_process_bench``).

Figures come out as one flat JSON object (``tvm.*_over_goal`` at most 1.0
meets the goal); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx

from bench.gate_bench import nearest_rank
from bench.machine import yardstick_ms
from bench.tvm_frames import frame_figures
from bench.tvm_process_bench import measure_tvm
from device.clock import utc_now
from device.events import EventLog
from device.gate.messages import Words
from device.store_thread import StoreThread
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout
from device.tvm.desk import MachineHealth, OnlineDesk
from device.tvm.id_numbers import check_character
from device.tvm.view import ClassChoice, Station, TrainChoice
from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.results import PaymentResult
from drivers.pos.terminal import BankTerminal
from drivers.printer.config import TicketPrinterConfig
from drivers.printer.layout import TicketLayout
from drivers.printer.link import PrinterLink, build_link
from drivers.printer.printer import TicketPrinter
from offline_store.connection import StoreSettings
from offline_store.unit_state import DeviceIdentity
from protocol.ids import StationCode
from protocol.messages import OrderRequest, PassengerSpec, PaymentRequest
from stationkit.processes import CentralProcess, free_port

PREFIX = "tvm."
PURCHASES = 50
WARM_UP = 5
FRAMES = 1000  # per screen
COLD_STARTS = 3
OPERATOR_TOKEN = "tvm-bench-operator"
TRAIN = "G7001"
ZONE = ZoneInfo("Asia/Shanghai")
ACQUIRER = "SIM-BANK"
FARE_YUAN = 46
HERE = Station("AAA", Words("甲站", "Jiazhan"), "JZ")
THERE = Station("CCC", Words("丙站", "Bingzhan"), "BZ")


def log(message: str) -> None:
    """Progress, on stderr."""
    print(f"tvm bench: {message}", file=sys.stderr, flush=True)


# --- central ---------------------------------------------------------------------------


@dataclass
class Central:
    """Central in its own process, and the operator's few calls the bench makes."""

    server: CentralProcess

    @property
    def url(self) -> str:
        return self.server.url

    def post(self, path: str, body: object = None) -> Any:
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
        answer = httpx.post(self.url + path, json=body, headers=headers, timeout=10)
        if answer.status_code >= 300:
            raise RuntimeError(f"central: POST {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def code(self, device_id: str) -> str:
        """A one-time enrolment code for a TVM at AAA."""
        body = {"device_id": device_id, "kind": "tvm", "station": HERE.code}
        return str(self.post("/v1/devices", body)["enrolment_code"])

    def enrol(self, device_id: str) -> str:
        """Enrol a TVM as ``stationkit tvm enrol`` does; its token."""
        token = secrets.token_urlsafe(32)
        body = {
            "enrolment_code": self.code(device_id),
            "credential_hash": hashlib.sha256(token.encode()).hexdigest(),
        }
        answer = httpx.post(f"{self.url}/v1/enrolments", json=body, timeout=10)
        if answer.status_code != 200:
            raise RuntimeError(f"central: enrolment: {answer.status_code} {answer.text}")
        return token


@contextlib.contextmanager
def central(folder: Path) -> Iterator[Central]:
    """Central on SQLite in ``folder``, stopped afterwards."""
    db = f"sqlite:///{folder / 'central.db'}"
    server = CentralProcess(db, free_port(), folder, OPERATOR_TOKEN).start()
    try:
        yield Central(server)
    finally:
        server.stop()


def train_run(seats: int) -> dict[str, Any]:
    """AAA->BBB->CCC leaving in 50 minutes (Beijing time), ``seats`` second-class seats."""
    leaves = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)).astimezone(ZONE)
    leaves = leaves.replace(microsecond=0)

    def at(minutes: int) -> str:
        return (leaves + dt.timedelta(minutes=minutes)).isoformat()

    coaches = [
        {"coach": n, "class": "ZE", "seats": min(200, seats - 200 * (n - 1))}
        for n in range(1, (seats + 199) // 200 + 1)
    ]
    return {
        "train": TRAIN,
        "date": leaves.date().isoformat(),
        "stops": [
            {"station": "AAA", "name": "甲站", "km": 0, "depart": at(0)},
            {"station": "BBB", "name": "乙站", "km": 50, "arrive": at(30), "depart": at(32)},
            {"station": "CCC", "name": "丙站", "km": 120, "arrive": at(70)},
        ],
        "coaches": coaches,
        "fares": {"ZE": FARE_YUAN},
    }


def id_numbers(first: int = 0) -> Iterator[str]:
    """Well-formed resident ID numbers, each once (one seat per passenger and train)."""
    born = dt.date(1960, 1, 1)
    for n in range(first, 1_000_000):
        body = f"110101{born + dt.timedelta(days=n // 1000):%Y%m%d}{n % 1000:03d}"
        yield body + check_character(body)


# --- purchases -------------------------------------------------------------------------


class TimedPrinterLink:
    """The printer's link, with the time spent waiting for its answers kept: the printer's own."""

    def __init__(self, link: PrinterLink) -> None:
        self.link = link
        self.waited_s = 0.0

    def open(self) -> None:
        self.link.open()

    def write(self, data: bytes) -> None:
        self.link.write(data)

    def read(self, size: int, timeout: float) -> bytes:
        started = time.perf_counter()
        try:
            return self.link.read(size, timeout)
        finally:
            self.waited_s += time.perf_counter() - started

    def discard_input(self) -> None:
        self.link.discard_input()

    def close(self) -> None:
        self.link.close()


class TimedTerminal:
    """The bank terminal, with the time spent inside each ``sale`` kept: the POS's own."""

    def __init__(self, terminal: BankTerminal) -> None:
        self.terminal = terminal
        self.last_sale_s = 0.0

    async def sale(self, amount_fen: int, transaction_id: str) -> PaymentResult:
        started = time.perf_counter()
        try:
            return await self.terminal.sale(amount_fen, transaction_id)
        finally:
            self.last_sale_s = time.perf_counter() - started

    async def status(self, transaction_id: str) -> PaymentResult:
        return await self.terminal.status(transaction_id)

    async def reverse_last(self, transaction_id: str, reversal_id: str) -> PaymentResult:
        return await self.terminal.reverse_last(transaction_id, reversal_id)


@dataclass
class Machine:
    """The TVM's desk over its checkout, its link and its timed terminal."""

    desk: OnlineDesk
    link: TvmLink
    terminal: TimedTerminal
    printer: TimedPrinterLink


@contextlib.asynccontextmanager
async def machine(server: Central, folder: Path) -> AsyncIterator[Machine]:
    """A TVM at AAA: journal store, central link, terminal and printer on their simulators."""
    folder.mkdir(parents=True, exist_ok=True)
    token = server.enrol(f"tvm-bench-{secrets.token_hex(3)}")
    store = StoreThread(folder / "tvm.db", StoreSettings(), "tvm-bench-journal")
    identity = DeviceIdentity("tvm", "tvm", StationCode(HERE.code), server.url, token, utc_now())
    store.run_now(lambda s: s.enrolment.replace(identity))
    terminal = open_bank_terminal(
        BankTerminalConfig(
            backend="sim", currency=156, acquirer=ACQUIRER,
            control_socket=str(folder / "pos.sock"), answer_timeout_s=5.0,
        )
    )  # fmt: skip
    sim = {"output_dir": str(folder / "printed"), "control_socket": str(folder / "printer.sock")}
    config = TicketPrinterConfig.model_validate({"backend": "sim", "sim": sim})
    printer_link = TimedPrinterLink(build_link(config))
    layout = await asyncio.to_thread(TicketLayout, config)
    printer = TicketPrinter(printer_link, layout, config.status_timeout_s, config.backend)
    await printer.open()
    link = TvmLink(server.url, token, 5.0)
    timed = TimedTerminal(terminal)
    events = EventLog(utc_now, io.BytesIO())
    checkout = Checkout(store, link, cast(BankTerminal, timed), printer, events, utc_now, ACQUIRER)
    desk = OnlineDesk(HERE, link, checkout, utc_now, ZONE, MachineHealth())
    try:
        yield Machine(desk, link, timed, printer_link)
    finally:
        for close in (link.close, printer.close, terminal.close):
            with contextlib.suppress(Exception):
                await close()
        store.close()


@dataclass
class Timings:
    """Seconds per purchase (whole, POS, each step) and per floor sample."""

    total: list[float] = field(default_factory=list)
    pos: list[float] = field(default_factory=list)
    printer: list[float] = field(default_factory=list)  # waiting for the printer's answers
    hold: list[float] = field(default_factory=list)
    pay: list[float] = field(default_factory=list)  # charge (POS included) and issue
    printing: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)

    @property
    def software(self) -> list[float]:
        """Without the devices' own time: the terminal's and the printer's."""
        devices = zip(self.total, self.pos, self.printer, strict=True)
        return [total - pos - printer for total, pos, printer in devices]

    @property
    def software_with_printer(self) -> list[float]:
        return [total - pos for total, pos in zip(self.total, self.pos, strict=True)]


async def purchase(tvm: Machine, train: TrainChoice, sale_id: str, id_number: str) -> list[float]:
    """One card purchase through the desk: seconds for hold, pay (POS included), print, POS,
    and waiting for the printer."""
    tvm.printer.waited_s = 0.0
    started = time.perf_counter()
    await tvm.desk.hold(sale_id, train, train.classes[0], THERE, [("乘客", id_number)])
    held = time.perf_counter()
    await tvm.desk.pay(sale_id, confirmed=False)
    paid = time.perf_counter()
    await tvm.desk.print_tickets(sale_id)
    printed = time.perf_counter()
    return [
        held - started,
        paid - held,
        printed - paid,
        tvm.terminal.last_sale_s,
        tvm.printer.waited_s,
    ]


async def floor_sample(tvm: Machine, order: OrderRequest) -> float:
    """Seconds for central's hold and pay round trips alone, through the TVM's own link."""
    key = uuid.uuid4().hex
    started = time.perf_counter()
    held = await tvm.link.hold(order, key=f"{key}:hold")
    payment = PaymentRequest(
        method="card", amount_fen=held.total_fen, reference=key, acquirer=ACQUIRER
    )
    await tvm.link.pay(held.order_id, payment, key=f"{key}:pay")
    return time.perf_counter() - started


async def purchases(server: Central, folder: Path, count: int, warm_up: int) -> Timings:
    """``warm_up`` then ``count`` purchases, each followed by one floor sample."""
    run = train_run(2 * (count + warm_up) + 10)
    server.post("/v1/train-runs", run)
    departs = dt.datetime.fromisoformat(run["stops"][0]["depart"])
    arrives = dt.datetime.fromisoformat(run["stops"][-1]["arrive"])
    price = FARE_YUAN * 100
    train = TrainChoice(
        TRAIN, departs, arrives, (ClassChoice("ZE", Words("二等座", "Second class"), 1, 0, price),)
    )
    people = id_numbers()
    timings = Timings()
    async with machine(server, folder) as tvm:
        for n in range(warm_up + count):
            hold, pay, printing, pos, waited = await purchase(tvm, train, f"sale-{n}", next(people))
            floor = await floor_sample(tvm, floor_order(run, next(people)))
            if n < warm_up:
                continue
            timings.total.append(hold + pay + printing)
            timings.pos.append(pos)
            timings.printer.append(waited)
            timings.hold.append(hold)
            timings.pay.append(pay - pos)
            timings.printing.append(printing)
            timings.floor.append(floor)
    return timings


def floor_order(run: dict[str, Any], id_number: str) -> OrderRequest:
    """The order a purchase holds: one passenger AAA->CCC, second class, from the TVM."""
    return OrderRequest(
        train=run["train"], date=dt.date.fromisoformat(run["date"]), from_station=HERE.code,
        to_station=THERE.code, seat_class="ZE",
        passengers=[PassengerSpec(name="乘客", id_number=id_number)], channel="tvm",
        station=HERE.code,
    )  # fmt: skip


def ms(samples_s: list[float], name: str, share: float = 0.95) -> dict[str, float]:
    """p50, the ``share`` percentile and max of timings in seconds, in milliseconds."""
    rank = f"p{round(share * 100)}"
    return {
        f"{PREFIX}{name}_p50_ms": statistics.median(samples_s) * 1e3,
        f"{PREFIX}{name}_{rank}_ms": nearest_rank(samples_s, share) * 1e3,
        f"{PREFIX}{name}_max_ms": max(samples_s) * 1e3,
    }


def purchase_figures(timings: Timings) -> dict[str, float]:
    """The purchase's figures, its parts and its floor."""
    return (
        ms(timings.software, "purchase_software")
        | ms(timings.software_with_printer, "purchase_software_with_printer")
        | ms(timings.printer, "purchase_printer")
        | ms(timings.total, "purchase_total")
        | ms(timings.pos, "purchase_pos")
        | ms(timings.hold, "purchase_hold")
        | ms(timings.pay, "purchase_pay_without_pos")
        | ms(timings.printing, "purchase_print")
        | {
            f"{PREFIX}purchase_floor_ms": statistics.median(timings.floor) * 1e3,
            f"{PREFIX}purchase_floor_p95_ms": nearest_rank(timings.floor, 0.95) * 1e3,
            f"{PREFIX}purchases": float(len(timings.total)),
        }
    )


# --- the whole run ---------------------------------------------------------------------


def process_figures(server: Central, folder: Path, starts: int) -> dict[str, float]:
    """Cold starts and memory of a real TVM process, with one purchase through its screens."""
    people = id_numbers(500_000)  # past the in-process purchases' passengers
    journey: list[object] = [
        "start purchase", f"destination {THERE.name.zh}", f"train {TRAIN}", "class ZE",
        f"passenger 王五 {next(people)}", "confirm", {"step": "pay card", "timeout_s": 60},
        "take ticket",
    ]  # fmt: skip
    measured = measure_tvm(server.url, server.code("tvm-bench-process"), journey, starts, folder)
    return {
        f"{PREFIX}cold_start_s": statistics.median(measured.cold_starts_s),
        f"{PREFIX}cold_start_max_s": max(measured.cold_starts_s),
        f"{PREFIX}rss_home_mb": measured.rss_home_mb,
        f"{PREFIX}rss_mb": measured.rss_mb,
        f"{PREFIX}rss_peak_mb": measured.rss_peak_mb,
    }


def goals(figures: dict[str, float]) -> dict[str, float]:
    """Each headline figure over its goal: at most 1.0 meets it."""
    software = figures[f"{PREFIX}purchase_software_p95_ms"]
    return {
        f"{PREFIX}purchase_software_over_goal": software / 200,
        f"{PREFIX}purchase_software_over_floor_goal": software
        / (4 * figures[f"{PREFIX}purchase_floor_ms"]),
        f"{PREFIX}frame_p99_over_goal": figures[f"{PREFIX}frame_p99_ms"] / 16,
        f"{PREFIX}rss_over_goal": max(figures[f"{PREFIX}rss_mb"], figures[f"{PREFIX}rss_home_mb"])
        / 120,
        f"{PREFIX}cold_start_over_goal": figures[f"{PREFIX}cold_start_s"] / 2,
    }


def run(
    *,
    purchases_n: int = PURCHASES,
    warm_up: int = WARM_UP,
    frames: int = FRAMES,
    starts: int = COLD_STARTS,
) -> dict[str, float]:
    """Every figure (smaller counts for tests)."""
    figures: dict[str, float] = {
        f"{PREFIX}loadavg_1m_before": os.getloadavg()[0],
        f"{PREFIX}yardstick_ms": yardstick_ms(),
    }
    log(f"{frames} frames of each busy screen at 1280x800 ...")
    figures |= frame_figures(frames, PREFIX)
    with tempfile.TemporaryDirectory(prefix="tvm-bench-") as scratch:
        folder = Path(scratch)
        log("starting central ...")
        with central(folder / "central") as server:
            log(f"{warm_up} + {purchases_n} purchases, each with a floor sample ...")
            timings = asyncio.run(purchases(server, folder / "tvm", purchases_n, warm_up))
            figures |= purchase_figures(timings)
            log(f"{starts} cold starts of a TVM process, then one purchase through its screens ...")
            figures |= process_figures(server, folder / "process", starts)
    return figures | goals(figures) | {f"{PREFIX}loadavg_1m_after": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    """The command line: figures as one JSON object on stdout."""
    parser = argparse.ArgumentParser(prog="python -m bench.tvm_bench", description=__doc__)
    parser.add_argument("--purchases", type=int, default=PURCHASES)
    parser.add_argument("--warm-up", type=int, default=WARM_UP)
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument("--starts", type=int, default=COLD_STARTS)
    args = parser.parse_args(argv)
    figures = run(
        purchases_n=args.purchases, warm_up=args.warm_up, frames=args.frames, starts=args.starts
    )
    json.dump(figures, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
