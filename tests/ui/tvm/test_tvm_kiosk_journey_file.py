"""Journey files: TOML and JSON read into checked steps; every mistake named with its step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tvm_kiosk_samples import STATIONS

from device.tvm.view import Screen
from ui.tvm.journey import StepFailed, search_letters
from ui.tvm.journey_file import (
    Action,
    JourneyError,
    load_journey,
    parse_journey,
    parse_phrase,
)

TOML = """
name = "buy one, refund it"
step_timeout_s = 8
touch = "mouse"
steps = [
    "language en",
    "start purchase",
    "destination 上海虹桥",
    { step = "destination Wuxi", search = "WX" },
    "train G7001",
    "class ZE",
    "passenger ZHANG  SAN 11010119900101123X",
    "confirm card station",
    "confirm",
    { step = "pay card", timeout_s = 30, expect = "done" },
    "take ticket",
    "start refund",
    "scan ticket last",
    "scan qr HELLO there",
    "remove passenger 2",
    "wait for home",
    "idle",
    "touch dest:NKH",
]
"""


def test_a_toml_journey_is_read_into_steps(tmp_path: Path) -> None:
    path = tmp_path / "journey.toml"
    path.write_text(TOML, encoding="utf-8")
    journey = load_journey(path)
    assert journey.name == "buy one, refund it" and journey.touch == "mouse"
    steps = journey.steps
    assert [s.number for s in steps] == list(range(1, 19))
    assert steps[0].action is Action.LANGUAGE and steps[0].args == ("en",)
    assert steps[2].args == ("上海虹桥",) and steps[2].search is None
    assert steps[3].args == ("Wuxi",) and steps[3].search == "WX"
    assert steps[6].args == ("ZHANG", "SAN", "11010119900101123X")
    assert steps[6].text == "passenger ZHANG SAN 11010119900101123X"
    assert steps[7].action is Action.CONFIRM_CARD_STATION and steps[8].action is Action.CONFIRM
    assert (steps[9].timeout_s, steps[9].expect) == (30, Screen.DONE)
    assert steps[8].timeout_s == 8
    assert steps[13].args == ("HELLO there",)
    assert steps[17].args == ("dest:NKH",)


def test_the_same_journey_in_json(tmp_path: Path) -> None:
    path = tmp_path / "journey.json"
    path.write_text(json.dumps({"steps": ["start refund", {"step": "scan ticket 1"}]}))
    journey = load_journey(path)
    assert [s.action for s in journey.steps] == [Action.START, Action.SCAN_TICKET]
    assert journey.touch == "finger" and journey.steps[0].timeout_s == 10.0


@pytest.mark.parametrize(
    ("steps", "complaint"),
    [
        (["trian G101"], "step 1 ('trian G101'): unknown step"),
        (["start purchase", "start shopping"], "step 2 ('start shopping'): 'shopping' is not"),
        (["train"], "'train' takes 1 word, not 0"),
        (["train G1 G2"], "'train' takes 1 word, not 2"),
        (["confirm now"], "'confirm' takes 0 words, not 1"),
        (["passenger 张三"], "'passenger' takes 2 to 8 words"),
        (["destination"], "'destination' needs something after it"),
        (["wait for lunch"], "'lunch' is not one of"),
        (["language fr"], "'fr' is not one of en, zh"),
        (["remove passenger 0"], "a number from 1"),
        (["scan ticket latest"], "'first', 'last' or its number"),
        (["search 南京"], "letters only"),
    ],
)
def test_a_wrong_step_is_named(steps: list[str], complaint: str) -> None:
    with pytest.raises(JourneyError) as raised:
        parse_journey({"steps": steps}, "j.toml")
    assert complaint in str(raised.value)
    assert str(raised.value).startswith("j.toml: ")


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"steps": []}, "steps: List should have at least 1 item"),
        ({"steps": ["back"], "speed": 2}, "speed: Extra inputs are not permitted"),
        ({"steps": [{"step": "back", "expect": "lobby"}]}, "step 1 ('back'): expect: Input"),
        ({"steps": [{"step": "back", "timeout_s": 0}]}, "step 1 ('back'): timeout_s: Input"),
        ({"steps": ["back"], "touch": "stylus"}, "touch: Input should be 'finger' or 'mouse'"),
        ({"steps": [{"step": "destination X", "search": "南京"}]}, "search: String should"),
        ({"steps": ["back", {"go": "back"}]}, "step 2 ({'go': 'back'}): step: Field required"),
        ({"steps": ["back", 7]}, "step 2 (7): a step is a phrase or a table"),
    ],
)
def test_a_wrong_file_is_named(data: dict[str, object], complaint: str) -> None:
    with pytest.raises(JourneyError, match=r"^j\.json: ") as raised:
        parse_journey(data, "j.json")
    assert complaint in str(raised.value)


def test_unreadable_and_malformed_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="cannot be read"):
        load_journey(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("steps = [", encoding="utf-8")
    with pytest.raises(JourneyError, match="not valid toml"):
        load_journey(broken)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe{")
    with pytest.raises(JourneyError, match="not valid json"):
        load_journey(garbage)


@given(st.text(max_size=80))
def test_any_phrase_is_read_or_refused_with_a_reason(text: str) -> None:
    try:
        action, args = parse_phrase(" ".join(text.split()))
    except ValueError as refused:
        assert str(refused)
    else:
        assert isinstance(action, Action) and all(isinstance(arg, str) for arg in args)


def test_the_letters_typed_for_a_destination() -> None:
    assert search_letters("上海虹桥", STATIONS) == "SHHQ"
    assert search_letters("南京南", STATIONS) == "NJN"
    assert search_letters("NKH", STATIONS) == "NKH"
    with pytest.raises(StepFailed, match="give the letters"):
        search_letters("Nanjingnan", STATIONS)
    with pytest.raises(StepFailed, match="give the letters"):
        search_letters("北京南", STATIONS)  # not among the stations shown
