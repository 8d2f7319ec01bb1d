"""Any view the runtime might publish is drawn on the screen, laid out, without an error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pygame
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tvm_kiosk_samples import assert_laid_out, open_kiosk, shown

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
from ui.tvm.kiosk import Kiosk
from ui.tvm.widgets import Kind

texts = st.text(
    alphabet=st.sampled_from("南京上海虹桥站二等座 ABCXYZabc0123456789-*（）:"), max_size=60
)
words = st.builds(Words, texts, texts)
stations = st.builds(Station, st.text("ABCXYZ", min_size=1, max_size=4), words, texts)
moments = st.datetimes(dt.datetime(2031, 1, 1), dt.datetime(2031, 12, 31))
prices = st.integers(0, 10_000_000)
classes = st.builds(
    ClassChoice,
    st.text("ABZEY", min_size=1, max_size=3),
    words,
    st.integers(0, 5000),
    st.integers(0, 500),
    prices,
)
trains = st.builds(
    TrainChoice,
    st.text("GDCK0123456789", min_size=1, max_size=8),
    moments,
    moments,
    st.lists(classes, max_size=6).map(tuple),
    st.booleans(),
)
tickets = st.builds(
    TicketLine,
    st.text("GD0123456789", max_size=8),
    stations,
    stations,
    moments,
    words,
    words,
    texts,
    prices,
)
TARGETS = [
    "start:purchase",
    "start:refund",
    "start:change",
    "back",
    "cancel",
    "language",
    "confirm",
    "confirm:card_station",
    "pay:card",
    "done",
    "passenger:add",
    "passenger:remove:0",
    "passenger:remove:7",
    "dest:A",
    "train:G1",
    "class:ZE",
    "nonsense",
    "key:A",
    "page:next",
]


@st.composite
def views(draw: st.DrawFn) -> TvmView:
    listed_stations = tuple(draw(st.lists(stations, max_size=14)))
    listed_trains = tuple(draw(st.lists(trains, max_size=10)))
    return TvmView(
        screen=draw(st.sampled_from(Screen)),
        language=draw(st.sampled_from(["zh", "en"])),
        title=draw(words),
        station=draw(stations),
        banner=draw(st.sampled_from(Banner)),
        message=draw(st.none() | words),
        query=draw(st.text("ABCXYZ", max_size=12)),
        destinations=listed_stations,
        destination=draw(st.none() | stations),
        trains=listed_trains,
        train=draw(st.none() | trains),
        seat_class=draw(st.none() | classes),
        passengers=tuple(draw(st.lists(st.builds(PassengerLine, texts, texts), max_size=9))),
        max_passengers=draw(st.integers(1, 9)),
        tickets=tuple(draw(st.lists(tickets, max_size=9))),
        total_fen=draw(prices),
        fee_fen=draw(prices),
        refund_fen=draw(prices),
        refund_to=draw(st.none() | words),
        needs_card_station_confirm=draw(st.booleans()),
        busy=draw(st.booleans()),
        idle_seconds_left=draw(st.none() | st.floats(0, 100)),
        targets=tuple(draw(st.lists(st.sampled_from(TARGETS), max_size=12, unique=True)))
        + tuple(f"dest:{s.code}" for s in listed_stations)
        + tuple(f"train:{t.train}" for t in listed_trains),
    )


@pytest.fixture(scope="module", params=[(800, 480), (1280, 800)], ids=["800x480", "1280x800"])
def kiosk(request: pytest.FixtureRequest) -> Iterator[Kiosk]:
    with open_kiosk(request.param) as opened:
        yield opened


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(view=views())
def test_any_view_is_drawn_laid_out(kiosk: Kiosk, view: TvmView) -> None:
    shown(kiosk, view)
    assert kiosk.view == view
    assert_laid_out(kiosk)
    scratch = pygame.Surface(kiosk.size)
    for widget in kiosk.widgets:
        if widget.kind is Kind.TEXT:
            assert pygame.Rect(widget.rect).contains(kiosk.painter.paint_text(scratch, widget))
