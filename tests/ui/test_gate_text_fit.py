"""Wrapping and shrinking text to a box: the rules, and properties over arbitrary text."""

from __future__ import annotations

import logging
from functools import cache

import pygame
import pytest
from gate_screens import FONT
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.fonts import FontBook
from ui.text_blocks import TextBlocks
from ui.text_fit import ELLIPSIS, fit_text, wrap


@cache
def fonts() -> FontBook:
    return FontBook(FONT)


def fixed_width(text: str) -> int:
    """Every character 10 pixels wide, Chinese 20: easy to reason about."""
    return sum(20 if "\u4e00" <= ch <= "\u9fff" or ch in "，。" else 10 for ch in text)


def test_english_breaks_at_spaces_chinese_between_characters() -> None:
    assert wrap("please show your ticket", 120, fixed_width) == ["please show", "your ticket"]
    assert wrap("请出示车票二维码", 80, fixed_width) == ["请出示车", "票二维码"]


def test_chinese_punctuation_never_starts_a_line() -> None:
    lines = wrap("车票无效，请到人工通道", 80, fixed_width)
    assert lines == ["车票无", "效，请到", "人工通道"]
    assert not any(line.startswith("，") for line in lines)


def test_mixed_text_keeps_latin_words_whole() -> None:
    assert wrap("请乘坐G101次列车", 100, fixed_width) == ["请乘坐G101", "次列车"]
    assert wrap("请乘坐G101次列车", 90, fixed_width) == ["请乘坐", "G101次列", "车"]


def test_a_word_wider_than_the_box_is_broken_between_letters() -> None:
    assert wrap("abcdefghijkl mn", 50, fixed_width) == ["abcde", "fghij", "kl mn"]


def test_spaces_never_start_or_end_a_line_and_are_kept_inside_one() -> None:
    assert wrap("  one   two  ", 60, fixed_width) == ["one", "two"]
    assert wrap("  one   two  ", 200, fixed_width) == ["one   two"]
    assert wrap("G101  05车\t12F号", 200, fixed_width) == ["G101  05车 12F号"]
    assert wrap("", 60, fixed_width) == []


def test_the_largest_size_that_fits_is_chosen() -> None:
    text = "请刷车票二维码或身份证"
    roomy = fit_text(fonts(), text, (2000, 400), (60, 12))
    assert roomy.size == 60 and roomy.lines == (text,)
    narrow = fit_text(fonts(), text, (200, 120), (60, 12))
    assert 12 <= narrow.size < 60 and narrow.height <= 120
    assert "".join(narrow.lines) == text
    bigger = fit_text(fonts(), text, (200, 120), (narrow.size + 6, narrow.size + 6))
    assert bigger.lines[-1].endswith(ELLIPSIS)  # a step larger would not have fitted


def test_at_the_smallest_size_the_rest_is_cut_with_an_ellipsis() -> None:
    fitted = fit_text(fonts(), "很长的消息" * 50, (200, 60), (30, 14))
    assert fitted.size == 14 and fitted.height <= 60
    assert fitted.lines[-1].endswith(ELLIPSIS)
    assert all(width <= 200 for width in fitted.widths)


printable = st.text(
    st.one_of(
        st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]),
        st.sampled_from("车票请到人工通道，。、！？的检"),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(text=printable, width=st.integers(30, 600), height=st.integers(10, 300))
def test_fitted_text_stays_in_its_box(text: str, width: int, height: int) -> None:
    fitted = fit_text(fonts(), text, (width, height), (48, 12))
    face = fonts().font(fitted.size)
    for line, line_width in zip(fitted.lines, fitted.widths, strict=True):
        assert line_width == face.size(line)[0]
        assert line_width <= width or len(line) == 1  # only a lone glyph may be wider
        assert line == line.strip() and line
    if fitted.line_height <= height:
        assert fitted.height <= height
    else:
        assert len(fitted.lines) <= 1  # one line, clipped by the box when drawn


@settings(max_examples=150, deadline=None)
@given(text=printable, width=st.integers(30, 600))
def test_wrapping_loses_no_text(text: str, width: int) -> None:
    lines = wrap(text, width, fixed_width)
    assert "".join(lines).replace(" ", "") == "".join(text.split())
    assert all(fixed_width(line) <= width or len(line) == 1 for line in lines)


def test_a_block_never_leaves_its_box_even_when_a_glyph_is_wider() -> None:
    canvas = pygame.Surface((200, 100))
    canvas.fill((0, 0, 0))
    box = pygame.Rect(50, 40, 12, 12)
    fitted = fit_text(fonts(), "票", box.size, (40, 40))
    assert fitted.width > box.width  # a lone glyph wider than its box
    covered = TextBlocks(fonts()).draw(canvas, fitted, box, (255, 255, 255))
    assert box.contains(covered)
    inked = pygame.mask.from_threshold(canvas, (0, 0, 0), (1, 1, 1, 255))
    inked.invert()
    assert inked.count() > 0
    assert all(box.collidepoint(rect.center) for rect in inked.get_bounding_rects())


def test_a_text_the_font_cannot_draw_is_logged_and_still_drawn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocks = TextBlocks(fonts())
    with caplog.at_level(logging.WARNING, logger="ui.fonts"):
        blocks.fit("车\U000f0001", (300, 60), (20, 12))
        blocks.fit("车\U000f0001", (300, 80), (20, 12))
    assert len(caplog.records) == 1  # once per text, not once per fitting
    assert "has no glyph for '\\U000f0001'" in caplog.records[0].getMessage()
