"""The TVM's composition root: build a machine from its profile, enrol it, shut it down.

Backends come from the profile (``backend = "sim"`` selects the simulators:
the bank terminal on a pty, the printer on a TCP port, the QR scanner on a
pty). The store must hold an enrolment (``stationkit tvm enrol``). The desk
sells through central while it answers and from an emergency seat block
while it does not. One shutdown path closes every part, each in its own try.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from device.central_link import CentralRefused, CentralUnreachable
from device.clock import utc_now
from device.enrolment import enrol_unit, enrolled
from device.events import EventLog, Views
from device.store_thread import StoreThread
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout
from device.tvm.desk import MachineHealth, OnlineDesk
from device.tvm.flow import KioskFlow
from device.tvm.offline import BlockKeeper, EitherDesk, OfflineDesk
from device.tvm.profile import TvmProfile
from device.tvm.runtime import TvmRuntime
from device.tvm.stations import station
from device.tvm.view import Station, TvmView
from drivers.pos.config import open_bank_terminal
from drivers.printer.printer import open_ticket_printer
from drivers.qr_scanner.backends import open_scanner
from offline_store.store import UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.units import UnitProfile

log = logging.getLogger(__name__)
STATION_FACTS = ("station_name", "station_pinyin", "station_initials")  # for offline starts


async def enrol_tvm(profile: TvmProfile, central_url: str, code: str) -> UnitProfile:
    """Exchange a one-time code for this TVM's credential and keep it in the store."""
    return await enrol_unit(profile.unit, profile.store, central_url, code)


@dataclass
class Tvm:
    """A built TVM: its runtime and everything shutdown must close."""

    runtime: TvmRuntime
    views: Views[TvmView]
    events: EventLog
    closers: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)

    async def close(self) -> None:
        """Close every part, each in its own try."""
        for name, close in reversed(self.closers):
            try:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("closing %s failed; going on with the rest", name)


async def build_tvm(profile: TvmProfile) -> Tvm:
    """Open every part the profile names; the TVM, not yet running."""
    closers: list[tuple[str, Callable[[], Any]]] = []
    try:
        runtime, views = await _assemble(profile, closers)
    except BaseException:
        await Tvm(None, Views(), EventLog(utc_now), closers).close()  # type: ignore[arg-type]
        raise
    return Tvm(runtime, views, runtime.events, closers)


async def _assemble(
    profile: TvmProfile, closers: list[tuple[str, Callable[[], Any]]]
) -> tuple[TvmRuntime, Views[TvmView]]:
    store = StoreThread(profile.unit.store, profile.store, "tvm-journal")
    closers.append(("store", store.close))
    identity = store.run_now(_enrolment)
    events = EventLog(utc_now)
    link = TvmLink(identity.central_url, identity.credential, profile.unit.central_timeout_s)
    closers.append(("central link", link.close))
    terminal = open_bank_terminal(profile.bank_terminal)
    closers.append(("bank terminal", terminal.close))
    printer = await open_ticket_printer(profile.printer)
    closers.append(("printer", printer.close))
    scanner = await open_scanner(profile.scanner)
    closers.append(("scanner", scanner.close))
    acquirer = profile.bank_terminal.acquirer or "UNKNOWN"
    checkout = Checkout(store, link, terminal, printer, events, utc_now, acquirer)
    zone = ZoneInfo(profile.tvm.timezone)
    here = await _here(link, identity, store, zone)
    health = MachineHealth(sell_on_paper_near_end=profile.tvm.sell_on_paper_near_end)
    online = OnlineDesk(here, link, checkout, utc_now, zone, health)
    offline = OfflineDesk(here, store, checkout, utc_now, zone)
    keeper = BlockKeeper(link, store, events, utc_now)
    flow = KioskFlow(EitherDesk(online, offline, health), profile.tvm.language)
    views: Views[TvmView] = Views()
    runtime = TvmRuntime(
        flow,
        health,
        checkout,
        link,
        printer,
        scanner,
        events,
        views,
        profile.tvm.idle_timeout_s,
        profile.tvm.health_every_s,
        time.monotonic,
        keeper=keeper,
        offline=offline,
    )
    events.emit("tvm_started", device_id=identity.device_id, station=identity.station)
    return runtime, views


def _enrolment(store: UnitStore) -> DeviceIdentity:
    return enrolled(store, "tvm")


async def _here(
    link: TvmLink, identity: DeviceIdentity, store: StoreThread, zone: ZoneInfo
) -> Station:
    """This TVM's station with its name: central's timetable names it; kept for offline starts."""
    kept = await store.run(lambda s: [s.state.fact(fact) for fact in STATION_FACTS])
    names = [str(value or "") for value in kept]
    try:
        answer = await link.destinations(identity.station, dt.datetime.now(zone).date())
    except (CentralUnreachable, CentralRefused) as exc:
        log.info("station name kept from the last start: %s", exc)
    else:
        names = [answer.station_name, answer.station_pinyin, answer.station_initials]
        await store.run(lambda s: _keep_names(s, names))
    return station(identity.station, names[0] or identity.station, *names[1:])


def _keep_names(store: UnitStore, names: list[str]) -> None:
    with store.transaction():
        for fact, value in zip(STATION_FACTS, names, strict=True):
            store.state.set_fact(fact, value)
