"""What the TVM kiosk tests share: headless SDL, a view of every screen, pixel checks.

Imported before pygame by every kiosk test, so SDL draws without a screen
(``SDL_VIDEODRIVER=dummy``) whatever the environment says. The stations,
trains and fares are made up for the tests.
"""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import datetime as dt
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import pygame

from device.gate.messages import Words
from device.tvm.view import (
    Banner,
    ClassChoice,
    PassengerLine,
    Screen,
    Station,
    TicketLine,
    TrainChoice,
    TvmView,
)
from ui.tvm.config import KioskConfig
from ui.tvm.kiosk import Kiosk
from ui.tvm.widgets import MIN_TOUCH, Kind

SIZES = [(800, 480), (1280, 800)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]
LANGUAGES = ["zh", "en"]

HERE = Station("NJH", Words("南京", "Nanjing"), "NJ")
SOUTH = Station("NKH", Words("南京南", "Nanjingnan"), "NJN")
SHANGHAI = Station("AOH", Words("上海虹桥", "Shanghai Hongqiao"), "SHHQ")
SUZHOU = Station("SZH", Words("苏州", "Suzhou"), "SZ")
WUXI = Station("WXH", Words("无锡", "Wuxi"), "WX")
CHANGZHOU = Station("CZH", Words("常州", "Changzhou"), "CZ")
ZHENJIANG = Station("ZJH", Words("镇江", "Zhenjiang"), "ZJ")
KUNSHAN = Station("KSH", Words("昆山南", "Kunshannan"), "KSN")
STATIONS = (SHANGHAI, SUZHOU, WUXI, CHANGZHOU, ZHENJIANG, KUNSHAN, SOUTH)

SECOND = Words("二等座", "Second class")
FIRST = Words("一等座", "First class")
BUSINESS = Words("商务座", "Business class")
DAY = dt.datetime(2031, 5, 1, 8, 0)


def train(number: str, hour: int, minutes: int, seats: tuple[int, int, int]) -> TrainChoice:
    """A train leaving at ``hour`` taking ``minutes``, with seats left per class."""
    departs = DAY.replace(hour=hour)
    return TrainChoice(
        number,
        departs,
        departs + dt.timedelta(minutes=minutes),
        (
            ClassChoice("ZE", SECOND, seats[0], 20 if seats[0] == 0 else 0, 13950),
            ClassChoice("ZY", FIRST, seats[1], 0, 22350),
            ClassChoice("SWZ", BUSINESS, seats[2], 0, 44800),
        ),
    )


TRAINS = (
    train("G7001", 8, 75, (118, 12, 3)),
    train("G7003", 9, 82, (0, 4, 0)),
    train("G101", 10, 69, (36, 0, 1)),
    train("D3005", 11, 121, (240, 16, 0)),
    train("G7011", 12, 73, (5, 2, 2)),
    train("G7015", 14, 70, (0, 0, 0)),
)
PASSENGERS = (
    PassengerLine("张三", "1101**********1234"),
    PassengerLine("ZHANG XIAOMING", "3201**********002X"),
)


def ticket(passenger: str, place: Words, price: int = 13950) -> TicketLine:
    """A ticket on G7001 to Shanghai Hongqiao."""
    return TicketLine(
        "G7001", HERE, SHANGHAI, TRAINS[0].departs_at, SECOND, place, passenger, price
    )


TICKETS = (
    ticket("张*", Words("05车12F号", "Coach 05 Seat 12F")),
    ticket("Z*** X*******", Words("05车12D号", "Coach 05 Seat 12D")),
)
ALL_TARGETS_HOME = ("start:purchase", "start:refund", "start:change", "language")


def view(screen: Screen, **fields: object) -> TvmView:
    """A view of ``screen`` at the test station, in Chinese, with ``fields``."""
    base = TvmView(
        screen=screen,
        language="zh",
        title=TITLES[screen],
        station=HERE,
        message=MESSAGES.get(screen),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


TITLES = {
    Screen.HOME: Words("自助售票", "Self-service tickets"),
    Screen.DESTINATION: Words("选择到站", "Destination"),
    Screen.TRAINS: Words("选择车次", "Choose a train"),
    Screen.CLASS: Words("选择席别", "Choose a class"),
    Screen.PASSENGERS: Words("乘客信息", "Passengers"),
    Screen.CONFIRM: Words("确认订单", "Your order"),
    Screen.PAY: Words("支付", "Payment"),
    Screen.PRINT: Words("出票", "Printing"),
    Screen.DONE: Words("购票完成", "Done"),
    Screen.SCAN: Words("扫描车票", "Scan your ticket"),
    Screen.REFUND: Words("退票", "Refund"),
    Screen.CHANGE: Words("改签", "Change"),
    Screen.MESSAGE: Words("提示", "Notice"),
    Screen.CLOSED: Words("暂停服务", "Out of service"),
}
MESSAGES = {
    Screen.HOME: Words("请选择要办理的业务", "Please choose what you want to do"),
    Screen.DESTINATION: Words("请输入到站，然后点选车站", "Type your destination, then touch it"),
    Screen.TRAINS: Words("请点选车次", "Touch a train"),
    Screen.CLASS: Words("请点选席别", "Touch a class"),
    Screen.PASSENGERS: Words("请输入乘客姓名和身份证号", "Enter each passenger's name and ID"),
    Screen.CONFIRM: Words("请核对订单后确认", "Check your order, then confirm"),
    Screen.PAY: Words("请按银行卡终端提示操作", "Follow the card terminal"),
    Screen.PRINT: Words("正在出票", "Printing"),
    Screen.DONE: Words("购票成功，请取票", "Done: please take your tickets"),
    Screen.SCAN: Words("请扫描车票二维码", "Scan your ticket's QR code"),
    Screen.REFUND: Words("请确认退票", "Confirm the refund"),
    Screen.CHANGE: Words("请选择新车次", "Choose the new train"),
    Screen.MESSAGE: Words(
        "银行卡支付未成功，未扣款。请重试或换一张卡",
        "The card payment did not go through and nothing was charged."
        " Try again or use another card",
    ),
    Screen.CLOSED: Words(
        "网络中断，本机暂停售票。请到人工售票窗口购票",
        "Network down: no sales here. Please buy at a staffed ticket window",
    ),
}

ALL_SCREENS: dict[str, TvmView] = {
    "home": view(Screen.HOME, targets=ALL_TARGETS_HOME),
    "destination": view(
        Screen.DESTINATION,
        query="S",
        destinations=STATIONS,
        targets=("back", "cancel", "language", *(f"dest:{s.code}" for s in STATIONS)),
    ),
    "trains": view(
        Screen.TRAINS,
        destination=SHANGHAI,
        trains=TRAINS,
        targets=("back", "cancel", "language", *(f"train:{t.train}" for t in TRAINS[:5])),
    ),
    "class": view(
        Screen.CLASS,
        destination=SHANGHAI,
        train=TRAINS[0],
        targets=("back", "cancel", "language", "class:ZE", "class:ZY", "class:SWZ"),
    ),
    "passengers": view(
        Screen.PASSENGERS,
        destination=SHANGHAI,
        train=TRAINS[0],
        seat_class=TRAINS[0].classes[0],
        passengers=PASSENGERS,
        targets=(
            "back",
            "cancel",
            "language",
            "passenger:add",
            "passenger:remove:0",
            "passenger:remove:1",
            "confirm",
        ),
    ),
    "confirm": view(
        Screen.CONFIRM,
        tickets=(ticket("张*", Words("", "")), ticket("Z*** X*******", Words("", ""))),
        total_fen=27900,
        needs_card_station_confirm=True,
        targets=("back", "cancel", "language", "confirm:card_station"),
    ),
    "pay": view(Screen.PAY, total_fen=27900, targets=("cancel", "language", "pay:card")),
    "print": view(Screen.PRINT, total_fen=27900, busy=True),
    "done": view(Screen.DONE, tickets=TICKETS, total_fen=27900, targets=("done", "language")),
    "scan": view(Screen.SCAN, targets=("back", "cancel", "language")),
    "refund": view(
        Screen.REFUND,
        tickets=TICKETS[:1],
        fee_fen=700,
        refund_fen=13250,
        refund_to=Words(
            "退回原银行卡（尾号 1234）", "Back to the card it was paid with (ending 1234)"
        ),
        targets=("back", "cancel", "language", "confirm"),
    ),
    "change": view(
        Screen.CHANGE,
        tickets=TICKETS[:1],
        trains=TRAINS[2:],
        targets=("back", "cancel", "language", *(f"train:{t.train}" for t in TRAINS[2:5])),
    ),
    "message": view(Screen.MESSAGE, targets=("done", "language")),
    "closed": view(Screen.CLOSED, banner=Banner.OFFLINE),
}


def open_kiosk(size: tuple[int, int], **options: object) -> Kiosk:
    """A headless kiosk of ``size``."""
    return Kiosk(KioskConfig(size=size, **options))  # type: ignore[arg-type]


def shown(kiosk: Kiosk, view: TvmView) -> pygame.Surface:
    """``view`` drawn by ``kiosk``."""
    kiosk.show(view)
    return kiosk.draw()


def in_language(view: TvmView, language: str) -> TvmView:
    """``view`` in ``language``."""
    return replace(view, language=language)


def save_and_load(kiosk: Kiosk, path: Path) -> pygame.Surface:
    """What the kiosk shows, through a PNG file: the pixels people would see."""
    kiosk.save_png(path)
    return pygame.image.load(path)


TOLERANCE = (24, 24, 24, 255)  # antialiased edges are not counted as the colour


def share_of(surface: pygame.Surface, rect: pygame.Rect, colour: tuple[int, int, int]) -> float:
    """The share of ``rect``'s pixels within TOLERANCE of ``colour``."""
    area = surface.subsurface(rect)
    matching = pygame.mask.from_threshold(area, colour, TOLERANCE).count()
    return matching / max(1, rect.width * rect.height)


def assert_laid_out(kiosk: Kiosk) -> None:
    """Everything on the screen, touch targets large enough, nothing touchable overlapping."""
    screen = pygame.Rect((0, 0), kiosk.size)
    touchable = [w for w in kiosk.widgets if w.kind in (Kind.BUTTON, Kind.ENTRY)]
    for widget in kiosk.widgets:
        rect = pygame.Rect(widget.rect)
        assert screen.contains(rect), f"{widget.key} {rect} leaves the screen {screen}"
        assert (rect.width > 0 and rect.height > 0) or widget.text == "", f"{widget.key} is empty"
    for widget in touchable:
        assert min(widget.rect[2:]) >= MIN_TOUCH, f"{widget.key} {widget.rect} is too small"
    for one, other in combinations(touchable, 2):
        assert not pygame.Rect(one.rect).colliderect(other.rect), f"{one.key} on {other.key}"


def assert_glyphs_drawn(kiosk: Kiosk, surface: pygame.Surface) -> None:
    """Every text is drawn in its colour, with glyphs the font has (no boxes)."""
    for widget in kiosk.widgets:
        if widget.kind is not Kind.TEXT or not widget.text.strip():
            continue
        assert kiosk.fonts.missing_glyphs(widget.text) == "", widget.text
        colour = kiosk.painter.colour(widget.ink)
        ink = share_of(surface, pygame.Rect(widget.rect), colour)
        assert ink > 0, f"{widget.key} ({widget.text!r}) drew nothing in {colour}"


def assert_targets_reachable(kiosk: Kiosk, view: TvmView) -> None:
    """Every target the runtime offers is a widget on the screen, or on a page of its list."""
    paged = kiosk.target_rect("page:next") is not None
    for target in view.targets:
        if kiosk.target_rect(target) is not None:
            assert kiosk.is_touchable(target), f"{target} is offered but drawn disabled"
            continue
        assert paged and target.startswith(("dest:", "train:")), f"{target} is not drawn"
