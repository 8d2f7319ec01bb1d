"""The ticket gate's mechanism: flaps, lamps, buzzer and passages, for the unit's event loop.

``GateMechanism`` turns the unit's intents into levels on a ``GateBoard``
and the passage sensors' edges into passages. A passage is one person
through: the sensor became occupied, then clear. ``wait_passage`` awaits
the next one in a direction (passages since the flap last opened count,
so a quick walker is not missed); ``subscribe`` hears every passage, also
those nobody waits for (emergency open, a tailgater). gpiozero calls back
from its own threads; passages reach the loop through
``call_soon_threadsafe``, and the state both sides share sits behind one
lock. Emergency open is a commanded state: every flap stays open until
``end_emergency()``, and ``open``/``lock`` leave it alone meanwhile.
``close()`` de-energises everything, whatever fails on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from drivers.errors import DeviceConfigError, DeviceUnavailable, DriverError
from drivers.gate_mechanism.board import GateBoard, Lamp
from drivers.gate_mechanism.config import DIRECTIONS, Direction

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock: aware UTC time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Passage:
    """One person through a direction; ``flap_was_open`` when they stepped in."""

    direction: Direction
    at: datetime
    flap_was_open: bool


@dataclass(frozen=True)
class GateHealth:
    """The mechanism as the maintenance menu and the unit's health see it."""

    backend: str
    is_closed: bool
    is_emergency: bool
    flaps_open: dict[Direction, bool]
    sensors_occupied: dict[Direction, bool]
    passages: dict[Direction, int]
    last_error: str | None


@dataclass
class _Lane:
    """One direction's passage bookkeeping (guarded by the mechanism's lock)."""

    is_flap_open: bool = False
    is_occupied: bool = False  # someone stepped in and has not cleared yet
    stepped_in_while_open: bool = False
    unclaimed: int = 0  # passages since the flap opened that no wait_passage took
    count: int = 0
    waiters: list[asyncio.Future[bool]] = field(default_factory=list)


class Subscription:
    """Passages delivered to a callback on the loop that subscribed; ``cancel()`` to stop."""

    def __init__(self, callback: Callable[[Passage], None], cancel: Callable[[], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._callback = callback
        self.cancel = cancel

    def deliver(self, passage: Passage) -> None:
        """From any thread: call the callback on its loop."""
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody listens
            self._loop.call_soon_threadsafe(self._call, passage)

    def _call(self, passage: Passage) -> None:
        try:
            self._callback(passage)
        except Exception:  # one bad listener must not stop the others
            log.exception("gate: a passage subscriber failed")


class GateMechanism:
    """A ticket gate's flaps, lamps, buzzer and passage sensors."""

    def __init__(
        self,
        board: GateBoard,
        *,
        backend: str = "gpio",
        clock: Clock = utc_now,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._board = board
        self._backend = backend
        self._clock = clock
        self._on_close = on_close
        self._beeps = board.config.beep_patterns()
        self._lock = threading.Lock()
        self._lanes = {d: _Lane() for d in DIRECTIONS}
        self._subscriptions: list[Subscription] = []
        self._is_emergency = False
        self._is_closed = False
        self._last_error: str | None = None
        for direction in DIRECTIONS:
            board.watch_sensor(direction, self._sensor_handler(direction))

    @property
    def pin_factory(self) -> Any:  # gpiozero is untyped
        """The gpiozero pin factory under the parts (a ``MockFactory`` in simulation)."""
        return self._board.pin_factory

    @property
    def is_emergency(self) -> bool:
        return self._is_emergency

    # Flaps.

    def open(self, direction: Direction) -> None:
        """Energise ``direction``'s flap; passages seen before this no longer count."""
        self._check_open()
        if self._is_emergency:
            return  # every flap is open already
        with self._lock:
            self._lanes[direction].unclaimed = 0
        self._drive_flaps([direction], energised=True)

    def lock(self, direction: Direction | None = None) -> None:
        """De-energise one flap, or both (``None``); not during an emergency open."""
        self._check_open()
        if self._is_emergency:
            log.warning("gate: lock(%s) ignored during an emergency open", direction)
            return
        self._drive_flaps(list(DIRECTIONS) if direction is None else [direction], energised=False)

    def emergency_open(self) -> None:
        """Open every flap and keep them open until ``end_emergency()``."""
        self._check_open()
        self._is_emergency = True
        log.warning("gate: emergency open")
        self._drive_flaps(list(DIRECTIONS), energised=True)

    def end_emergency(self) -> None:
        """Leave the emergency open: every flap locks."""
        self._check_open()
        self._is_emergency = False
        log.warning("gate: emergency open ended")
        self._drive_flaps(list(DIRECTIONS), energised=False)

    def _drive_flaps(self, directions: list[Direction], energised: bool) -> None:
        """Drive each flap even if one fails; then raise the first failure."""
        failures: list[DriverError] = []
        for direction in directions:
            with self._lock:
                self._lanes[direction].is_flap_open = energised
            try:
                self._board.set_flap(direction, energised)
            except DriverError as exc:
                with self._lock:  # the relay presumably stayed as it was
                    self._lanes[direction].is_flap_open = not energised
                failures.append(exc)
                self._note_error(exc)
        if failures:
            raise failures[0]

    # Lamps and buzzer.

    def show(self, direction: Direction, lamp: Lamp) -> None:
        """Light ``direction``'s green or red lamp, or turn both off."""
        self._check_open()
        self._recording(lambda: self._board.set_lamps(direction, lamp))

    def beep(self, pattern: str) -> None:
        """Sound a named pattern (``ok`` short, ``refuse`` long, ``alarm``, or the profile's)."""
        self._check_open()
        if pattern not in self._beeps:
            known = ", ".join(sorted(self._beeps))
            raise DeviceConfigError(f"gate: no beep pattern {pattern!r} (known: {known})")
        self._recording(lambda: self._board.beep(self._beeps[pattern]))

    # Passages.

    async def wait_passage(self, direction: Direction, timeout_s: float) -> bool:
        """True once someone passed ``direction``; False after ``timeout_s`` without."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        with self._lock:
            lane = self._lanes[direction]
            if lane.unclaimed:
                lane.unclaimed -= 1
                return True
            if self._is_closed:
                return False
            lane.waiters.append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return False
        finally:
            with self._lock, contextlib.suppress(ValueError):
                lane.waiters.remove(future)

    def subscribe(self, callback: Callable[[Passage], None]) -> Subscription:
        """Call ``callback(passage)`` on the running loop for every passage from now on."""
        subscription = Subscription(callback, lambda: self._unsubscribe(subscription))
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)

    def _sensor_handler(self, direction: Direction) -> Callable[[bool], None]:
        return lambda occupied: self._sensor_changed(direction, occupied)

    def _sensor_changed(self, direction: Direction, occupied: bool) -> None:
        """From gpiozero's thread: a step in, or a step out that completes a passage."""
        with self._lock:
            passage = self._passage_completed(self._lanes[direction], direction, occupied)
            if passage is None:
                return
            waiter = self._claim_waiter(self._lanes[direction])
            subscriptions = list(self._subscriptions)
        if waiter is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closed
                waiter.get_loop().call_soon_threadsafe(self._hand_over, waiter, direction)
        for subscription in subscriptions:
            subscription.deliver(passage)

    def _passage_completed(
        self, lane: _Lane, direction: Direction, occupied: bool
    ) -> Passage | None:
        """Under the lock: note the edge; the passage if it was a step out after a step in."""
        if occupied:
            lane.is_occupied, lane.stepped_in_while_open = True, lane.is_flap_open
            return None
        if not lane.is_occupied:
            return None  # occupied before we watched: not a whole passage
        lane.is_occupied = False
        lane.count += 1
        return Passage(direction, self._clock(), lane.stepped_in_while_open)

    @staticmethod
    def _claim_waiter(lane: _Lane) -> asyncio.Future[bool] | None:
        """Under the lock: the first waiter, or None and the passage is kept for the next."""
        if lane.waiters:
            return lane.waiters.pop(0)
        lane.unclaimed += 1
        return None

    def _hand_over(self, waiter: asyncio.Future[bool], direction: Direction) -> None:
        """On the waiter's loop: give it the passage, or keep it if the wait just ended."""
        if not waiter.done():
            waiter.set_result(True)
            return
        with self._lock:
            self._lanes[direction].unclaimed += 1

    # Health and shutdown.

    def health(self) -> GateHealth:
        """A snapshot of the flaps, sensors and passages counted."""
        with self._lock:
            flaps = {d: lane.is_flap_open for d, lane in self._lanes.items()}
            counts = {d: lane.count for d, lane in self._lanes.items()}
        occupied = {d: self._is_sensor_occupied(d) for d in DIRECTIONS}
        return GateHealth(
            backend=self._backend,
            is_closed=self._is_closed,
            is_emergency=self._is_emergency,
            flaps_open=flaps,
            sensors_occupied=occupied,
            passages=counts,
            last_error=self._last_error,
        )

    def _is_sensor_occupied(self, direction: Direction) -> bool:
        if self._is_closed:
            return False
        try:
            return self._board.is_sensor_occupied(direction)
        except DriverError as exc:
            self._note_error(exc)
            return False

    def close(self) -> None:
        """De-energise every relay and output and release the pins; never raises."""
        if self._is_closed:
            return
        self._is_emergency = False
        with self._lock:
            self._is_closed = True
            waiters = [w for lane in self._lanes.values() for w in lane.waiters]
            for lane in self._lanes.values():
                lane.is_flap_open = False
        failures = self._board.close()
        if self._on_close is not None:
            _release(self._on_close, failures)
        for waiter in waiters:  # nobody will pass any more
            with contextlib.suppress(RuntimeError):
                waiter.get_loop().call_soon_threadsafe(_settle, waiter, False)
        if failures:
            self._last_error = "; ".join(failures)
            log.error("gate: shutdown finished with failures: %s", self._last_error)

    def _check_open(self) -> None:
        if self._is_closed:
            raise DeviceUnavailable("the gate mechanism is closed")

    def _recording(self, action: Callable[[], None]) -> None:
        try:
            action()
        except DriverError as exc:
            self._note_error(exc)
            raise

    def _note_error(self, error: DriverError) -> None:
        self._last_error = error.message
        log.error("gate: %s", error.message)


def _release(on_close: Callable[[], None], failures: list[str]) -> None:
    try:
        on_close()
    except Exception as exc:  # shutdown reports it; the outputs are already off
        log.exception("gate: releasing the pin factory or simulator failed")
        failures.append(f"release: {exc!r}")


def _settle(future: asyncio.Future[bool], result: bool) -> None:
    if not future.done():
        future.set_result(result)
