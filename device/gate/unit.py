"""The gate's composition root: build a gate from its profile, run it, shut it down.

Backends come from the profile (``backend = "sim"`` selects the simulators);
the store must hold an enrolment (``stationkit gate enrol`` first). One
shutdown path closes every part, each in its own try, the mechanism last
but surely: every flap ends de-energised, that is, locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from device.central_link import CentralLink
from device.clock import UnitClock, utc_now
from device.enrolment import enrol_unit, enrolled
from device.events import EventLog, Views
from device.gate.checker import TicketChecker
from device.gate.rules import CheckinWindow, GateSide
from device.gate.runtime import GateRuntime
from device.gate.side import GateSideLoop, SideDevices, SideTiming, UnitContext
from device.gate.sync import GateSync
from device.gate.view import GateView
from device.profile import GateProfile, ProfileError
from device.store_thread import StoreThread
from drivers.card_reader.builder import open_card_reader
from drivers.gate_mechanism.backends import open_gate
from drivers.gate_mechanism.mechanism import GateMechanism
from drivers.qr_scanner.backends import open_scanner
from offline_store.connection import StoreSettings
from offline_store.store import UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.units import Direction, UnitProfile

GROUP_FACT = "gate_group"
DIRECTION_FACT = "direction"
log = logging.getLogger(__name__)


async def enrol_gate(profile: GateProfile, central_url: str, code: str) -> UnitProfile:
    """Exchange a one-time code for this gate's credential; keep its group and direction."""

    def keep(store: UnitStore, answer: UnitProfile) -> None:
        store.state.set_fact(GROUP_FACT, answer.gate_group or "")
        store.state.set_fact(DIRECTION_FACT, answer.direction or "")

    return await enrol_unit(profile.unit, profile.store, central_url, code, keep)


@dataclass
class Gate:
    """A built gate: its runtime and everything shutdown must close."""

    runtime: GateRuntime
    closers: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)

    async def close(self) -> None:
        """Close every part, each in its own try; the flaps end locked whatever fails."""
        for name, close in reversed(self.closers):
            try:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("closing %s failed; going on with the rest", name)


async def build_gate(
    profile: GateProfile, screen: Callable[[GateView], None] | None = None
) -> Gate:
    """Open every part the profile names; the gate, not yet running."""
    closers: list[tuple[str, Callable[[], Any]]] = []
    gate = Gate(runtime=None, closers=closers)  # type: ignore[arg-type]
    try:
        gate.runtime = await _assemble(profile, screen, closers)
    except BaseException:
        await gate.close()
        raise
    return gate


async def _assemble(
    profile: GateProfile,
    screen: Callable[[GateView], None] | None,
    closers: list[tuple[str, Callable[[], Any]]],
) -> GateRuntime:
    settings = gate_store_settings(profile.store)
    decisions = StoreThread(profile.unit.store, settings, "gate-decisions")
    closers.append(("decision store", decisions.close))
    identity, group, direction = decisions.run_now(_enrolment)
    _check_sides(profile, direction)
    sync_store = StoreThread(profile.unit.store, settings, "gate-sync")
    closers.append(("sync store", sync_store.close))
    mechanism = open_gate(profile.mechanism)
    closers.append(("gate mechanism", mechanism.close))
    clock = UnitClock(utc_now, dt.timedelta(seconds=profile.gate.clock_skew_limit_s))
    events = EventLog(clock.local)
    views: Views[GateView] = Views()
    if screen is not None:
        views.subscribe(screen)
    link = CentralLink(identity.central_url, identity.credential, profile.unit.central_timeout_s)
    closers.append(("central link", link.close))
    writes = asyncio.Lock()  # the store's write turn: journal writes and sync writes queue here
    sync = GateSync(link, sync_store, identity.station, profile.sync, clock, events, writes)
    holder: dict[str, GateRuntime] = {}
    unit = UnitContext(
        events,
        views,
        clock.now,
        clock.local,
        clock.central_now,
        lambda: holder["r"].banner(),
        writes=writes,
    )
    sides, parts = await _open_sides(
        profile, identity, group or profile.gate.gate_group, mechanism, decisions, unit, closers
    )
    health_path = profile.unit.store.with_name("health.json")
    runtime = GateRuntime(
        sides,
        mechanism,
        decisions,
        sync,
        unit,
        clock,
        health_path,
        {"mechanism": mechanism, **parts},
    )
    holder["r"] = runtime
    events.emit(
        "gate_started", device_id=identity.device_id, station=identity.station, sides=sorted(sides)
    )
    return runtime


def gate_store_settings(settings: StoreSettings) -> StoreSettings:
    """The store settings of the gate's connections: SQLite's checkpoints left to its sync task.

    A commit that crosses the log's threshold copies the log into the store
    file before it returns: a passenger's journal write, or a sync write that
    holds the write turn, would wait for that (a few hundred milliseconds on
    a large cache). The sync task checkpoints instead, outside the write turn.
    """
    return settings.model_copy(update={"wal_autocheckpoint_pages": 0})


def _enrolment(store: UnitStore) -> tuple[DeviceIdentity, str | None, str | None]:
    identity = enrolled(store, "gate")
    group = store.state.fact(GROUP_FACT)
    direction = store.state.fact(DIRECTION_FACT)
    return identity, str(group) if group else None, str(direction) if direction else None


def _check_sides(profile: GateProfile, registered: str | None) -> None:
    if registered is None:
        return
    others = [side for side in profile.sides() if side != registered]
    if others:
        raise ProfileError(
            f"central registered this gate for {registered} only; the profile also has {others[0]}"
        )


async def _open_sides(
    profile: GateProfile,
    identity: DeviceIdentity,
    group: str | None,
    mechanism: GateMechanism,
    decisions: StoreThread,
    unit: UnitContext,
    closers: list[tuple[str, Callable[[], Any]]],
) -> tuple[dict[str, GateSideLoop], dict[str, Any]]:
    rules = profile.gate
    window = CheckinWindow(rules.opens_minutes, rules.closes_minutes, rules.exit_grace_minutes)
    timing = SideTiming(rules.passage_timeout_s, rules.flow_control_gap_s)
    sides: dict[str, GateSideLoop] = {}
    parts: dict[str, Any] = {}
    for way, section in profile.sides().items():
        direction: Direction = "entry" if way == "entry" else "exit"
        scanner = await open_scanner(section.scanner)
        closers.append((f"{direction} scanner", scanner.close))
        parts[f"{direction}_scanner"] = scanner
        reader = None
        if section.card_reader is not None:
            reader = await open_card_reader(section.card_reader)
            closers.append((f"{direction} card reader", reader.close))
            parts[f"{direction}_card_reader"] = reader
        checker = TicketChecker(GateSide(identity.station, direction, group), window)
        devices = SideDevices(scanner, reader)
        loop = GateSideLoop(direction, devices, checker, mechanism, timing, decisions.run, unit)
        sides[direction] = loop
    return sides, parts


async def run_until_stopped(gate: Gate, stop: asyncio.Event) -> None:
    """Run the gate until ``stop`` is set (SIGTERM, SIGINT), then shut it down."""
    task = asyncio.create_task(gate.runtime.run())
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # a crash of the runtime: raise it (systemd restarts the unit)
    finally:
        for pending in (task, stopping):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        await gate.close()
