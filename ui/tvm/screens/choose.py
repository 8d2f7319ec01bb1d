"""The screens where a passenger chooses: home, destination, train, class, and a change's new train.

Each returns the body's widgets and, for a long list, its pager. Home offers
buying, refunding and changing as three large buttons. The destination
screen has a search field with the letter keys beside the matching stations
(the runtime matches name, pinyin initials or telegraph code). A train is a
wide button showing its times and, per class, the seats left and the fare;
a class is a large button with the same. Anything the runtime does not offer
now is drawn but disabled, so the passenger still sees it (sold out, say).
"""

from __future__ import annotations

from device.tvm.view import ClassChoice, Station, TrainChoice
from ui.tvm import words as w
from ui.tvm.screens.frame import Pager, Scene, page_of
from ui.tvm.screens.keyboard import beside_keyboard, keyboard, keyboard_height
from ui.tvm.targets import SEARCH_FIELD
from ui.tvm.widgets import (
    Kind,
    Rect,
    Widget,
    button,
    caption_ink,
    fits,
    inset,
    split_columns,
    split_rows,
    text,
)

Body = tuple[list[Widget], Pager | None]
HOME_TARGETS = ("start:purchase", "start:refund", "start:change")


def home(scene: Scene) -> Body:
    """Buy, refund, change: three large buttons across the body."""
    geo = scene.geo
    x, y, width, height = geo.body
    tall = min(height, geo.u(180))
    row = (x, y + (height - tall) // 2, width, tall)
    widgets: list[Widget] = []
    for target, rect in zip(HOME_TARGETS, split_columns(row, (1, 1, 1), geo.u(16)), strict=True):
        style = "@home" if target == "start:purchase" else "@home_other"
        widgets += button(target, rect, scene.caption(target), style, scene.can(target), "huge")
    return widgets, None


def destination(scene: Scene) -> Body:
    """The search field and its keys on the left, the matching stations on the right."""
    geo = scene.geo
    left, right = beside_keyboard(scene, geo.body)
    keys_height = keyboard_height(scene, 3)
    entry, hint, keys = split_rows(left, (geo.touch, -1, keys_height), geo.gap)
    widgets = [
        Widget(SEARCH_FIELD, Kind.ENTRY, entry, scene.view.query, "@search"),
        text("search#hint", hint, scene.say(w.SEARCH_HINT), "small", "muted"),
        *keyboard(
            scene,
            (keys[0], left[1] + left[3] - keys_height, keys[2], keys_height),
            SEARCH_FIELD,
            with_digits=False,
        ),
    ]
    body, pager = _stations(scene, right)
    return widgets + body, pager


def _stations(scene: Scene, area: Rect) -> Body:
    geo = scene.geo
    stations = scene.view.destinations
    if not stations:
        note = w.NO_MATCHES if scene.view.query else w.SEARCH_HINT
        return [text("matches#none", area, scene.say(note), "body", "muted", middle=False)], None
    per_page = fits(len(stations), area[3], geo.touch, geo.gap)
    pager = page_of(len(stations), per_page, scene.local.page)
    shown = stations[pager.page * per_page :][:per_page]
    rows = split_rows(area, tuple(geo.touch for _ in shown), geo.gap)
    widgets: list[Widget] = []
    for station, rect in zip(shown, rows, strict=True):
        widgets += _station_button(scene, station, rect)
    return widgets, pager


def _station_button(scene: Scene, station: Station, rect: Rect) -> list[Widget]:
    target = f"dest:{station.code}"
    enabled = scene.can(target)
    name_rect, code_rect = split_columns(inset(rect, max(4, rect[3] // 8)), (3, 1), scene.geo.gap)
    return [
        *button(target, rect, "", "@row", enabled),
        Widget(
            f"{target}#name",
            Kind.TEXT,
            name_rect,
            scene.say(station.name),
            "strong",
            caption_ink("@row", enabled),
            front=True,
        ),
        Widget(
            f"{target}#code",
            Kind.TEXT,
            code_rect,
            station.code,
            "small",
            caption_ink("@row", enabled),
            align="right",
            front=True,
        ),
    ]


def trains(scene: Scene) -> Body:
    """The trains to the destination, a wide button each, a page at a time."""
    return train_list(scene, scene.geo.body, scene.view.trains)


def train_list(scene: Scene, area: Rect, choices: tuple[TrainChoice, ...]) -> Body:
    """``choices`` as rows in ``area``; the pager when they do not all fit."""
    geo = scene.geo
    if not choices:
        return [text("trains#none", area, scene.say(w.NO_TRAINS), "title", "muted", "center")], None
    row_height = max(geo.touch, geo.u(64))
    per_page = fits(len(choices), area[3], row_height, geo.gap)
    pager = page_of(len(choices), per_page, scene.local.page)
    shown = choices[pager.page * per_page :][:per_page]
    widgets: list[Widget] = []
    for choice, rect in zip(
        shown, split_rows(area, tuple(row_height for _ in shown), geo.gap), strict=True
    ):
        widgets += _train_row(scene, choice, rect)
    return widgets, pager


def _train_row(scene: Scene, choice: TrainChoice, rect: Rect) -> list[Widget]:
    target = f"train:{choice.train}"
    enabled = scene.can(target)
    ink = caption_ink("@row", enabled)
    inner = inset(rect, max(4, rect[3] // 10))
    classes = max(3, len(choice.classes))
    head, *cells = split_columns(inner, (1.6,) + (1.0,) * classes, scene.geo.gap)
    number, times = split_rows(head, (head[3] // 2, -1), 0)
    tag = f"  {scene.say(w.FROM_BLOCK)}" if choice.is_from_block else ""
    departs, arrives = w.clock(choice.departs_at), w.clock(choice.arrives_at)
    span = (
        f"{departs} → {arrives}  {w.duration(choice.departs_at, choice.arrives_at, scene.language)}"
    )
    widgets = [
        *button(target, rect, "", "@row", enabled),
        Widget(
            f"{target}#number", Kind.TEXT, number, choice.train + tag, "strong", ink, front=True
        ),
        Widget(f"{target}#times", Kind.TEXT, times, span, "body", ink, front=True),
    ]
    for seat_class, cell in zip(choice.classes, cells, strict=False):
        widgets += _class_cell(scene, f"{target}#{seat_class.code}", seat_class, cell)
    return widgets


def _class_cell(scene: Scene, key: str, choice: ClassChoice, cell: Rect) -> list[Widget]:
    name, detail = split_rows(cell, (cell[3] // 2, -1), 0)
    line = f"{w.seats_left(choice, scene.language)}  {w.yuan(choice.price_fen)}"
    colour = caption_ink("@row", scene.can(key.split("#")[0]))
    return [
        Widget(
            f"{key}#name",
            Kind.TEXT,
            name,
            scene.say(choice.name),
            "body",
            colour,
            align="center",
            front=True,
        ),
        Widget(
            f"{key}#detail", Kind.TEXT, detail, line, "small", colour, align="center", front=True
        ),
    ]


def seat_class(scene: Scene) -> Body:
    """The chosen train on top, then a large button per class."""
    geo, view = scene.geo, scene.view
    summary, grid = split_rows(geo.body, (geo.u(36), -1), geo.gap)
    widgets = [text("class#train", summary, _train_summary(scene), "heading")]
    choices = view.train.classes if view.train is not None else ()
    if not choices:
        return widgets, None
    most_lines = max(1, (grid[3] + geo.gap) // (geo.touch + geo.gap))
    columns = max(min(3, len(choices)), -(-len(choices) // most_lines))
    lines = -(-len(choices) // columns)
    row_height = min(geo.u(120), (grid[3] - geo.gap * (lines - 1)) // lines)
    rows = split_rows(grid, tuple(row_height for _ in range(lines)), geo.gap)
    for n, choice in enumerate(choices):
        cell = split_columns(rows[n // columns], (1.0,) * columns, geo.u(12))[n % columns]
        widgets += _class_button(scene, choice, cell)
    return widgets, None


def _class_button(scene: Scene, choice: ClassChoice, rect: Rect) -> list[Widget]:
    target = f"class:{choice.code}"
    enabled = scene.can(target)
    ink = caption_ink("@row", enabled)
    inner = inset(rect, max(4, rect[3] // 10))
    third = inner[3] // 3
    name, seats, fare = split_rows(inner, (inner[3] - 2 * third, third, third), 0)
    return [
        *button(target, rect, "", "@row", enabled),
        Widget(
            f"{target}#name",
            Kind.TEXT,
            name,
            scene.say(choice.name),
            "big",
            ink,
            align="center",
            front=True,
        ),
        Widget(
            f"{target}#seats",
            Kind.TEXT,
            seats,
            w.seats_left(choice, scene.language),
            "body",
            ink,
            align="center",
            front=True,
        ),
        Widget(
            f"{target}#fare",
            Kind.TEXT,
            fare,
            w.yuan(choice.price_fen),
            "strong",
            ink,
            align="center",
            front=True,
        ),
    ]


def _train_summary(scene: Scene) -> str:
    view = scene.view
    if view.train is None:
        return ""
    where = scene.say(view.destination.name) if view.destination is not None else ""
    times = f"{w.clock(view.train.departs_at)} → {w.clock(view.train.arrives_at)}"
    return f"{view.train.train}  {times}  {scene.say(view.station.name)} → {where}"


def change(scene: Scene) -> Body:
    """The ticket being changed on top, the trains it can change to below."""
    geo, view = scene.geo, scene.view
    top, rest = split_rows(geo.body, (geo.u(40), -1), geo.gap)
    widgets = [text("change#ticket", top, _old_ticket(scene), "heading")]
    rows, pager = train_list(scene, rest, view.trains)
    return widgets + rows, pager


def _old_ticket(scene: Scene) -> str:
    if not scene.view.tickets:
        return ""
    ticket = scene.view.tickets[0]
    when = w.day_and_time(ticket.departs_at, scene.language)
    route = f"{scene.say(ticket.from_station.name)} → {scene.say(ticket.to_station.name)}"
    return f"{ticket.train}  {when}  {route}  {scene.say(ticket.seat_class)}  {ticket.passenger}"
