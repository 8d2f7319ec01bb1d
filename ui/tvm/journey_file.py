"""A passenger's scripted journey, read from a TOML or JSON file into checked steps.

A journey is a list of what a passenger does, one short phrase per step
(``"start purchase"``, ``"destination 上海虹桥"``, ``"train G7001"``, ...),
or a table when a step needs more (``{ step = "pay card", expect = "message",
timeout_s = 30 }``). Every step is checked when the file is read: an unknown
phrase, a missing or extra argument, a screen or language that does not
exist, stops the journey before it starts, with the step's number and text.
``ui.tvm.journey`` plays the steps; ``docs/tvm-kiosk.md`` describes each.
"""

from __future__ import annotations

import enum
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from device.tvm.view import Screen
from drivers.pos.simulator.device import OUTCOMES as TERMINAL_OUTCOMES

Seconds = Annotated[float, Field(gt=0, le=3600)]
LETTERS = re.compile(r"^[A-Za-z]{1,12}$")


class Action(enum.StrEnum):
    """What a step does; the value is the phrase that starts it."""

    START = "start"
    DESTINATION = "destination"
    SEARCH = "search"
    TRAIN = "train"
    DAY = "day"  # the change screen's day: earlier or later
    CLASS = "class"
    PASSENGER = "passenger"
    REMOVE_PASSENGER = "remove passenger"
    CONFIRM_CARD_STATION = "confirm card station"
    CONFIRM = "confirm"
    PAY_CARD = "pay card"
    CARD = "card"  # how the passenger's card will fare at the terminal (simulated terminal)
    TAKE_TICKET = "take ticket"
    DONE = "done"
    BACK = "back"
    CANCEL = "cancel"
    SCAN_TICKET = "scan ticket"
    SCAN_QR = "scan qr"
    WAIT_FOR = "wait for"
    EXPECT = "expect"
    LANGUAGE = "language"
    IDLE = "idle"
    TOUCH = "touch"


# how many words follow the phrase: (fewest, most); None: the rest of the line, at least one
ARGUMENTS: dict[Action, tuple[int, int] | None] = {
    Action.START: (1, 1),
    Action.DESTINATION: None,
    Action.SEARCH: (1, 1),
    Action.TRAIN: (1, 1),
    Action.DAY: (1, 1),
    Action.CLASS: (1, 1),
    Action.PASSENGER: (2, 8),
    Action.REMOVE_PASSENGER: (1, 1),
    Action.SCAN_TICKET: (1, 1),
    Action.CARD: (1, 1),
    Action.SCAN_QR: None,
    Action.WAIT_FOR: (1, 1),
    Action.EXPECT: (1, 1),
    Action.LANGUAGE: (1, 1),
    Action.TOUCH: (1, 1),
}
CHOICES: dict[Action, set[str]] = {
    Action.START: {"purchase", "refund", "change"},
    Action.DAY: {"earlier", "later"},
    Action.LANGUAGE: {"zh", "en"},
    # the terminal simulator's outcomes for the next card presented
    Action.CARD: set(TERMINAL_OUTCOMES),
    Action.WAIT_FOR: {screen.value for screen in Screen},
    Action.EXPECT: {screen.value for screen in Screen},
}
# longest first, so "confirm card station" is not read as "confirm"
PHRASES = sorted(Action, key=lambda action: -len(action.value))


class JourneyError(ValueError):
    """The journey file is missing, unreadable or wrong; the message says where."""


class StepTable(BaseModel):
    """A step written as a table, with options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    timeout_s: Seconds | None = None
    expect: Screen | None = None  # the screen this step must end on (instead of its usual one)
    search: str | None = Field(default=None, pattern=LETTERS.pattern)  # letters to type


class JourneyModel(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    step_timeout_s: Seconds = 10.0
    touch: Literal["finger", "mouse"] = "finger"  # which events a touch posts
    steps: list[Any] = Field(min_length=1)  # each a phrase or a StepTable, checked one by one


@dataclass(frozen=True)
class Step:
    """One checked step."""

    number: int  # from 1, as a person counts them
    text: str
    action: Action
    args: tuple[str, ...]
    timeout_s: float
    expect: Screen | None = None
    search: str | None = None


@dataclass(frozen=True)
class Journey:
    """A checked journey."""

    name: str
    steps: tuple[Step, ...]
    touch: Literal["finger", "mouse"] = "finger"


def load_journey(path: Path) -> Journey:
    """The journey in ``path`` (``.toml`` or ``.json``), checked."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise JourneyError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise JourneyError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}"
        ) from None
    return parse_journey(data, str(path))


def parse_journey(data: Mapping[str, Any], source: str = "journey") -> Journey:
    """A journey from its parsed file contents; ``source`` names it in errors."""
    try:
        model = JourneyModel.model_validate(data)
    except ValidationError as exc:
        raise JourneyError(f"{source}: {_first_error(exc)}") from None
    steps = [_step(n, item, model, source) for n, item in enumerate(model.steps, start=1)]
    return Journey(model.name, tuple(steps), model.touch)


def _step(number: int, item: object, model: JourneyModel, source: str) -> Step:
    try:
        table = _table(item)
        text = " ".join(table.step.split())
        action, args = parse_phrase(text)
    except ValueError as exc:
        raise JourneyError(f"{source}: step {number} ({_shown(item)}): {exc}") from None
    timeout = table.timeout_s or model.step_timeout_s
    return Step(number, text, action, args, timeout, table.expect, table.search)


def _table(item: object) -> StepTable:
    if isinstance(item, str):
        return StepTable(step=item)
    if not isinstance(item, Mapping):
        raise ValueError("a step is a phrase or a table with a 'step' key")
    try:
        return StepTable.model_validate(item)
    except ValidationError as exc:
        raise ValueError(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


def _shown(item: object) -> str:
    text = item if isinstance(item, str) else getattr(item, "get", lambda key: None)("step")
    return repr(" ".join(str(text).split())) if text is not None else repr(item)


def parse_phrase(text: str) -> tuple[Action, tuple[str, ...]]:
    """The action a step's phrase names and the words after it."""
    words = text.split()
    lowered = [word.lower() for word in words]
    for action in PHRASES:
        length = len(action.value.split())
        if lowered[:length] == action.value.split():
            return action, _arguments(action, tuple(words[length:]))
    known = ", ".join(sorted(action.value for action in Action))
    raise ValueError(f"unknown step; steps are: {known}")


def _arguments(action: Action, args: tuple[str, ...]) -> tuple[str, ...]:
    wanted = ARGUMENTS.get(action, (0, 0))
    if wanted is None:
        if not args:
            raise ValueError(f"{action.value!r} needs something after it")
        return (" ".join(args),)
    fewest, most = wanted
    if not fewest <= len(args) <= most:
        raise ValueError(f"{action.value!r} takes {_count(fewest, most)}, not {len(args)}")
    choices = CHOICES.get(action)
    if choices is not None and args[0].lower() not in choices:
        raise ValueError(f"{args[0]!r} is not one of {', '.join(sorted(choices))}")
    _check_values(action, args)
    return tuple(arg.lower() for arg in args) if choices is not None else args


def _check_values(action: Action, args: tuple[str, ...]) -> None:
    if action is Action.REMOVE_PASSENGER and not (args[0].isdigit() and int(args[0]) >= 1):
        raise ValueError("the passenger to remove is a number from 1, as listed")
    if action is Action.SCAN_TICKET and not (args[0] in ("first", "last") or args[0].isdigit()):
        raise ValueError("the ticket is 'first', 'last' or its number from 1 in print order")
    if action is Action.SEARCH and not LETTERS.match(args[0]):
        raise ValueError("a search is letters only (pinyin initials or a station code)")


def _count(fewest: int, most: int) -> str:
    if fewest == most:
        return f"{fewest} word{'s' if fewest != 1 else ''}"
    return f"{fewest} to {most} words"
