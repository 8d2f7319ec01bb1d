"""What each touchable thing on the kiosk asks of the runtime: target name to ``Intent``.

The runtime names what may be touched now (``TvmView.targets``: ``dest:NJH``,
``pay:card``, ...); the kiosk draws a widget for each and, when it is
touched, hands back the ``Intent`` that name means. Some widgets are the
kiosk's own and ask nothing of the runtime (a key of the on-screen keyboard,
a text field, a page of a long list): touching them only counts as activity.
Text entered goes as ``SEARCH`` (the destination field) or ``ADD_PASSENGER``
(the name and ID fields, read when ``passenger:add`` is touched). No pygame
here: this is the contract's other half, as plain functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from device.tvm.view import Intent, IntentKind

FIXED: dict[str, Intent] = {
    "start:purchase": Intent(IntentKind.START, "purchase"),
    "start:refund": Intent(IntentKind.START, "refund"),
    "start:change": Intent(IntentKind.START, "change"),
    "confirm": Intent(IntentKind.CONFIRM),
    "confirm:card_station": Intent(IntentKind.CONFIRM_CARD_STATION),
    "pay:card": Intent(IntentKind.PAY, "card"),
    "day:earlier": Intent(IntentKind.CHOOSE, "day:earlier"),
    "day:later": Intent(IntentKind.CHOOSE, "day:later"),
    "done": Intent(IntentKind.DONE),
    "back": Intent(IntentKind.BACK),
    "cancel": Intent(IntentKind.CANCEL),
    "language": Intent(IntentKind.LANGUAGE),
}
CHOICES = ("dest:", "train:", "class:")  # the value of CHOOSE is the whole target
REMOVE = "passenger:remove:"
ADD = "passenger:add"
LOCAL = ("key:", "page:", "field:")  # the kiosk's own widgets
NAME_FIELD = "field:name"
ID_FIELD = "field:id"
SEARCH_FIELD = "field:search"
ACTIVITY = Intent(IntentKind.TOUCH)


class UnknownTarget(ValueError):
    """A target name the kiosk cannot turn into an intent."""


def intent_for(target: str, fields: Mapping[str, str] | None = None) -> Intent:
    """The intent a touch on ``target`` means; ``fields`` holds the text fields' contents."""
    if target in FIXED:
        return FIXED[target]
    if target.startswith(CHOICES) and target.split(":", 1)[1]:
        return Intent(IntentKind.CHOOSE, target)
    if target.startswith(REMOVE) and target[len(REMOVE) :].isdigit():
        return Intent(IntentKind.REMOVE_PASSENGER, target[len(REMOVE) :])
    if target == ADD:
        return passenger_intent(fields or {})
    raise UnknownTarget(f"no intent for target {target!r}")


def passenger_intent(fields: Mapping[str, str]) -> Intent:
    """``ADD_PASSENGER`` with the name as typed (trimmed) and the ID in capitals."""
    name = " ".join(fields.get(NAME_FIELD, "").split())
    id_number = "".join(fields.get(ID_FIELD, "").split()).upper()
    return Intent(IntentKind.ADD_PASSENGER, name=name, id_number=id_number)


def search_intent(text: str) -> Intent:
    """``SEARCH`` with the destination field's text."""
    return Intent(IntentKind.SEARCH, text.strip())


def is_local(target: str) -> bool:
    """True for the kiosk's own widgets, which ask nothing of the runtime."""
    return target.startswith(LOCAL)


def is_known(target: str) -> bool:
    """True when ``target`` is a name the kiosk can draw and turn into an intent."""
    try:
        intent_for(target)
    except UnknownTarget:
        return False
    return True
