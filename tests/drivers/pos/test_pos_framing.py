"""The Concert frame parser, fed split, garbled, repeated and stray bytes (no I/O)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.pos.framing import (
    ETX,
    MAX_PAYLOAD,
    STX,
    Control,
    ControlByte,
    Frame,
    FrameError,
    FrameFault,
    FrameParser,
    ParserEvent,
    encode_frame,
    lrc,
)

printable = st.binary(max_size=120).map(lambda b: bytes(0x20 + x % 0x5F for x in b))
any_bytes = st.binary(max_size=600)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, any repeats)."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def parse(chunks: list[bytes]) -> list[ParserEvent]:
    parser = FrameParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


def meaningful(events: list[ParserEvent]) -> list[ParserEvent]:
    """Everything but stray-byte reports, whose grouping depends on the chunking."""
    return [e for e in events if not (isinstance(e, FrameError) and e.fault is FrameFault.STRAY)]


def stray_total(events: list[ParserEvent]) -> int:
    return sum(e.size for e in events if isinstance(e, FrameError) and e.fault is FrameFault.STRAY)


@given(any_bytes, st.lists(st.integers(min_value=0), max_size=40))
def test_any_bytes_in_any_chunks_give_only_the_parsers_own_reports(
    data: bytes, cuts: list[int]
) -> None:
    events = parse(chunked(data, cuts))
    assert all(isinstance(e, ControlByte | Frame | FrameError) for e in events)
    assert all(len(e.payload) <= MAX_PAYLOAD for e in events if isinstance(e, Frame))


@given(any_bytes, st.lists(st.integers(min_value=0), max_size=40))
def test_chunking_never_changes_what_is_recognised(data: bytes, cuts: list[int]) -> None:
    whole = parse([data])
    split = parse(chunked(data, cuts))
    assert meaningful(split) == meaningful(whole)
    assert stray_total(split) == stray_total(whole)


@given(printable, st.lists(st.integers(min_value=0), max_size=10))
def test_an_encoded_frame_parses_back_whatever_the_chunks(payload: bytes, cuts: list[int]) -> None:
    assert parse(chunked(encode_frame(payload), cuts)) == [Frame(payload)]


@given(st.lists(printable, min_size=1, max_size=5), st.integers(min_value=1, max_value=4))
def test_repeated_frames_each_come_out_once_per_copy(payloads: list[bytes], copies: int) -> None:
    stream = b"".join(encode_frame(p) for p in payloads) * copies
    assert parse([stream]) == [Frame(p) for p in payloads] * copies


@given(st.binary(max_size=60).filter(lambda b: STX not in b), printable)
def test_a_frame_after_noise_without_stx_is_still_found(noise: bytes, payload: bytes) -> None:
    events = parse([noise + encode_frame(payload)])
    assert events[-1] == Frame(payload)
    assert all(not isinstance(e, Frame) for e in events[:-1])


@given(printable, st.integers(min_value=1, max_value=255))
def test_a_wrong_lrc_is_reported_not_taken(payload: bytes, flip: int) -> None:
    frame = bytearray(encode_frame(payload))
    frame[-1] ^= flip
    assert parse([bytes(frame)]) == [FrameError(FrameFault.BAD_LRC, len(frame))]


@given(printable.filter(bool), st.data())
def test_one_changed_payload_byte_is_caught_by_the_lrc(payload: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    replacement = data.draw(st.integers(min_value=0x20, max_value=0x7E))
    frame = bytearray(encode_frame(payload))
    if frame[1 + index] == replacement:
        return
    frame[1 + index] = replacement
    assert parse([bytes(frame)]) == [FrameError(FrameFault.BAD_LRC, len(frame))]


def test_control_bytes_between_frames_come_out_in_line_order() -> None:
    stream = Control.ENQ.byte + encode_frame(b"AB") + Control.ACK.byte + Control.EOT.byte
    assert parse([stream]) == [
        ControlByte(Control.ENQ),
        Frame(b"AB"),
        ControlByte(Control.ACK),
        ControlByte(Control.EOT),
    ]


def test_a_control_value_as_the_lrc_is_the_lrc_not_a_signal() -> None:
    payload = next(
        bytes([a, b])
        for a in range(0x20, 0x7F)
        for b in range(0x20, 0x7F)
        if lrc(bytes([a, b, ETX])) == Control.ACK
    )
    assert parse([encode_frame(payload)]) == [Frame(payload)]


def test_a_new_stx_cuts_the_frame_short_and_starts_again() -> None:
    stream = bytes([STX]) + b"HALF" + encode_frame(b"WHOLE")
    assert parse([stream]) == [FrameError(FrameFault.INTERRUPTED, 5), Frame(b"WHOLE")]


def test_a_runaway_frame_is_dropped_at_the_limit() -> None:
    events = parse([bytes([STX]) + b"A" * (MAX_PAYLOAD + 10)])
    assert events[0] == FrameError(FrameFault.TOO_LONG, MAX_PAYLOAD + 2)


def test_a_good_lrc_over_bytes_no_record_holds_is_refused() -> None:
    body = b"A\x01B" + bytes([ETX])
    assert parse([bytes([STX]) + body + bytes([lrc(body)])]) == [FrameError(FrameFault.BAD_BYTE, 6)]


def test_reset_reports_the_partial_frame_it_drops() -> None:
    parser = FrameParser()
    assert parser.feed(bytes([STX]) + b"PART") == []
    assert parser.is_in_frame
    assert parser.reset() == FrameError(FrameFault.INTERRUPTED, 5)
    assert parser.reset() is None
    assert parser.feed(encode_frame(b"NEXT")) == [Frame(b"NEXT")]


def test_stray_bytes_are_counted_once_per_run() -> None:
    assert parse([b"xyz" + Control.EOT.byte + b"q"]) == [
        FrameError(FrameFault.STRAY, 3),
        ControlByte(Control.EOT),
        FrameError(FrameFault.STRAY, 1),
    ]


@pytest.mark.parametrize("payload", [b"\x02", b"caf\xc3\xa9", b"A" * (MAX_PAYLOAD + 1)])
def test_the_encoder_refuses_what_no_record_holds(payload: bytes) -> None:
    with pytest.raises(ValueError):
        encode_frame(payload)


def test_a_frame_never_shows_its_bytes() -> None:
    assert repr(Frame(b"4711690463168807")) == "Frame(16 bytes)"
