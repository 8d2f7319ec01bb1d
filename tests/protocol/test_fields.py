"""Field types: the JSON schema each one states accepts exactly what it accepts.

Every value a type refuses must break its JSON schema, and every value its
schema admits must pass, so a client generated from ``/openapi.json`` and the
server agree. Hypothesis draws text near each pattern (valid values with a
character changed, inserted or appended, control characters, spaces) and
checks both sides with a JSON Schema validator that asserts formats.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from protocol.fields import (
    CONTROLS,
    DATE_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    MASKED_CARD_PATTERN,
    SHOWN_CHARACTERS,
    TEXT_PATTERN,
    TIME_PATTERN,
    Count,
    DeviceId,
    FenAmount,
    FenDelta,
    IdNumber,
    Km,
    MaskedCard,
    Name,
    OrderRef,
    QuotaId,
    Reason,
    Reference,
    ServiceDate,
    Station,
    TicketRef,
    Timestamp,
    Train,
    masked_card,
    shown,
)
from protocol.ids import STATION_PATTERN, TRAIN_PATTERN, station_code, train_number

TYPES: dict[str, Any] = {
    "station": Station,
    "train": Train,
    "ticket": TicketRef,
    "order": OrderRef,
    "quota": QuotaId,
    "device": DeviceId,
    "id_number": IdNumber,
    "card": MaskedCard,
    "name": Name,
    "reason": Reason,
    "reference": Reference,
    "date": ServiceDate,
    "time": Timestamp,
}
NUMBERS: dict[str, Any] = {"fen": FenAmount, "delta": FenDelta, "count": Count, "km": Km}
SEEDS = {
    "station": ["VNP", "BJP"],
    "train": ["G111", "K51", "1461", "G65535", "G65536", "D00001"],
    "ticket": ["0123456789abcdef"],
    "order": ["0123456789abcdef01234567"],
    "quota": ["COMMON-ZE", "jinan_ze"],
    "device": ["tvm-vnp-01", "gate.2"],
    "id_number": ["11010519491231002X", "ab12"],
    "card": ["622848******1234", "**** 1234", "6228 48** **** 1234"],
    "name": ["张三", "Li Wei", " 张三 "],
    "reason": ["JGK group booking"],
    "reference": ["RRN1", "ICBC"],
    "date": ["2026-12-01", "2000-01-01", "2178-12-31", "2026-02-29", "2028-02-29"],
    "time": ["2026-12-01T07:00:00+08:00", "2026-12-01T07:00:00.5Z", "2178-12-31T23:59:59-23:59"],
}
# what a valid value is edited with: controls, spaces, look-alikes, the edges of each pattern
ODD = ["\x00", "\t", "\n", "\x7f", "\x85", "\x9f", " ", "\u3000", "\u00a0", "\ufeff", "*", "-"]
ODD += ["x", "Z", "0", "9", "ß", "١", "😀", ":", "T", "+", "\u2028", "_", ".", "é"]


@st.composite
def near(draw: st.DrawFn, seeds: list[str]) -> str:
    """A seed with a few characters replaced, inserted or deleted."""
    text = list(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(ODD) | st.characters(exclude_categories=["Cs"]))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "insert" or at == len(text):
            text.insert(at, char)
        elif action == "replace":
            text[at] = char
        else:
            del text[at]
    return "".join(text)


def accepted(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_json(json.dumps(value))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_the_schema_admits_exactly_what_the_type_accepts(kind: str) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(TYPES[kind])
    schema = adapter.json_schema()
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    values = near(SEEDS[kind]) | st.text(max_size=50) | st.integers() | st.none() | st.floats()

    @settings(max_examples=400, deadline=None, database=None)
    @given(value=values)
    def agree(value: Any) -> None:
        assert validator.is_valid(value) == accepted(adapter, value), (kind, value, schema)

    agree()
    for seed in SEEDS[kind]:
        assert validator.is_valid(seed) == accepted(adapter, seed), (kind, seed)


EDGES = [12.0, 12.5, -0.0, 1e30, 2**53, 2**53 - 1, -(2**53), 20_000, 20_001, True, "12", None]


@pytest.mark.parametrize("kind", sorted(NUMBERS))
def test_integers_mean_what_json_schema_means(kind: str) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(NUMBERS[kind])
    validator = jsonschema_rs.validator_for(adapter.json_schema())
    finite = st.floats(allow_nan=False, allow_infinity=False)
    values = st.integers() | finite | st.sampled_from(EDGES)

    @settings(max_examples=300, deadline=None, database=None)
    @given(value=values)
    def agree(value: Any) -> None:
        assert validator.is_valid(value) == accepted(adapter, value), (kind, value)

    agree()
    assert adapter.validate_json("12.0") == 12 and type(adapter.validate_json("12.0")) is int


@settings(max_examples=300, deadline=None, database=None)
@given(text=near(SEEDS["card"]) | st.text(max_size=40))
def test_masked_card_function_is_the_types_rule(text: str) -> None:
    try:
        masked_card(text)
        plain = True
    except ValueError:
        plain = False
    assert plain == accepted(TypeAdapter(MaskedCard), text)


def test_train_numbers_above_65535_are_outside_the_pattern() -> None:
    for prefix in ("", "G"):
        for width in range(1, 6):
            for number in range(10**width):
                text = f"{prefix}{number:0{width}d}"
                assert bool(re.fullmatch(TRAIN_PATTERN, text)) == _train_ok(text), text
    assert not re.fullmatch(TRAIN_PATTERN, "G123456")


def _train_ok(text: str) -> bool:
    try:
        train_number(text)
    except ValueError:
        return False
    return True


def test_station_pattern_is_the_station_rule() -> None:
    for text in ("VNP", "vnp", "VN", "VNPX", "V1P", ""):
        try:
            station_code(text)
            valid = True
        except ValueError:
            valid = False
        assert bool(re.fullmatch(STATION_PATTERN, text)) == valid


@pytest.mark.parametrize(
    "pattern",
    [DATE_PATTERN, TIME_PATTERN, TEXT_PATTERN, MASKED_CARD_PATTERN, IDEMPOTENCY_KEY_PATTERN],
)
def test_patterns_read_alike_in_python_and_json_schema(pattern: str) -> None:
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})

    @settings(max_examples=300, deadline=None, database=None)
    @given(text=st.from_regex(pattern, fullmatch=True) | st.text(max_size=40))
    def same(text: str) -> None:
        assert validator.is_valid(text) == bool(re.fullmatch(pattern, text)), text

    same()


def test_free_text_is_trimmed_of_spaces_but_never_of_controls() -> None:
    adapter: TypeAdapter[str] = TypeAdapter(Name)
    assert adapter.validate_python("\u3000张三 ") == "张三"
    for bad in ("张\x00三", "张三\n", "\t张三", "张\x85三", "张\x7f三", " ", "\u3000", ""):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_control_characters_are_named_by_position_not_echoed() -> None:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(Reason).validate_python("line one\nline two")
    assert "U+000A at 8" in str(info.value)


def test_refusals_quote_at_most_forty_characters() -> None:
    assert shown("x" * 1000) == repr("x" * SHOWN_CHARACTERS) + "…"
    assert shown("VNP") == "'VNP'"
    with pytest.raises(ValidationError) as info:
        TypeAdapter(Train).validate_python("9" * 100_000)
    message = info.value.errors()[0]["msg"]
    assert len(message) < 200 and message.endswith("…")


def test_dates_are_text_only() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(ServiceDate)
    for bad in (0, 20261201, "0", "20261201", "2026-12-01T00:00:00", "1999-12-31", "2026-02-30"):
        with pytest.raises(ValidationError):
            adapter.validate_json(json.dumps(bad))
    assert str(adapter.validate_json('"2026-12-01"')) == "2026-12-01"


def test_times_need_seconds_and_an_offset() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Timestamp)
    for bad in (0, "2026-12-01T07:00+08:00", "2026-12-01 07:00:00+08:00", "2026-12-01T07:00:00"):
        with pytest.raises(ValidationError):
            adapter.validate_json(json.dumps(bad))
    assert adapter.validate_json('"2026-12-01T07:00:00+08:00"').hour == 7


def test_controls_are_c0_del_and_c1() -> None:
    controls = {chr(c) for c in range(0x10000) if re.fullmatch(f"[{CONTROLS}]", chr(c))}
    assert controls == {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]}
