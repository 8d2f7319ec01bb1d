"""The screen's buttons and text fields as pygame_gui elements, kept in step with its widgets.

Building a pygame_gui element costs tens of microseconds to a millisecond
(it renders every state of its shape), and a text field that is rebuilt
forgets what was typed. So ``LiveWidgets.apply`` compares the new screen's
widgets with the last ones by key: an unchanged widget keeps its element, a
button that only became enabled or disabled is switched in place, and only
new or moved ones are built. A text field's contents are kept by key while
the screen stays the same, whatever happens to its element.
"""

from __future__ import annotations

from collections.abc import Callable

import pygame
import pygame_gui
from pygame_gui.core import ObjectID, UIElement
from pygame_gui.elements import UIButton, UITextEntryLine

from ui.tvm.screens.keyboard import FIELDS
from ui.tvm.widgets import Kind, Widget

Element = UIButton | UITextEntryLine


class LiveWidgets:
    """The live pygame_gui elements of the screen shown, by widget key."""

    def __init__(self, manager: pygame_gui.UIManager) -> None:
        self.manager = manager
        self._specs: dict[str, Widget] = {}
        self._elements: dict[str, Element] = {}
        self._keys: dict[int, str] = {}  # id(element) -> key, to name what pygame_gui reports
        self._texts: dict[str, str] = {}

    def apply(self, widgets: list[Widget]) -> None:
        """Make the live elements match ``widgets`` (buttons and fields; the rest is painted)."""
        wanted = {w.key: w for w in widgets if w.kind in (Kind.BUTTON, Kind.ENTRY)}
        for key in [key for key in self._elements if key not in wanted]:
            self._drop(key)
        for key, spec in wanted.items():
            old = self._specs.get(key)
            if old is not None and _same(old, spec):
                continue
            if old is not None and _only_enabling(old, spec):
                _set_enabled(self._elements[key], spec.enabled)
                self._specs[key] = spec
                continue
            if old is not None:
                self._drop(key)
            self._build(spec)

    def key_of(self, element: object) -> str | None:
        """The key of a live element pygame_gui reported, None if it is not one of ours."""
        return self._keys.get(id(element))

    def rect_of(self, key: str) -> pygame.Rect | None:
        """Where the live element ``key`` is, None if the screen has none."""
        spec = self._specs.get(key)
        return pygame.Rect(spec.rect) if spec is not None else None

    def is_enabled(self, key: str) -> bool:
        """True when ``key`` is on the screen and can be touched."""
        spec = self._specs.get(key)
        return spec is not None and spec.enabled

    def entries(self) -> dict[str, str]:
        """The text in each field on the screen."""
        return {
            key: self.text_of(key) for key, spec in self._specs.items() if spec.kind is Kind.ENTRY
        }

    def text_of(self, key: str) -> str:
        """The text in field ``key`` ("" when there is none)."""
        element = self._elements.get(key)
        if isinstance(element, UITextEntryLine):
            self._texts[key] = element.get_text()
        return self._texts.get(key, "")

    def set_text(self, key: str, text: str) -> None:
        """Put ``text`` into field ``key`` (kept even if its element is rebuilt)."""
        self._texts[key] = text
        element = self._elements.get(key)
        if isinstance(element, UITextEntryLine):
            element.set_text(text)
            element.edit_position = len(text)

    def focus(self, key: str) -> None:
        """Give field ``key`` the text cursor (typing on a real keyboard goes there)."""
        element = self._elements.get(key)
        if isinstance(element, UITextEntryLine):
            self.manager.set_focus_set(element)

    def forget_texts(self) -> None:
        """A new screen: fields start from what the view says."""
        self._texts.clear()

    def clear(self) -> None:
        """Remove every element."""
        for key in list(self._elements):
            self._drop(key)
        self._texts.clear()

    def _build(self, spec: Widget) -> None:
        rect = pygame.Rect(spec.rect)
        object_id = ObjectID(class_id=spec.style or None, object_id=None)
        element: Element
        if spec.kind is Kind.BUTTON:
            element = UIButton(rect, "", self.manager, object_id=object_id)
        else:
            element = self._entry(spec, rect, object_id)
        if not spec.enabled:
            _call(element.disable)
        self._specs[spec.key] = spec
        self._elements[spec.key] = element
        self._keys[id(element)] = spec.key

    def _entry(self, spec: Widget, rect: pygame.Rect, object_id: ObjectID) -> UITextEntryLine:
        entry = UITextEntryLine(rect, self.manager, object_id=object_id)
        rule = FIELDS.get(spec.key)
        if rule is not None:
            entry.set_text_length_limit(rule.limit)
            if rule.allowed is not None:
                entry.set_allowed_characters(sorted(set(rule.allowed + rule.allowed.lower())))
        text = self._texts.setdefault(spec.key, spec.text)
        entry.set_text(text)
        entry.edit_position = len(text)
        return entry

    def _drop(self, key: str) -> None:
        element = self._elements.pop(key)
        if isinstance(element, UITextEntryLine):
            self._texts[key] = element.get_text()
        self._keys.pop(id(element), None)
        self._specs.pop(key, None)
        _call(element.kill)


def _same(old: Widget, new: Widget) -> bool:
    """Equal, but a field's text is only where it starts: what is typed since is kept."""
    if old.kind is Kind.ENTRY:
        return (old.kind, old.rect, old.style, old.enabled) == (
            new.kind,
            new.rect,
            new.style,
            new.enabled,
        )
    return old == new


def _only_enabling(old: Widget, new: Widget) -> bool:
    return old.kind is Kind.BUTTON and (old.key, old.rect, old.style) == (
        new.key,
        new.rect,
        new.style,
    )


def _set_enabled(element: UIElement, enabled: bool) -> None:
    _call(element.enable if enabled else element.disable)


def _call(method: Callable[[], object]) -> None:
    """Call one of pygame_gui's methods that carry no type hints."""
    method()
