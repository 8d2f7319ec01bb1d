"""The gate display's geometry at every size a profile may give."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui.gate_layout import MIN_SIZE, GateLayout, gate_layout

PARTS = ("band", "marker", "icon", "text", "footer")


def assert_sound(layout: GateLayout, with_band: bool) -> None:
    """Every part on the screen, none overlapping another, the icon square, sizes sane."""
    parts = {name: getattr(layout, name) for name in PARTS}
    if with_band:
        del parts["marker"]  # the offline marker never shows with a band
    else:
        del parts["band"]
    for name, rect in parts.items():
        assert layout.screen.contains(rect), f"{name} {rect} leaves {layout.screen}"
        assert rect.width > 0 and rect.height > 0, f"{name} is empty"
    for (one, a), (other, b) in combinations(parts.items(), 2):
        assert not a.colliderect(b), f"{one} {a} overlaps {other} {b}"
    assert layout.icon.width == layout.icon.height
    for largest, smallest in vars(layout.sizes).values():
        assert 10 <= smallest <= largest


@pytest.mark.parametrize("size", [(480, 320), (800, 480), (1024, 600), (320, 480), (600, 1024)])
@pytest.mark.parametrize("with_band", [False, True])
def test_common_sizes_are_sound(size: tuple[int, int], with_band: bool) -> None:
    assert_sound(gate_layout(size, with_band=with_band), with_band)


@given(
    width=st.integers(MIN_SIZE[0], 3840),
    height=st.integers(MIN_SIZE[1], 2160),
    with_band=st.booleans(),
)
def test_any_size_a_profile_allows_is_sound(width: int, height: int, with_band: bool) -> None:
    assert_sound(gate_layout((width, height), with_band=with_band), with_band)


def test_the_layout_scales_with_the_screen() -> None:
    small, large = (
        gate_layout((480, 320), with_band=False),
        gate_layout((1024, 600), with_band=False),
    )
    assert large.icon.width > 1.6 * small.icon.width
    assert large.sizes.message_zh[0] > 1.6 * small.sizes.message_zh[0]
    assert small.icon.left < small.text.left  # landscape: symbol left of the words


def test_a_band_pushes_the_body_down() -> None:
    plain, banded = (gate_layout((800, 480), with_band=band) for band in (False, True))
    assert plain.band.height == 0 and banded.band.height > plain.marker.bottom
    assert banded.text.top > plain.text.top and banded.icon.height <= plain.icon.height


def test_a_screen_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        gate_layout((MIN_SIZE[0] - 1, 480), with_band=False)
