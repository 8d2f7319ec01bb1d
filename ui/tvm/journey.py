"""Plays a passenger's scripted journey as real touches on the kiosk's screens.

``JourneyPlayer`` never calls the runtime: for each step it finds the widget
on the screen the kiosk shows (``Kiosk.target_rect``), posts a finger (or
mouse) press and release at its centre into pygame's event queue, types on
the on-screen keyboard key by key (a Chinese name goes as text input, as an
input method or ID card reader would send it), and waits, up to the step's
timeout, for the runtime's answer to appear on the screen. A list longer
than a page is paged through like a passenger would. Scanning a ticket is
not a touch: the player hands the ticket's QR text to the ``TicketScanner``
the caller gives (in the unit, the QR scanner's simulator). The kiosk must
be running meanwhile (``ui.tvm.loop.run_kiosk``). Each step reports ok, or
what the screen showed instead; the journey stops at the first failure.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pygame

from device.tvm.view import Screen, Station, TvmView
from ui.tvm import words as w
from ui.tvm.journey_file import Action, Journey, Step
from ui.tvm.kiosk import Kiosk
from ui.tvm.targets import ID_FIELD, NAME_FIELD, SEARCH_FIELD

Touch = Literal["finger", "mouse"]
LATIN_NAME = re.compile(r"^[A-Za-z ]+$")
STOPS = {Screen.MESSAGE, Screen.CLOSED, Screen.HOME}  # where a journey ends up when it fails
MAX_PAGES = 50
IDLE_GRACE_S = 5.0


class TicketScanner(Protocol):
    """Where scanned tickets go: what has been printed, and the scanner to show a QR code to."""

    def printed(self) -> Sequence[str]:
        """The QR texts of the tickets printed so far, in print order."""
        ...

    async def scan(self, qr_text: str) -> None:
        """Hold a ticket with ``qr_text`` under the machine's QR scanner."""
        ...


class CardSlot(Protocol):
    """The bank terminal as a passenger meets it: the next card presented fares as told."""

    async def present(self, outcome: str) -> None:
        """The next card at the terminal is approved, declined, ... (``card <outcome>``)."""
        ...


class StepFailed(Exception):
    """A step could not be done; the message says what the screen showed instead."""


@dataclass(frozen=True)
class StepResult:
    """How one step went."""

    number: int
    step: str
    ok: bool
    screen: str  # the screen shown when the step ended
    message: str  # its message, in the language shown
    detail: str = ""  # why it failed
    seconds: float = 0.0


@dataclass(frozen=True)
class JourneyReport:
    """How a journey went: a result per step played, up to the first failure."""

    name: str
    results: tuple[StepResult, ...]
    steps: int

    @property
    def ok(self) -> bool:
        """True when every step was played and went as it should."""
        return len(self.results) == self.steps and all(r.ok for r in self.results)

    def describe(self) -> str:
        """One line per step played, for a person."""
        return "\n".join(
            f"{r.number:3d} {'ok  ' if r.ok else 'FAIL'} {r.step} -> {r.screen}"
            + (f": {r.detail}" if r.detail else "")
            for r in self.results
        )


@dataclass(frozen=True)
class Outcome:
    """When a step is done, once a view newer than ``since`` is shown."""

    since: int
    done: Callable[[TvmView], bool]
    usual: frozenset[Screen] = frozenset()  # the screens it ends on: others in STOPS fail it
    before: TvmView | None = None  # for a step that stays on its screen: a new message fails it


class JourneyPlayer:
    """Touches the kiosk's screens as ``Journey`` steps say."""

    def __init__(
        self,
        kiosk: Kiosk,
        scanner: TicketScanner | None = None,
        *,
        card: CardSlot | None = None,
        touch: Touch | None = None,
        poll_s: float = 0.005,
    ) -> None:
        self.kiosk = kiosk
        self.scanner = scanner
        self.card = card
        self.touch_kind = touch
        self.poll_s = poll_s
        self._touch: Touch = touch or "finger"
        self._deadline = 0.0

    async def play(self, journey: Journey) -> JourneyReport:
        """Play every step until one fails; how each went."""
        self._touch = self.touch_kind or journey.touch
        first = await self._first_view(journey.steps[0])
        if first is not None:
            return JourneyReport(journey.name, (first,), len(journey.steps))
        results: list[StepResult] = []
        for step in journey.steps:
            results.append(await self._play_step(step))
            if not results[-1].ok:
                break
        return JourneyReport(journey.name, tuple(results), len(journey.steps))

    async def _first_view(self, step: Step) -> StepResult | None:
        """Wait for the runtime's first view; the first step's failure if it never comes."""
        self._deadline = asyncio.get_running_loop().time() + step.timeout_s
        try:
            await self._until("the runtime's first view", lambda: self.kiosk.shown > 0)
        except StepFailed as failed:
            return StepResult(
                step.number, step.text, False, self.kiosk.view.screen.value, "", str(failed)
            )
        return None

    async def _play_step(self, step: Step) -> StepResult:
        started = time.perf_counter()
        self._deadline = asyncio.get_running_loop().time() + step.timeout_s
        detail = ""
        try:
            await self._perform(step)
        except StepFailed as failed:
            detail = str(failed)
        view = self.kiosk.view
        message = w.say(view.message, view.language) if view.message is not None else ""
        return StepResult(
            step.number,
            step.text,
            not detail,
            view.screen.value,
            message,
            detail,
            time.perf_counter() - started,
        )

    async def _perform(self, step: Step) -> None:
        outcome = await ACTIONS[step.action](self, step)
        if outcome is None:
            return
        if step.expect is not None:
            expected = step.expect
            outcome = Outcome(outcome.since, lambda v: v.screen is expected and not v.busy)
        await self._until_outcome(step, outcome)

    # -- the steps -------------------------------------------------------------------------

    async def _start(self, step: Step) -> Outcome:
        usual = Screen.DESTINATION if step.args[0] == "purchase" else Screen.SCAN
        return await self._touch_for(f"start:{step.args[0]}", _on(usual), {usual})

    async def _destination(self, step: Step) -> Outcome:
        wanted = step.args[0]
        letters = step.search or search_letters(wanted, self.kiosk.view.destinations)
        await self._type_search(letters.upper())
        station = self._match(wanted, letters.upper())
        return await self._touch_for(f"dest:{station.code}", _on(Screen.TRAINS), {Screen.TRAINS})

    async def _search(self, step: Step) -> Outcome | None:
        await self._type_search(step.args[0].upper())
        return None

    async def _train(self, step: Step) -> Outcome:
        return await self._touch_for(f"train:{step.args[0]}", _on(Screen.CLASS), {Screen.CLASS})

    async def _day(self, step: Step) -> Outcome:
        day = self.kiosk.view.day
        return await self._touch_for(
            f"day:{step.args[0]}",
            lambda v: v.day != day and not v.busy,
            {Screen.CHANGE},
            same_screen=True,
        )

    async def _class(self, step: Step) -> Outcome:
        usual = {Screen.PASSENGERS, Screen.CONFIRM}  # a change goes from class to confirm
        return await self._touch_for(f"class:{step.args[0]}", _on(*usual), usual)

    async def _passenger(self, step: Step) -> Outcome:
        name, id_number = " ".join(step.args[:-1]), step.args[-1].upper()
        await self._until(
            "the passengers screen", lambda: _settled(self.kiosk.view, Screen.PASSENGERS)
        )
        await self._fill(NAME_FIELD, name)
        await self._fill(ID_FIELD, id_number)
        count = len(self.kiosk.view.passengers)
        return await self._touch_for(
            "passenger:add",
            lambda v: len(v.passengers) == count + 1,
            {Screen.PASSENGERS},
            same_screen=True,
        )

    async def _remove_passenger(self, step: Step) -> Outcome:
        count = len(self.kiosk.view.passengers)
        target = f"passenger:remove:{int(step.args[0]) - 1}"
        return await self._touch_for(
            target, lambda v: len(v.passengers) == count - 1, {Screen.PASSENGERS}, same_screen=True
        )

    async def _confirm_card_station(self, step: Step) -> Outcome:
        screen = self.kiosk.view.screen
        return await self._touch_for(
            "confirm:card_station",
            lambda v: not v.busy and (not v.needs_card_station_confirm or v.screen is not screen),
            {screen},
            same_screen=True,
        )

    async def _pay_card(self, step: Step) -> Outcome:
        return await self._touch_for("pay:card", _on(Screen.DONE), {Screen.DONE})

    async def _take_ticket(self, step: Step) -> Outcome:
        return await self._touch_for("done", _on(Screen.HOME), {Screen.HOME})

    async def _cancel(self, step: Step) -> Outcome:
        return await self._touch_for("cancel", _on(Screen.HOME), {Screen.HOME})

    async def _leaving(self, step: Step) -> Outcome:
        """confirm, done, back, touch: the step is done when another screen settles."""
        target = step.args[0] if step.action is Action.TOUCH else step.action.value
        return await self._touch_for(target, _leaves(self.kiosk.view.screen), set())

    async def _scan(self, step: Step) -> Outcome:
        if self.scanner is None:
            raise StepFailed("no ticket scanner was given to the journey player")
        qr_text = step.args[0] if step.action is Action.SCAN_QR else self._printed(step.args[0])
        await self._until("the scan screen", lambda: _settled(self.kiosk.view, Screen.SCAN))
        since = self.kiosk.shown
        await self.scanner.scan(qr_text)
        usual = frozenset({Screen.REFUND, Screen.CHANGE})
        return Outcome(since, _leaves(Screen.SCAN), usual)

    async def _card(self, step: Step) -> None:
        if self.card is None:
            raise StepFailed("no card terminal was given to the journey player")
        await self.card.present(step.args[0])

    async def _wait_for(self, step: Step) -> Outcome:
        screen = Screen(step.args[0])
        return Outcome(-1, lambda v: v.screen is screen)

    async def _expect(self, step: Step) -> Outcome:
        screen = Screen(step.args[0])
        return Outcome(-1, lambda v: v.screen is screen and not v.busy)

    async def _language(self, step: Step) -> Outcome | None:
        language = step.args[0]
        if self.kiosk.view.language == language:
            return None
        return await self._touch_for("language", lambda v: v.language == language, set())

    async def _idle(self, step: Step) -> Outcome:
        left = self.kiosk.idle_seconds_left
        if left is None:
            raise StepFailed(f"the {self.kiosk.view.screen} screen has no idle timeout")
        loop = asyncio.get_running_loop()
        self._deadline = max(self._deadline, loop.time() + left + IDLE_GRACE_S)
        return Outcome(self.kiosk.shown, _on(Screen.HOME), frozenset({Screen.HOME}))

    # -- touching and typing -----------------------------------------------------------------

    async def _touch_for(
        self,
        target: str,
        done: Callable[[TvmView], bool],
        usual: set[Screen],
        *,
        same_screen: bool = False,
    ) -> Outcome:
        """Touch ``target``; the outcome that says the runtime answered."""
        await self._reveal(target)
        before = self.kiosk.view
        since = self.kiosk.shown
        await self.tap(target)
        return Outcome(since, done, frozenset(usual), before if same_screen else None)

    async def tap(self, key: str) -> None:
        """Press and release the widget ``key`` where it is drawn; return once the kiosk read it."""
        rect = self.kiosk.target_rect(key)
        if rect is None:
            raise StepFailed(f"{key} is not on the {self.kiosk.view.screen} screen")
        for event in self._press(rect.center):
            pygame.event.post(event)
        await self._next_frame()

    async def _type_search(self, letters: str) -> None:
        await self._until(
            "the destination screen", lambda: _settled(self.kiosk.view, Screen.DESTINATION)
        )
        await self._fill(SEARCH_FIELD, letters)
        await self._until(
            f"the stations matching {letters}",
            lambda: (
                _settled(self.kiosk.view, Screen.DESTINATION)
                and self.kiosk.view.query.upper() == letters
            ),
        )

    async def _fill(self, field: str, text: str) -> None:
        """Touch ``field``, clear it, and type ``text``: keys for letters, text input otherwise."""
        await self._reveal(field)
        await self.tap(field)
        await self.tap("key:clear")
        if LATIN_NAME.match(text) or field != NAME_FIELD:
            for ch in text.upper():
                await self._reveal("key:space" if ch == " " else f"key:{ch}")
                await self.tap("key:space" if ch == " " else f"key:{ch}")
        else:
            pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=text))
            await self._next_frame()
        typed = self.kiosk.field_text(field).upper()
        if typed != text.upper():
            raise StepFailed(f"typed {text!r} into {field} but it holds {typed!r}")

    async def _reveal(self, key: str) -> None:
        """Wait until ``key`` can be touched, paging through a long list to find it."""
        to_first_page = True  # a list may be shown at any page: go to its first, then onwards
        for _ in range(MAX_PAGES):
            await self._until(f"{key} or the next page", lambda: self._findable(key))
            if self.kiosk.is_touchable(key):
                return
            if to_first_page and self.kiosk.is_touchable("page:prev"):
                await self.tap("page:prev")
                continue
            to_first_page = False
            if not self.kiosk.is_touchable("page:next"):
                break
            await self.tap("page:next")
        raise StepFailed(f"{key} is on no page of the {self.kiosk.view.screen} screen")

    def _findable(self, key: str) -> bool:
        if self.kiosk.is_touchable(key):
            return True
        offered = key in self.kiosk.view.targets
        pager = self.kiosk.is_touchable("page:next") or self.kiosk.is_touchable("page:prev")
        return offered and pager

    def _press(self, pos: tuple[int, int]) -> list[pygame.event.Event]:
        if self._touch == "mouse":
            return [
                pygame.event.Event(kind, pos=pos, button=1)
                for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP)
            ]
        width, height = self.kiosk.size
        finger: dict[str, Any] = {
            "touch_id": 1,
            "finger_id": 0,
            "pressure": 1.0,
            "dx": 0.0,
            "dy": 0.0,
            "x": pos[0] / (width - 1),
            "y": pos[1] / (height - 1),
        }
        return [pygame.event.Event(kind, finger) for kind in (pygame.FINGERDOWN, pygame.FINGERUP)]

    # -- waiting -------------------------------------------------------------------------------

    async def _next_frame(self) -> None:
        frame = self.kiosk.frames
        await self._until("the kiosk's next frame", lambda: self.kiosk.frames > frame)

    async def _until(self, what: str, ready: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        while not ready():
            if loop.time() > self._deadline:
                raise StepFailed(f"waited for {what}; {self._showing()}")
            await asyncio.sleep(self.poll_s)

    async def _until_outcome(self, step: Step, outcome: Outcome) -> None:
        def reached() -> bool:
            view = self.kiosk.view
            if self.kiosk.shown <= outcome.since:
                return False
            if outcome.done(view):
                return True
            _fail_if_stopped(view, outcome, self._showing)
            return False

        await self._until(f"the answer to {step.text!r}", reached)

    def _showing(self) -> str:
        view = self.kiosk.view
        message = w.say(view.message, view.language) if view.message is not None else ""
        busy = ", busy" if view.busy else ""
        return f"the screen shows {view.screen}{busy}" + (f": {message}" if message else "")

    def _printed(self, which: str) -> str:
        assert self.scanner is not None
        printed = list(self.scanner.printed())
        if which == "first":
            index = 0
        elif which == "last":
            index = len(printed) - 1
        else:
            index = int(which) - 1
        if not 0 <= index < len(printed):
            raise StepFailed(f"ticket {which} asked for, {len(printed)} printed so far")
        return printed[index]

    def _match(self, wanted: str, letters: str) -> Station:
        shown = self.kiosk.view.destinations
        for station in shown:
            names = (station.code, station.name.zh, station.name.en.casefold())
            if wanted in names or wanted.casefold() in names:
                return station
        by_initials = [s for s in shown if s.initials.upper() == wanted.upper()]
        if len(by_initials) == 1:
            return by_initials[0]
        listed = ", ".join(f"{s.name.zh} {s.code}" for s in shown) or "none"
        raise StepFailed(f"{wanted} is not among the stations matching {letters}: {listed}")


def search_letters(station: str, shown: Sequence[Station]) -> str:
    """What to type to find ``station``: a code or initials as given, else the initials the
    machine shows for that Chinese name (as a passenger reads them off the list)."""
    if station.isascii() and station.isalpha() and station.isupper():
        return station
    for candidate in shown:
        if candidate.name.zh == station and candidate.initials:
            return candidate.initials.upper()
    raise StepFailed(
        f"give the letters to type for {station!r}: "
        f'{{ step = "destination {station}", search = "..." }}'
    )


def _on(*screens: Screen) -> Callable[[TvmView], bool]:
    return lambda view: view.screen in screens and not view.busy


def _leaves(screen: Screen) -> Callable[[TvmView], bool]:
    return lambda view: view.screen is not screen and not view.busy


def _settled(view: TvmView, screen: Screen) -> bool:
    return view.screen is screen and not view.busy


def _fail_if_stopped(view: TvmView, outcome: Outcome, showing: Callable[[], str]) -> None:
    """Fail at once when the runtime answered with a failure, rather than at the timeout."""
    if view.busy:
        return
    if outcome.usual and view.screen in STOPS and view.screen not in outcome.usual:
        raise StepFailed(showing())
    before = outcome.before
    if before is not None and view.screen is before.screen and view.message != before.message:
        raise StepFailed(f"the runtime answered on the same screen; {showing()}")


StepAction = Callable[[JourneyPlayer, Step], Awaitable[Outcome | None]]
ACTIONS: dict[Action, StepAction] = {
    Action.START: JourneyPlayer._start,
    Action.DESTINATION: JourneyPlayer._destination,
    Action.SEARCH: JourneyPlayer._search,
    Action.TRAIN: JourneyPlayer._train,
    Action.DAY: JourneyPlayer._day,
    Action.CLASS: JourneyPlayer._class,
    Action.PASSENGER: JourneyPlayer._passenger,
    Action.REMOVE_PASSENGER: JourneyPlayer._remove_passenger,
    Action.CONFIRM_CARD_STATION: JourneyPlayer._confirm_card_station,
    Action.CONFIRM: JourneyPlayer._leaving,
    Action.PAY_CARD: JourneyPlayer._pay_card,
    Action.CARD: JourneyPlayer._card,
    Action.TAKE_TICKET: JourneyPlayer._take_ticket,
    Action.DONE: JourneyPlayer._leaving,
    Action.BACK: JourneyPlayer._leaving,
    Action.CANCEL: JourneyPlayer._cancel,
    Action.SCAN_TICKET: JourneyPlayer._scan,
    Action.SCAN_QR: JourneyPlayer._scan,
    Action.WAIT_FOR: JourneyPlayer._wait_for,
    Action.EXPECT: JourneyPlayer._expect,
    Action.LANGUAGE: JourneyPlayer._language,
    Action.IDLE: JourneyPlayer._idle,
    Action.TOUCH: JourneyPlayer._leaving,
}
