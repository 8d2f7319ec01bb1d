"""The screens of an order: passengers, confirm, pay, print, done.

Passengers are entered one at a time: the name and ID fields on top with the
add button, the keyboard below them, and the passengers entered so far on
the right, masked, each with a button to take it off. The confirm screen
lists the tickets and the total; when the destination cannot refund to a
bank card it shows that warning in its own panel with its own button, which
the passenger must touch before the order can be confirmed. Paying tells the
passenger to follow the card terminal; printing and done say where the
tickets come out.
"""

from __future__ import annotations

from device.gate.messages import Words
from device.tvm.view import PassengerLine, TicketLine
from ui.tvm import words as w
from ui.tvm.screens.frame import Pager, Scene
from ui.tvm.screens.keyboard import beside_keyboard, keyboard, keyboard_height
from ui.tvm.targets import ID_FIELD, NAME_FIELD
from ui.tvm.widgets import (
    Kind,
    Rect,
    Widget,
    box,
    button,
    fits,
    inset,
    split_columns,
    split_rows,
    text,
)

Body = tuple[list[Widget], Pager | None]
REMOVE = Words("移除", "Remove")


def passengers(scene: Scene) -> Body:
    """Fields and add button on top; keys below on the left, the list on the right."""
    geo = scene.geo
    fields, rest = split_rows(geo.body, (geo.touch, -1), geo.gap)
    keys_area, listing = beside_keyboard(scene, rest)
    field = scene.local.field if scene.local.field in (NAME_FIELD, ID_FIELD) else NAME_FIELD
    keys_height = min(keys_area[3], keyboard_height(scene, 4))
    keys = (keys_area[0], keys_area[1], keys_area[2], keys_height)
    return [
        *_fields(scene, fields, field),
        *keyboard(scene, keys, field, with_digits=True),
        *_entered(scene, listing),
    ], None


def _fields(scene: Scene, row: Rect, active: str) -> list[Widget]:
    geo = scene.geo
    parts = split_columns(row, (0.9, 2.4, 1.3, 3.3, 2.0), geo.gap)
    name_label, name, id_label, id_number, add = parts
    ring = max(2, geo.u(3))
    focus = inset(name if active == NAME_FIELD else id_number, -ring)
    return [
        box("field#focus", focus, "focus"),
        text("field:name#label", name_label, scene.say(w.NAME_LABEL), "body", "text", "right"),
        Widget(NAME_FIELD, Kind.ENTRY, name, style="@field"),
        text("field:id#label", id_label, scene.say(w.ID_LABEL), "body", "text", "right"),
        Widget(ID_FIELD, Kind.ENTRY, id_number, style="@field"),
        *button(
            "passenger:add",
            add,
            scene.caption("passenger:add"),
            "@primary",
            scene.can("passenger:add"),
        ),
    ]


def _entered(scene: Scene, area: Rect) -> list[Widget]:
    geo, view = scene.geo, scene.view
    heading, rows = split_rows(area, (geo.u(30), -1), geo.gap)
    count = dict(n=len(view.passengers), max=view.max_passengers)
    widgets = [
        text("passengers#heading", heading, scene.say(w.PASSENGERS_HEADING, **count), "heading")
    ]
    if not view.passengers:
        note = scene.say(w.NO_PASSENGERS)
        return [*widgets, text("passengers#none", rows, note, "small", "muted", middle=False)]
    room = fits(len(view.passengers), rows[3], geo.touch, geo.gap)
    listed = view.passengers if len(view.passengers) <= room else view.passengers[: room - 1]
    for n, entered in enumerate(listed):
        line = (rows[0], rows[1] + n * (geo.touch + geo.gap), rows[2], geo.touch)
        widgets += _entered_line(scene, n, entered, line)
    if len(listed) < len(view.passengers):  # more than fit: say so on the last line
        line = (rows[0], rows[1] + len(listed) * (geo.touch + geo.gap), rows[2], geo.touch)
        more = f"… +{len(view.passengers) - len(listed)}"
        widgets.append(text("passengers#more", line, more, "body", "muted"))
    return widgets


def _entered_line(scene: Scene, n: int, entered: PassengerLine, line: Rect) -> list[Widget]:
    geo = scene.geo
    who, remove = split_columns(line, (3, 1.2), geo.gap)
    words = f"{entered.name}  {entered.id_masked}"
    return [
        box(f"passenger#{n}", who, "panel"),
        text(f"passenger#{n}#text", inset(who, geo.u(4)), words, "small"),
        *button(
            f"passenger:remove:{n}",
            remove,
            scene.say(REMOVE),
            "@secondary",
            scene.can(f"passenger:remove:{n}"),
            "small",
        ),
    ]


def confirm(scene: Scene) -> Body:
    """The tickets on the left; the total, and the card-station warning, on the right."""
    geo, view = scene.geo, scene.view
    listing, side = split_columns(geo.body, (62, 38), geo.margin)
    widgets = tickets_panel(scene, listing, view.tickets)
    total, rest = split_rows(side, (geo.u(64), -1), geo.gap)
    widgets += _amount(scene, "total", total, w.TOTAL, view.total_fen)
    if view.needs_card_station_confirm:
        widgets += _card_station_warning(scene, rest)
    elif view.fee_fen or view.refund_fen:  # a change to a cheaper ticket: what comes back
        fee, back, _ = split_rows(rest, (geo.u(64), geo.u(64), -1), geo.gap)
        widgets += _amount(scene, "fee", fee, w.FEE, view.fee_fen)
        widgets += _amount(scene, "back", back, w.REFUND, view.refund_fen)
    return widgets, None


def _amount(scene: Scene, key: str, rect: Rect, label: Words, fen: int) -> list[Widget]:
    name, value = split_columns(rect, (1, 2), scene.geo.gap)
    return [
        box(f"{key}#panel", rect, "panel"),
        text(f"{key}#label", inset(name, scene.geo.u(8)), scene.say(label), "heading"),
        text(f"{key}#value", inset(value, scene.geo.u(8)), w.yuan(fen), "huge", "amount", "right"),
    ]


def _card_station_warning(scene: Scene, area: Rect) -> list[Widget]:
    geo = scene.geo
    inner = inset(area, geo.u(8))
    heading, body, action = split_rows(inner, (geo.u(28), -1, geo.touch), geo.gap)
    return [
        box("card_station#panel", area, "warning_bg"),
        text(
            "card_station#heading",
            heading,
            scene.say(w.CARD_STATION_HEADING),
            "heading",
            "warning_text",
        ),
        text(
            "card_station#text",
            body,
            scene.say(w.CARD_STATION_TEXT),
            "body",
            "warning_text",
            middle=False,
        ),
        *button(
            "confirm:card_station",
            action,
            scene.caption("confirm:card_station"),
            "@warning",
            scene.can("confirm:card_station"),
        ),
    ]


def tickets_panel(scene: Scene, area: Rect, tickets: tuple[TicketLine, ...]) -> list[Widget]:
    """A panel with the journey on top and a line per ticket: passenger, place, price."""
    geo = scene.geo
    widgets = [box("tickets#panel", area, "panel")]
    if not tickets:
        return widgets
    inner = inset(area, geo.u(8))
    route, rows = split_rows(inner, (geo.u(56), -1), geo.gap)
    widgets.append(
        text("tickets#route", route, journey_line(scene, tickets[0]), "heading", middle=False)
    )
    height = max(geo.u(22), min(geo.u(34), rows[3] // len(tickets) - geo.gap))
    room = fits(len(tickets), rows[3], height, geo.gap)
    listed = tickets if len(tickets) <= room else tickets[: room - 1]
    for n, ticket in enumerate(listed):
        line = (rows[0], rows[1] + n * (height + geo.gap), rows[2], height)
        widgets += _ticket_line(scene, n, ticket, line)
    if len(listed) < len(tickets):
        line = (rows[0], rows[1] + len(listed) * (height + geo.gap), rows[2], height)
        widgets.append(text("tickets#more", line, f"… +{len(tickets) - len(listed)}", "body"))
    return widgets


def _ticket_line(scene: Scene, n: int, ticket: TicketLine, line: Rect) -> list[Widget]:
    who, place, price = split_columns(line, (2, 2.4, 1.2), scene.geo.gap)
    return [
        text(f"ticket#{n}#who", who, ticket.passenger, "body"),
        text(f"ticket#{n}#place", place, scene.say(ticket.place), "body"),
        text(f"ticket#{n}#price", price, w.yuan(ticket.price_fen), "body", "text", "right"),
    ]


def journey_line(scene: Scene, ticket: TicketLine) -> str:
    """``G101  5月1日 08:00  南京 → 上海虹桥  二等座``."""
    when = w.day_and_time(ticket.departs_at, scene.language)
    route = f"{scene.say(ticket.from_station.name)} → {scene.say(ticket.to_station.name)}"
    return f"{ticket.train}  {when}  {route}  {scene.say(ticket.seat_class)}"


def pay(scene: Scene) -> Body:
    """The amount, the card terminal's instruction, and the pay button while it is offered."""
    geo, view = scene.geo, scene.view
    x, y, width, height = geo.body
    column = (x + width // 6, y, width * 2 // 3, height)
    amount, hint, action = split_rows(column, (geo.u(72), -1, geo.u(72)), geo.gap)
    widgets = [
        *_amount(scene, "total", amount, w.TOTAL, view.total_fen),
        text("pay#hint", hint, scene.say(w.PAY_HINT), "title", "text", "center"),
    ]
    if scene.can("pay:card"):
        widgets += button("pay:card", action, scene.caption("pay:card"), "@primary", True, "big")
    return widgets, None


def printing(scene: Scene) -> Body:
    """Printing: one large line above the busy indicator."""
    x, y, width, height = scene.geo.body
    top = (x, y, width, height * 2 // 5)
    return [text("print#hint", top, scene.say(w.PRINT_HINT), "huge", "prompt", "center")], None


def done(scene: Scene) -> Body:
    """Take your tickets, and what they are."""
    geo = scene.geo
    hint, listing = split_rows(geo.body, (geo.u(56), -1), geo.gap)
    return [
        text("done#hint", hint, scene.say(w.DONE_HINT), "big", "prompt", "center"),
        *tickets_panel(scene, listing, scene.view.tickets),
    ], None
