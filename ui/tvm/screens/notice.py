"""The screens that tell more than they ask: scan, refund, message, closed, and starting.

Refund and change begin by scanning the ticket: the scan screen says where
to hold the QR code and draws one, with an arrow down to the scanner. The
refund screen shows the ticket, its price, the fee and what comes back, and
how (to the card it was paid with, or in cash), before the passenger
confirms. A message screen shows what happened and what to do next, large;
closed says the machine is out of service and why. Before the runtime's
first view the kiosk shows a starting screen.
"""

from __future__ import annotations

from device.gate.messages import Words
from ui.tvm import words as w
from ui.tvm.screens.frame import Pager, Scene
from ui.tvm.screens.order import tickets_panel
from ui.tvm.widgets import Rect, Widget, box, inset, split_columns, split_rows, text

Body = tuple[list[Widget], Pager | None]
PRICE = Words("票价", "Ticket price")


def scan(scene: Scene) -> Body:
    """Where to hold the ticket, and a QR code with an arrow down to the scanner."""
    geo = scene.geo
    words, picture = split_columns(geo.body, (3, 2), geo.margin)
    hint = text("scan#hint", words, scene.say(w.SCAN_HINT), "huge", "prompt", "center")
    return [hint, *qr_picture(scene, picture)], None


def qr_picture(scene: Scene, area: Rect) -> list[Widget]:
    """A QR code's three finder squares in a square, and an arrow under it."""
    side = min(area[2], area[3] * 2 // 3)
    x = area[0] + (area[2] - side) // 2
    square = (x, area[1], side, side)
    finder = side * 3 // 10
    widgets = [box("qr#paper", square, "qr_light")]
    for n, (dx, dy) in enumerate(((0, 0), (side - finder, 0), (0, side - finder))):
        corner = (x + dx, area[1] + dy, finder, finder)
        widgets += [
            box(f"qr#finder{n}", corner, "qr_dark"),
            box(f"qr#finder{n}#ring", inset(corner, finder // 7), "qr_light"),
            box(f"qr#finder{n}#eye", inset(corner, finder * 2 // 7), "qr_dark"),
        ]
    dot = finder // 3
    for n in range(4):
        widgets.append(
            box(
                f"qr#dot{n}",
                (
                    x + side // 2 + (n % 2) * dot * 2 - dot,
                    area[1] + side // 2 + (n // 2) * dot * 2 - dot,
                    dot,
                    dot,
                ),
                "qr_dark",
            )
        )
    arrow = (area[0], area[1] + side, area[2], area[3] - side)
    return [*widgets, text("qr#arrow", arrow, "↓", "huge", "prompt", "center")]


def refund(scene: Scene) -> Body:
    """The ticket on the left; price, fee, what comes back and how, on the right."""
    geo, view = scene.geo, scene.view
    listing, side = split_columns(geo.body, (55, 45), geo.margin)
    widgets = tickets_panel(scene, listing, view.tickets)
    price = sum(ticket.price_fen for ticket in view.tickets)
    rows = split_rows(side, (geo.u(44), geo.u(44), geo.u(64), -1), geo.gap)
    lines = (
        (PRICE, price, "heading"),
        (w.FEE, view.fee_fen, "heading"),
        (w.REFUND, view.refund_fen, "huge"),
    )
    for n, ((label, fen, style), row) in enumerate(zip(lines, rows, strict=False)):
        name, value = split_columns(row, (1, 1), geo.gap)
        widgets += [
            box(f"refund#{n}", row, "panel"),
            text(f"refund#{n}#label", inset(name, geo.u(8)), scene.say(label), "heading"),
            text(
                f"refund#{n}#value", inset(value, geo.u(8)), w.yuan(fen), style, "amount", "right"
            ),
        ]
    if view.refund_to is not None:
        widgets.append(text("refund#to", rows[3], scene.say(view.refund_to), "body", middle=False))
    return widgets, None


def message(scene: Scene) -> Body:
    """What happened and what to do next, large, in a panel."""
    geo, view = scene.geo, scene.view
    panel = inset(geo.body, geo.u(8))
    words = scene.say(view.message) if view.message is not None else ""
    return [
        box("message#panel", panel, "panel"),
        text("message#text", inset(panel, geo.u(16)), words, "huge", "text", "center"),
    ], None


def closed(scene: Scene) -> Body:
    """Out of service, and why."""
    geo, view = scene.geo, scene.view
    top, rest = split_rows(geo.body, (geo.u(80), -1), geo.gap)
    why = scene.say(view.message) if view.message is not None else ""
    return [
        text("closed#title", top, scene.say(w.CLOSED_HINT), "huge", "alert", "center"),
        text("closed#why", rest, why, "big", "text", "center", middle=False),
    ], None
