"""The on-screen keyboard and the text fields it types into.

Typing Chinese on a kiosk is impractical, so the kiosk asks for letters:
a destination is found by its pinyin initials or its telegraph code (the
runtime matches the station name, the initials and the code), a name is
typed in pinyin or Latin letters (or arrives as Chinese text from an input
method or, on a real machine, an ID card reader), an ID number is digits and
``X``. Each field says which characters it takes and how many; keys a field
cannot take are drawn disabled while it is the one being typed into. Keys
are the kiosk's own widgets (``key:A``, ``key:back``, ...): they change the
field and ask nothing of the runtime.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from ui.tvm import words as w
from ui.tvm.screens.frame import Scene
from ui.tvm.targets import ID_FIELD, NAME_FIELD, SEARCH_FIELD
from ui.tvm.widgets import MIN_TOUCH, Rect, Widget, button, split_rows

DIGITS = "1234567890"
LETTER_ROWS = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")


@dataclass(frozen=True)
class FieldRule:
    """What a text field accepts."""

    allowed: str | None  # None: anything (a name may arrive in Chinese)
    limit: int
    keys: str  # what its on-screen keys offer


FIELDS: dict[str, FieldRule] = {
    SEARCH_FIELD: FieldRule(string.ascii_uppercase, 12, string.ascii_uppercase),
    NAME_FIELD: FieldRule(None, 30, string.ascii_uppercase + " "),
    ID_FIELD: FieldRule(DIGITS + "X", 18, DIGITS + "X"),
}


def key_rows(with_digits: bool) -> list[list[str]]:
    """The key targets row by row; special keys end the lower rows."""
    rows = [[f"key:{ch}" for ch in row] for row in LETTER_ROWS]
    rows[1].append("key:back")
    rows[2] += ["key:space", "key:clear"] if with_digits else ["key:clear"]
    if with_digits:
        rows.insert(0, [f"key:{ch}" for ch in DIGITS])
    return rows


def keyboard(scene: Scene, rect: Rect, field: str, with_digits: bool) -> list[Widget]:
    """The keys in ``rect``, those ``field`` cannot take disabled."""
    rows = key_rows(with_digits)
    gap = _gap(scene)
    heights = tuple((rect[3] - gap * (len(rows) - 1)) // len(rows) for _ in rows)
    unit = (rect[2] - gap * 9) // 10
    widgets: list[Widget] = []
    for row_rect, row in zip(split_rows(rect, heights, gap), rows, strict=True):
        x = row_rect[0]
        for target in row:
            width = unit * 2 + gap if target == "key:space" else unit
            key_rect = (x, row_rect[1], width, row_rect[3])
            widgets += button(
                target, key_rect, _label(scene, target), "@key", _takes(field, target), "key"
            )
            x += width + gap
    return widgets


def keyboard_height(scene: Scene, rows: int) -> int:
    """The height of ``rows`` rows of keys."""
    geo = scene.geo
    return rows * geo.touch + (rows - 1) * _gap(scene)


def beside_keyboard(scene: Scene, area: Rect) -> tuple[Rect, Rect]:
    """``area`` cut into the keyboard's column (ten keys wide) and what is left on its right."""
    geo = scene.geo
    width = 10 * max(MIN_TOUCH, geo.u(50)) + 9 * _gap(scene)
    keys = (area[0], area[1], width, area[3])
    rest = area[0] + width + geo.margin
    return keys, (rest, area[1], area[0] + area[2] - rest, area[3])


def _gap(scene: Scene) -> int:
    return max(3, scene.geo.u(4))


def edit(text: str, key: str, field: str) -> str:
    """``text`` after touching ``key`` while typing into ``field``."""
    rule = FIELDS[field]
    if key == "key:back":
        return text[:-1]
    if key == "key:clear":
        return ""
    typed = " " if key == "key:space" else key.removeprefix("key:")
    if not _takes(field, key) or len(text) >= rule.limit:
        return text
    return text + typed


def _takes(field: str, key: str) -> bool:
    if key in ("key:back", "key:clear"):
        return True
    rule = FIELDS.get(field)
    typed = " " if key == "key:space" else key.removeprefix("key:")
    return rule is not None and typed in rule.keys


def _label(scene: Scene, target: str) -> str:
    if target in w.BUTTONS:
        return scene.say(w.BUTTONS[target])
    return target.removeprefix("key:")
