"""The gate unit at run time: its sides, its mode, emergency counting, sync and health.

The mode lives in the store, so it survives a restart and a technician can
change it from another process (``stationkit gate mode``): the runtime
looks at it twice a second and applies a change. Emergency open commands
every flap open; passages are then counted from the sensors (journaled as
``emergency``, without a ticket) and nobody is validated. The health file
beside the store says what monitoring and the maintenance menu need.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from device.clock import UnitClock
from device.gate.side import GateSideLoop, UnitContext
from device.gate.sync import GateSync
from device.gate.view import Banner
from device.store_thread import StoreThread
from drivers.gate_mechanism.mechanism import GateMechanism, Passage
from offline_store.passages import Direction, NewPassage, PassageKind, UnitMode
from offline_store.store import UnitStore

MODE_POLL_S = 0.5
HEALTH_EVERY_S = 5.0
log = logging.getLogger(__name__)
BANNERS = {
    UnitMode.IN_SERVICE: Banner.NONE,
    UnitMode.FLOW_CONTROL: Banner.FLOW_CONTROL,
    UnitMode.OUT_OF_SERVICE: Banner.OUT_OF_SERVICE,
    UnitMode.EMERGENCY_OPEN: Banner.EMERGENCY_OPEN,
}


class GateRuntime:
    """Runs one gate's sides, mode and sync until cancelled."""

    def __init__(
        self,
        sides: dict[str, GateSideLoop],
        mechanism: GateMechanism,
        decisions: StoreThread,
        sync: GateSync,
        unit: UnitContext,
        clock: UnitClock,
        health_path: Path,
        health_parts: dict[str, Any],
    ) -> None:
        self.sides = sides
        self.mechanism = mechanism
        self.decisions = decisions
        self.sync = sync
        self.unit = unit
        self.clock = clock
        self.health_path = health_path
        self.health_parts = health_parts

    async def run(self) -> None:
        """Serve until cancelled."""
        stored = await self.decisions.run(lambda store: store.state.mode())
        await self._apply_mode(stored or UnitMode.IN_SERVICE, initial=True)
        subscription = self.mechanism.subscribe(self._on_passage)
        try:
            async with asyncio.TaskGroup() as tasks:
                for side in self.sides.values():
                    tasks.create_task(side.run())
                tasks.create_task(self.sync.run())
                tasks.create_task(self._watch_mode())
                tasks.create_task(self._write_health())
        finally:
            subscription.cancel()

    def banner(self) -> Banner:
        """The banner every screen of this gate shows now."""
        banner = BANNERS[self.unit.mode]
        if banner is Banner.NONE and not self.sync.state.is_online:
            return Banner.OFFLINE
        return banner

    async def _watch_mode(self) -> None:
        while True:
            await asyncio.sleep(MODE_POLL_S)
            stored = await self.decisions.run(lambda store: store.state.mode())
            if stored is not None and stored is not self.unit.mode:
                await self._apply_mode(stored)

    async def _apply_mode(self, mode: UnitMode, initial: bool = False) -> None:
        previous = self.unit.mode
        self.unit.mode = mode
        if mode is UnitMode.EMERGENCY_OPEN:
            self.mechanism.emergency_open()
        elif previous is UnitMode.EMERGENCY_OPEN and not initial:
            self.mechanism.end_emergency()
        if not initial:
            self.unit.events.emit("mode_changed", mode=mode.value, previous=previous.value)
        for side in self.sides.values():
            side.show_ready()

    def _on_passage(self, passage: Passage) -> None:
        """Every sensed passage: counted when the gates stand open for an emergency."""
        if self.unit.mode is UnitMode.EMERGENCY_OPEN:
            asyncio.get_running_loop().create_task(self._journal_emergency(passage))
        elif not passage.flap_was_open:
            self.unit.events.emit("unauthorised_passage", direction=passage.direction)

    async def _journal_emergency(self, passage: Passage) -> None:
        entry = NewPassage(
            direction=Direction(passage.direction),
            kind=PassageKind.EMERGENCY,
            reason="emergency_open",
            unit_time=self.unit.local_clock(),
            central_time=self.unit.central_clock(),
            mode=UnitMode.EMERGENCY_OPEN,
        )
        async with self.unit.writes:
            await self.decisions.run(lambda store: store.journal.append(entry))
        self.unit.events.emit("passage_counted", direction=passage.direction, mode="emergency_open")

    async def _write_health(self) -> None:
        while True:
            try:
                report = await self.health()
                await asyncio.to_thread(_write_json, self.health_path, report)
            except Exception:
                log.exception("could not write the health file %s", self.health_path)
            await asyncio.sleep(HEALTH_EVERY_S)

    async def health(self) -> dict[str, Any]:
        """The gate's health: mode, link, clock, journal, cache and every device.

        Its store reads run on the sync task's thread, never the decision one:
        counting ten million cached tickets takes a tenth of a second or more,
        and a passenger must not wait for a health report.
        """
        pending, cached = await self.sync.store.run(_stored_counts)
        offset = self.clock.offset
        return {
            "time": self.unit.local_clock().isoformat(),
            "mode": self.unit.mode.value,
            "sync": _plain(self.sync.state),
            "clock": {
                "offset_s": None if offset is None else round(offset.total_seconds(), 3),
                "is_skewed": self.clock.is_skewed,
                "uses_central_time": self.clock.is_skewed,
            },
            "journal_pending": pending,
            "tickets_cached": cached,
            "devices": {name: _plain(part.health()) for name, part in self.health_parts.items()},
        }


def _stored_counts(store: UnitStore) -> tuple[int, int]:
    """Passages waiting for upload (up to 1000) and tickets in the cache."""
    return len(store.journal.pending(limit=1000)), store.tickets.count()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _write_json(path: Path, report: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    os.replace(temporary, path)
