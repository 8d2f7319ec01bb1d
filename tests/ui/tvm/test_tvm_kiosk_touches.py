"""Touches become the intents their targets mean, through pygame's queue and pygame_gui."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pygame
import pytest
from tvm_kiosk_samples import ALL_SCREENS, PASSENGERS, open_kiosk, shown

from device.tvm.view import Intent, IntentKind, Screen
from ui.tvm import screens
from ui.tvm.config import KioskConfig
from ui.tvm.kiosk import Kiosk
from ui.tvm.loop import run_kiosk
from ui.tvm.targets import (
    ACTIVITY,
    FIXED,
    ID_FIELD,
    NAME_FIELD,
    SEARCH_FIELD,
    UnknownTarget,
    intent_for,
    is_known,
    is_local,
)
from ui.tvm.widgets import Kind


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def kiosk(clock: FakeClock) -> Iterator[Kiosk]:
    with Kiosk(KioskConfig(size=(800, 480)), clock=clock) as opened:
        pygame.event.clear()  # nothing left over from another test
        yield opened


def press(kiosk: Kiosk, key: str, how: str = "mouse") -> list[Intent]:
    """Touch the middle of ``key`` with posted events; the intents of the next frame."""
    rect = kiosk.target_rect(key)
    assert rect is not None, f"{key} is not drawn"
    for event in events_at(kiosk, rect.center, how):
        pygame.event.post(event)
    return kiosk.frame()


def events_at(kiosk: Kiosk, pos: tuple[int, int], how: str) -> list[pygame.event.Event]:
    if how == "finger":
        width, height = kiosk.size
        where: dict[str, Any] = {
            "x": pos[0] / (width - 1),
            "y": pos[1] / (height - 1),
            "touch_id": 1,
            "finger_id": 0,
            "dx": 0.0,
            "dy": 0.0,
            "pressure": 1.0,
        }
        return [pygame.event.Event(kind, where) for kind in (pygame.FINGERDOWN, pygame.FINGERUP)]
    touch = how == "sdl-copy-of-finger"
    return [
        pygame.event.Event(kind, pos=pos, button=1, touch=touch)
        for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP)
    ]


def without_activity(intents: list[Intent]) -> list[Intent]:
    return [intent for intent in intents if intent.kind is not IntentKind.TOUCH]


def test_fixed_targets_map_to_their_intents() -> None:
    assert intent_for("start:purchase") == Intent(IntentKind.START, "purchase")
    assert intent_for("start:refund") == Intent(IntentKind.START, "refund")
    assert intent_for("start:change") == Intent(IntentKind.START, "change")
    assert intent_for("confirm") == Intent(IntentKind.CONFIRM)
    assert intent_for("confirm:card_station") == Intent(IntentKind.CONFIRM_CARD_STATION)
    assert intent_for("pay:card") == Intent(IntentKind.PAY, "card")
    assert intent_for("done") == Intent(IntentKind.DONE)
    assert intent_for("back") == Intent(IntentKind.BACK)
    assert intent_for("cancel") == Intent(IntentKind.CANCEL)
    assert intent_for("language") == Intent(IntentKind.LANGUAGE)
    assert set(FIXED) <= {t for t in FIXED if is_known(t) and not is_local(t)}


def test_choices_removals_and_passengers_map_to_their_intents() -> None:
    assert intent_for("dest:NKH") == Intent(IntentKind.CHOOSE, "dest:NKH")
    assert intent_for("train:G101") == Intent(IntentKind.CHOOSE, "train:G101")
    assert intent_for("class:ZE") == Intent(IntentKind.CHOOSE, "class:ZE")
    assert intent_for("passenger:remove:2") == Intent(IntentKind.REMOVE_PASSENGER, "2")
    fields = {NAME_FIELD: "  张  三 ", ID_FIELD: "11010119900101123x "}
    added = intent_for("passenger:add", fields)
    assert added == Intent(IntentKind.ADD_PASSENGER, name="张 三", id_number="11010119900101123X")


@pytest.mark.parametrize(
    "target", ["dest:", "passenger:remove:x", "passenger:remove:", "pay", "key:A", "wat"]
)
def test_unknown_targets_are_refused(target: str) -> None:
    with pytest.raises(UnknownTarget):
        intent_for(target)
    assert not is_known(target)


@pytest.mark.parametrize("how", ["mouse", "finger"])
@pytest.mark.parametrize("name", sorted(ALL_SCREENS))
def test_every_button_offered_gives_its_intent(kiosk: Kiosk, name: str, how: str) -> None:
    sample = replace(ALL_SCREENS[name], busy=False)
    shown(kiosk, sample)
    for target in sample.targets:
        if kiosk.target_rect(target) is None:
            continue  # on another page of a long list
        shown(kiosk, sample)
        intents = without_activity(press(kiosk, target, how))
        expected = intent_for(target, {NAME_FIELD: "", ID_FIELD: ""})
        assert intents == [expected], f"{name}: {target}"


def test_sdls_mouse_copy_of_a_finger_is_not_a_second_press(kiosk: Kiosk) -> None:
    shown(kiosk, ALL_SCREENS["home"])
    assert press(kiosk, "start:purchase", "sdl-copy-of-finger") == []
    assert press(kiosk, "start:purchase", "finger") == [intent_for("start:purchase")]


def test_a_disabled_button_gives_nothing_but_activity(kiosk: Kiosk, clock: FakeClock) -> None:
    shown(kiosk, replace(ALL_SCREENS["home"], targets=("language",)))
    assert press(kiosk, "start:purchase") == [ACTIVITY]
    clock.now += 0.5
    assert press(kiosk, "start:refund") == []  # activity is told at most once a second
    clock.now += 0.6
    assert press(kiosk, "start:refund") == [ACTIVITY]


def test_a_touch_anywhere_is_activity(kiosk: Kiosk) -> None:
    shown(kiosk, ALL_SCREENS["done"])
    pygame.event.post(
        pygame.event.Event(
            pygame.FINGERDOWN, x=0.5, y=0.5, touch_id=1, finger_id=0, dx=0.0, dy=0.0, pressure=1.0
        )
    )
    assert kiosk.frame() == [ACTIVITY]


def test_the_search_keys_send_what_was_typed(kiosk: Kiosk, clock: FakeClock) -> None:
    shown(kiosk, replace(ALL_SCREENS["destination"], query=""))
    typed = []
    for key in ("key:S", "key:H", "key:X", "key:back", "key:H"):
        clock.now += 1.5
        intents = press(kiosk, key)
        assert intents[0] is ACTIVITY  # a key asks nothing of the runtime
        typed += [i.value for i in intents if i.kind is IntentKind.SEARCH]
    assert typed == ["S", "SH", "SHX", "SH", "SHH"]
    assert kiosk.field_text(SEARCH_FIELD) == "SHH"
    assert press(kiosk, "key:clear")[-1] == Intent(IntentKind.SEARCH, "")


def test_typing_on_a_real_keyboard_searches_too(kiosk: Kiosk) -> None:
    shown(kiosk, replace(ALL_SCREENS["destination"], query=""))
    press(kiosk, SEARCH_FIELD)
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="sh"))
    intents = kiosk.frame()
    assert intents[-1] == Intent(IntentKind.SEARCH, "SH")


def test_the_search_field_keeps_its_text_while_views_arrive(kiosk: Kiosk) -> None:
    sample = replace(ALL_SCREENS["destination"], query="")
    shown(kiosk, sample)
    press(kiosk, "key:S")
    press(kiosk, "key:H")
    shown(kiosk, replace(sample, query="S"))  # the runtime is a keystroke behind
    assert kiosk.field_text(SEARCH_FIELD) == "SH"
    shown(kiosk, ALL_SCREENS["trains"])
    shown(kiosk, replace(sample, query="AB"))  # entered again: starts from the view
    assert kiosk.field_text(SEARCH_FIELD) == "AB"


def test_passenger_fields_are_typed_and_added(kiosk: Kiosk) -> None:
    sample = replace(ALL_SCREENS["passengers"], passengers=())
    shown(kiosk, sample)
    assert not kiosk.is_touchable("key:1")  # the name field comes first: letters only
    for key in ("key:L", "key:I", "key:space", "key:N", "key:A"):
        press(kiosk, key)
    press(kiosk, ID_FIELD)
    assert kiosk.is_touchable("key:1") and not kiosk.is_touchable("key:A")
    for ch in "11010119900101123X":
        press(kiosk, f"key:{ch}")
    press(kiosk, "key:9")  # past 18 characters: not taken
    added = without_activity(press(kiosk, "passenger:add"))
    assert added == [Intent(IntentKind.ADD_PASSENGER, name="LI NA", id_number="11010119900101123X")]
    shown(kiosk, replace(sample, passengers=PASSENGERS[:1]))  # the runtime took it
    assert kiosk.field_text(NAME_FIELD) == kiosk.field_text(ID_FIELD) == ""
    assert kiosk.is_touchable("key:A")  # back to the name


def test_a_refused_passenger_keeps_what_was_typed(kiosk: Kiosk) -> None:
    sample = replace(ALL_SCREENS["passengers"], passengers=())
    shown(kiosk, sample)
    press(kiosk, NAME_FIELD)
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="王五"))
    kiosk.frame()
    press(kiosk, ID_FIELD)
    press(kiosk, "key:1")
    press(kiosk, "passenger:add")
    shown(kiosk, replace(sample, message=sample.title))  # refused: same list, a message
    assert kiosk.field_text(NAME_FIELD) == "王五"
    assert kiosk.field_text(ID_FIELD) == "1"


def test_pages_of_a_long_list(kiosk: Kiosk) -> None:
    sample = ALL_SCREENS["trains"]
    shown(kiosk, sample)
    first_page = {w.key for w in kiosk.widgets if w.key.startswith("train:")}
    assert not kiosk.is_touchable("page:prev")
    assert without_activity(press(kiosk, "page:next")) == []
    second_page = {w.key for w in kiosk.widgets if w.key.startswith("train:")}
    assert first_page and second_page and not first_page & second_page
    assert set(sample.targets) & {f"train:{t.train}" for t in sample.trains} <= {
        key for key in first_page | second_page if "#" not in key
    }
    shown(kiosk, replace(sample, trains=sample.trains[1:]))  # a new list starts at its top
    assert not kiosk.is_touchable("page:prev")


def test_a_screen_that_fails_to_draw_shows_out_of_service_until_the_next_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(scene: object) -> tuple[list[object], None]:
        raise RuntimeError("a bug in a screen")

    handled: list[Intent] = []

    async def handle(intent: Intent) -> None:
        handled.append(intent)

    async def scenario(kiosk: Kiosk) -> list[Screen]:
        stop = asyncio.Event()
        seen: list[Screen] = []
        task = asyncio.create_task(run_kiosk(kiosk, handle, stop))
        kiosk.show(ALL_SCREENS["class"])
        await until(lambda: kiosk.shown >= 1)
        seen.append(kiosk.view.screen)
        kiosk.show(ALL_SCREENS["home"])
        await until(lambda: kiosk.shown >= 2)
        seen.append(kiosk.view.screen)
        stop.set()
        await task
        return seen

    monkeypatch.setitem(screens.BODIES, Screen.CLASS, broken)
    with open_kiosk((800, 480), fps=60) as kiosk:
        seen = asyncio.run(asyncio.wait_for(scenario(kiosk), 10))
    assert seen == [Screen.MESSAGE, Screen.HOME]


async def until(ready: Any) -> None:
    while not ready():
        await asyncio.sleep(0.005)


async def next_frames(kiosk: Kiosk, count: int) -> None:
    frame = kiosk.frames
    await until(lambda: kiosk.frames >= frame + count)


def test_intents_reach_the_runtime_in_order_while_frames_go_on() -> None:
    handled: list[Intent] = []
    release = asyncio.Event()

    async def slow_handle(intent: Intent) -> None:
        if intent.kind is IntentKind.PAY:
            await release.wait()  # a payment takes a while
        handled.append(intent)

    async def scenario(kiosk: Kiosk) -> tuple[int, list[Intent]]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_kiosk(kiosk, slow_handle, stop))
        kiosk.show(ALL_SCREENS["pay"])
        await until(lambda: kiosk.shown >= 1)
        for target in ("pay:card", "cancel"):
            rect = kiosk.target_rect(target)
            assert rect is not None
            for event in events_at(kiosk, rect.center, "mouse"):
                pygame.event.post(event)
            await next_frames(kiosk, 2)
        frames_while_paying = kiosk.frames
        await until(lambda: kiosk.frames > frames_while_paying + 3)
        release.set()
        await until(lambda: len(without_activity(handled)) == 2)
        stop.set()
        await task
        return kiosk.frames - frames_while_paying, without_activity(handled)

    with open_kiosk((800, 480), fps=60) as kiosk:
        frames, intents = asyncio.run(asyncio.wait_for(scenario(kiosk), 10))
    assert frames > 3
    assert intents == [Intent(IntentKind.PAY, "card"), Intent(IntentKind.CANCEL)]


def test_the_widgets_of_every_screen_have_unique_keys(kiosk: Kiosk) -> None:
    for sample in ALL_SCREENS.values():
        shown(kiosk, sample)
        keys = [w.key for w in kiosk.widgets]
        assert len(keys) == len(set(keys)), sample.screen
        assert all(w.kind is not Kind.ENTRY or is_local(w.key) for w in kiosk.widgets)
