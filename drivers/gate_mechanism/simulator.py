"""The simulated gate cabinet: gpiozero mock pins that report, and a simulated passenger.

``GateSimulator`` owns a ``MockFactory`` whose pins report every level
change. It turns each change into an event on its control channel (a Unix
socket served inside the unit's process: ``relay``, ``lamp``, ``sensor``,
``buzzer``, each with a ``time.monotonic()`` timestamp, which is one clock
for every process of the machine), so a test in another process can assert
the relay history; the pins keep their own ``states`` history in-process.
When a flap's relay energises, the simulated passenger breaks that
direction's beam halfway through ``walk_through_ms`` and clears it at the
end, unless the flap locked before they got there. Commands: ``no_show``
{count} (nobody passes the next ``count`` openings), ``walk`` {direction}
(someone passes with no opening: a tailgater, or an emergency passage),
``status`` (answered with a ``status`` event).
"""

from __future__ import annotations

import io
import os
import threading
import time
from typing import IO, Any

from gpiozero.pins.mock import MockFactory, MockPin  # type: ignore[import-untyped]

from drivers.gate_mechanism.config import DIRECTIONS, Direction, GateMechanismConfig
from drivers.sim.control import Control, Handler, Message

MAX_NO_SHOWS = 1000


class ObservedMockPin(MockPin):  # type: ignore[misc]
    """A mock pin that tells its factory's ``observer`` about each level change."""

    def _change_state(self, value: bool) -> bool:
        changed: bool = super()._change_state(value)
        observer = getattr(self.factory, "observer", None)
        if changed and observer is not None:
            observer(self.info.name, bool(value))
        return changed


class ObservedMockFactory(MockFactory):  # type: ignore[misc]
    """gpiozero's ``MockFactory`` with pins that report to ``observer(pin_name, level)``."""

    def __init__(self) -> None:
        super().__init__(pin_class=ObservedMockPin)
        self.observer: Any = None


class SimulatedPassenger:
    """Walks through a flap that opens, or on command; drives the sensor pins."""

    def __init__(self, factory: MockFactory, config: GateMechanismConfig) -> None:
        self._factory = factory
        self._config = config
        self._half_walk_s = config.simulated_walk_ms / 2000
        self._lock = threading.Lock()
        self._no_shows = 0
        self._flaps_energised = {d: False for d in DIRECTIONS}
        self._timers: set[threading.Timer] = set()
        self._is_stopped = False
        self.on_event: Any = None  # set by GateSimulator: emit(event, **fields)

    def flap_changed(self, direction: Direction, energised: bool) -> None:
        """The relay moved: when a flap opens, someone walks (unless a no-show is due)."""
        with self._lock:
            self._flaps_energised[direction] = energised
            no_show = energised and self._no_shows > 0
            self._no_shows -= no_show
            left = self._no_shows
        if no_show:
            self._emit("no_show", direction=direction, left=left)
        elif energised:
            self._later(self._half_walk_s, self._step_in, direction, True)

    def expect_no_shows(self, count: int) -> None:
        with self._lock:
            self._no_shows = count

    def walk(self, direction: Direction) -> None:
        """Someone passes now, flap or no flap."""
        self._step_in(direction, False)

    def clear(self, direction: Direction) -> None:
        """Leave ``direction``'s beam clear, as an empty passage is."""
        self._drive_sensor(direction, occupied=False)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"flaps": dict(self._flaps_energised), "no_shows_left": self._no_shows}

    def stop(self) -> None:
        with self._lock:
            self._is_stopped = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()

    def _step_in(self, direction: Direction, needs_open_flap: bool) -> None:
        with self._lock:
            is_flap_open = self._flaps_energised[direction]
        if needs_open_flap and not is_flap_open:
            self._emit("passenger_turned_back", direction=direction)
            return
        self._drive_sensor(direction, occupied=True)
        self._later(self._half_walk_s, self._step_out, direction)

    def _step_out(self, direction: Direction) -> None:
        self._drive_sensor(direction, occupied=False)
        self._emit("passenger_passed", direction=direction)

    def _drive_sensor(self, direction: Direction, occupied: bool) -> None:
        pin = self._factory.pin(self._config.direction(direction).passage_sensor)
        if occupied == self._config.sensor_active_high:
            pin.drive_high()
        else:
            pin.drive_low()

    def _later(self, delay_s: float, action: Any, *args: Any) -> None:
        timer = threading.Timer(delay_s, self._run_timer, args=(action, *args))
        timer.daemon = True
        with self._lock:
            if self._is_stopped:
                return
            self._timers.add(timer)
        timer.start()

    def _run_timer(self, action: Any, *args: Any) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive()}
            if self._is_stopped:
                return
        action(*args)

    def _emit(self, event: str, **fields: Any) -> None:
        if self.on_event is not None:
            self.on_event(event, **fields)


class GateSimulator:
    """The mock pins, the passenger and the control channel of a simulated gate."""

    def __init__(self, config: GateMechanismConfig) -> None:
        self.config = config
        self.factory = ObservedMockFactory()
        self.passenger = SimulatedPassenger(self.factory, config)
        self.passenger.on_event = self._emit
        self._parts = {f"GPIO{pin}": part for part, pin in config.pins().items()}
        self._control: Control | None = None
        self._devnull: IO[bytes] | None = None
        if config.control_socket is not None:
            # Events go to socket listeners only: the unit's stdout is not for them.
            self._devnull = open(os.devnull, "wb")  # noqa: SIM115 (closed in close())
            self._control = Control(io.BytesIO(), self._devnull, config.control_socket)
        self.factory.observer = self._pin_changed

    def start(self) -> None:
        """Clear every beam, serve the control socket (from a thread) and report ``ready``."""
        for direction in DIRECTIONS:  # a mock input idles at its pull, which may read occupied
            self.passenger.clear(direction)
        if self._control is not None:
            self._control.serve(self._handlers(), stdin=False)
        self._emit("ready", control_socket=str(self.config.control_socket), pins=self.config.pins())

    def close(self) -> None:
        """Stop the passenger and the control channel, then release the mock pins."""
        self.passenger.stop()
        if self._control is not None:
            self._control.close()
        if self._devnull is not None:
            self._devnull.close()
        self.factory.observer = None
        self.factory.close()

    def _handlers(self) -> dict[str, Handler]:
        return {"no_show": self._no_show, "walk": self._walk, "status": self._status}

    def _no_show(self, message: Message) -> None:
        count = message.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_NO_SHOWS:
            raise ValueError(f"no_show needs a count within 0..{MAX_NO_SHOWS}")
        self.passenger.expect_no_shows(count)
        self._emit("no_show_set", count=count)

    def _walk(self, message: Message) -> None:
        direction = message.get("direction")
        if direction not in DIRECTIONS:
            raise ValueError(f"walk needs a direction: {' or '.join(DIRECTIONS)}")
        self.passenger.walk(direction)

    def _status(self, _message: Message) -> None:
        self._emit("status", **self.passenger.status(), sensors=self._sensor_levels())

    def _sensor_levels(self) -> dict[str, bool]:
        active_high = self.config.sensor_active_high
        return {
            d: self.factory.pin(self.config.direction(d).passage_sensor).state == active_high
            for d in DIRECTIONS
        }

    def _pin_changed(self, pin_name: str, level: bool) -> None:
        part = self._parts.get(pin_name)
        if part is None:
            return
        owner, _, role = part.partition(".")
        fields = {"level": int(level), "at": time.monotonic(), "pin": pin_name}
        if role == "flap_relay":
            energised = level == self.config.relay_active_high
            self._emit("relay", direction=owner, energised=energised, **fields)
            self.passenger.flap_changed(owner, energised)  # type: ignore[arg-type]
        elif role == "passage_sensor":
            occupied = level == self.config.sensor_active_high
            self._emit("sensor", direction=owner, occupied=occupied, **fields)
        elif part == "buzzer":
            self._emit("buzzer", sounding=level == self.config.buzzer_active_high, **fields)
        else:
            self._emit("lamp", lamp=part, lit=level == self.config.lamp_active_high, **fields)

    def _emit(self, event: str, **fields: Any) -> None:
        if self._control is not None:
            self._control.emit(event, **fields)
