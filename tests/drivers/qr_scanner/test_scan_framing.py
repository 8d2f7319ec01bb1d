"""ScanFraming: fed split, repeated and garbled chunks, it emits the right frames in order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.qr_scanner.framing import (
    SUFFIX_BYTES,
    Frame,
    GarbledReason,
    ScanFraming,
    ScanGarbled,
    ScannedText,
    Suffix,
    escaped_excerpt,
)

SUFFIXES: list[Suffix] = ["CR", "CRLF", "LF", "TAB"]


def feed_all(framing: ScanFraming, *chunks: bytes) -> list[Frame]:
    return [frame for chunk in chunks for frame in framing.feed(chunk)]


def texts(frames: list[Frame]) -> list[str]:
    return [frame.text for frame in frames if isinstance(frame, ScannedText)]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_each_suffix_ends_a_frame(suffix: Suffix) -> None:
    end = SUFFIX_BYTES[suffix]
    frames = ScanFraming(suffix).feed(b"first" + end + b"second" + end + b"partial")
    assert frames == [ScannedText("first"), ScannedText("second")]


def test_a_frame_split_anywhere_comes_out_whole() -> None:
    framing = ScanFraming("CR")
    assert feed_all(framing, b"G12", b"", b"34", b"\r") == [ScannedText("G1234")]


def test_a_stray_lf_after_cr_is_skipped_even_in_the_next_chunk() -> None:
    framing = ScanFraming("CR")
    assert texts(feed_all(framing, b"one\r\ntwo\r", b"\nthree\r")) == ["one", "two", "three"]


@pytest.mark.parametrize("suffix", ["LF", "CRLF"])
def test_lf_framing_drops_one_cr_before_the_lf(suffix: Suffix) -> None:
    assert ScanFraming(suffix).feed(b"one\r\ntwo\n") == [ScannedText("one"), ScannedText("two")]


def test_empty_frames_are_ignored() -> None:
    assert ScanFraming("CR").feed(b"\r\r\n\rscan\r\r") == [ScannedText("scan")]


def test_utf8_text_is_a_scan() -> None:
    assert ScanFraming("CR").feed("北京南-G1\r".encode()) == [ScannedText("北京南-G1")]


def test_a_frame_of_exactly_the_maximum_is_a_scan_one_more_byte_is_too_long() -> None:
    framing = ScanFraming("CRLF", max_frame_bytes=16)
    frames = framing.feed(b"x" * 16 + b"\r\n" + b"y" * 17 + b"\r\n" + b"ok\r\n")
    assert frames[0] == ScannedText("x" * 16)
    assert isinstance(frames[1], ScanGarbled) and frames[1].reason is GarbledReason.TOO_LONG
    assert frames[2:] == [ScannedText("ok")]


def test_an_endless_frame_is_reported_once_and_not_buffered() -> None:
    framing = ScanFraming("CR", max_frame_bytes=64)
    frames = feed_all(framing, *[b"z" * 1000] * 100, b"\rnext\r")
    assert [type(frame) for frame in frames] == [ScanGarbled, ScannedText]
    assert frames[1] == ScannedText("next")


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfeabc", b"caf\xc3", b"with\x1bescape", b"tab\there", b"nul\x00", "\u0085".encode()],
)
def test_bytes_that_are_not_text_are_reported_not_text(raw: bytes) -> None:
    frames = ScanFraming("CR").feed(raw + b"\rok\r")
    assert frames[0] == ScanGarbled(GarbledReason.NOT_TEXT, escaped_excerpt(raw))
    assert frames[1] == ScannedText("ok")


def test_the_excerpt_is_short_and_escaped() -> None:
    excerpt = escaped_excerpt(b"\\\x00" + bytes(range(256)) * 4)
    assert excerpt.startswith("\\x5c\\x00\\x00\\x01")
    assert excerpt.endswith("...") and len(excerpt) <= 32 * 4 + 3
    assert excerpt.isascii() and excerpt.isprintable()


def test_reset_forgets_a_partial_frame() -> None:
    framing = ScanFraming("CR")
    framing.feed(b"half-a-sc")
    framing.reset()
    assert framing.feed(b"whole\r") == [ScannedText("whole")]


def test_a_maximum_below_one_byte_is_refused() -> None:
    with pytest.raises(ValueError):
        ScanFraming("CR", max_frame_bytes=0)


# Fuzzing.

suffixes = st.sampled_from(SUFFIXES)
limits = st.integers(min_value=1, max_value=80)
# Bytes rich in the framing's own bytes (CR, LF, TAB) and in broken UTF-8.
streams = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"\r", b"\n", b"\t", b"\r\n", b"\xc3", b"\xe5\x8c", b"\x00"]),
        st.text(max_size=30).map(str.encode),
    ),
    max_size=30,
).map(b"".join)
printable_text = st.text(
    st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=20
).filter(lambda text: len(text.encode()) <= 80)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[start:end] for start, end in itertools.pairwise(points)]


@settings(max_examples=300, deadline=None)
@given(suffix=suffixes, limit=limits, data=streams, cuts=st.lists(st.integers(0, 10_000)))
def test_any_chunking_of_any_stream_is_safe_and_gives_the_same_frames(
    suffix: Suffix, limit: int, data: bytes, cuts: list[int]
) -> None:
    whole = ScanFraming(suffix, limit).feed(data)
    chunked = feed_all(ScanFraming(suffix, limit), *split(data, cuts))
    assert chunked == whole
    for frame in chunked:
        if isinstance(frame, ScannedText):
            assert 0 < len(frame.text.encode()) <= limit
        else:
            assert len(frame.excerpt) <= 32 * 4 + 3


@settings(max_examples=300, deadline=None)
@given(
    suffix=suffixes,
    garbage=streams,
    text=printable_text,
    cuts=st.lists(st.integers(0, 10_000)),
)
def test_a_valid_frame_after_garbage_is_recovered(
    suffix: Suffix, garbage: bytes, text: str, cuts: list[int]
) -> None:
    end = SUFFIX_BYTES[suffix]
    data = garbage + end + text.encode() + end
    frames = feed_all(ScanFraming(suffix, max_frame_bytes=80), *split(data, cuts))
    assert frames[-1] == ScannedText(text)
