"""The ESC/POS stream parser and the PNG renderer: what they draw; garbage never crashes them."""

from __future__ import annotations

import itertools
from dataclasses import asdict

import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from printer_samples import FOOTER, claims, key_ring, make_ticket, signing_key, token

from drivers.printer.config import TicketPrinterConfig
from drivers.printer.escpos_stream import (
    MAX_RASTER_HEIGHT,
    Align,
    Command,
    Cut,
    EscPosParser,
    Ignored,
    Initialise,
    LineFeed,
    RasterImage,
    StatusQuery,
    Text,
    Unknown,
)
from drivers.printer.layout import TicketLayout
from drivers.printer.render import MAX_PAGE_DOTS, render
from protocol.token import TicketClaims, decode_token

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # a text line may read as 1D

LAYOUT = TicketLayout(TicketPrinterConfig(backend="sim", footer=FOOTER))
SAMPLE = LAYOUT.ticket_bytes(make_ticket("A" * 164))


def parse(data: bytes) -> list[Command]:
    parser = EscPosParser()
    return parser.feed(data) + parser.flush()


def merged(commands: list[Command]) -> list[Command]:
    """Adjacent text runs joined (a run may arrive in several chunks)."""
    out: list[Command] = []
    for command in commands:
        if isinstance(command, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].data + command.data)
        else:
            out.append(command)
    return out


def test_the_commands_the_layout_uses_are_recognised() -> None:
    data = (
        b"\x1b@\x1ba\x01\x1bt\x00Hi\n\x1bd\x03"
        + b"\x1dv0\x00\x01\x00\x02\x00\xf0\x0f"
        + b"\x10\x04\x04\x1dV\x00\x1dV\x01\x1dVB\x05"
    )
    assert parse(data) == [
        Initialise(),
        Align(1),
        Ignored(b"\x1bt\x00"),
        Text(b"Hi"),
        LineFeed(1),
        LineFeed(3),
        RasterImage(0, 1, 2, b"\xf0\x0f"),
        StatusQuery(4),
        Cut(partial=False),
        Cut(partial=True),
        Cut(partial=True),
    ]


def test_unknown_commands_are_skipped_and_counted() -> None:
    commands = parse(b"\x1bzA\x00\x1d\xff")
    assert commands == [Unknown(b"\x1bz"), Text(b"A"), Unknown(b"\x00"), Unknown(b"\x1d\xff")]
    assert render(commands, 384).unknown_commands == 3


def test_a_command_split_across_chunks_waits_for_its_bytes() -> None:
    parser = EscPosParser()
    assert parser.feed(b"\x1dv0\x00\x01\x00\x02") == []
    assert parser.feed(b"\x00\xaa") == []
    assert parser.feed(b"\x55\x10\x04") == [RasterImage(0, 1, 2, b"\xaa\x55")]
    assert parser.feed(b"\x01") == [StatusQuery(1)]


def test_an_absurd_raster_header_is_refused_not_buffered() -> None:
    height = (MAX_RASTER_HEIGHT + 1).to_bytes(2, "little")
    parser = EscPosParser()
    commands = parser.feed(b"\x1dv0\x00\x01\x00" + height + b"\n")
    assert commands == [Unknown(b"\x1dv0\x00\x01\x00" + height), LineFeed(1)]


@given(st.lists(st.integers(1, len(SAMPLE)), max_size=8))
def test_any_chunking_of_a_ticket_gives_the_same_commands(cuts: list[int]) -> None:
    parser = EscPosParser()
    edges = [0, *sorted(cuts), len(SAMPLE)]
    commands: list[Command] = []
    for start, end in itertools.pairwise(edges):
        commands += parser.feed(SAMPLE[start:end])
    assert merged(commands) == merged(parse(SAMPLE))


@settings(max_examples=300)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=4))
def test_any_bytes_in_any_chunks_parse_without_raising(data: bytes, cuts: list[int]) -> None:
    parser = EscPosParser()
    edges = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    commands: list[Command] = []
    for start, end in itertools.pairwise(edges):
        commands += parser.feed(data[start:end])
    assert merged(commands + parser.flush()) == merged(parse(data))


@settings(max_examples=300)
@given(st.binary(max_size=600), st.sampled_from([384, 576]))
def test_the_renderer_draws_any_bytes_without_raising(data: bytes, width: int) -> None:
    page = render(parse(data), width)
    assert page.image.width == width
    assert 1 <= page.image.height <= MAX_PAGE_DOTS


@given(st.binary(min_size=2, max_size=64), st.integers(0, 3))
def test_raster_images_of_any_content_and_mode_render(data: bytes, mode: int) -> None:
    header = b"\x1dv0" + bytes((mode, 2, 0)) + (len(data) // 2).to_bytes(2, "little")
    page = render(parse(header + data[: len(data) // 2 * 2]), 64)
    assert page.unknown_commands == 0


def test_raster_bits_become_black_dots_at_the_alignment() -> None:
    # 16 dots wide, 2 rows: first row left half black, second row right half black
    commands = parse(b"\x1ba\x01\x1dv0\x00\x02\x00\x02\x00\xff\x00\x00\xff")
    image = render(commands, 32).image
    assert image.size == (32, 2)
    row0 = [image.getpixel((x, 0)) for x in range(32)]
    row1 = [image.getpixel((x, 1)) for x in range(32)]
    assert row0 == [255] * 8 + [0] * 8 + [255] * 16  # centred: 8 white dots on the left
    assert row1 == [255] * 16 + [0] * 8 + [255] * 8


def test_a_long_page_is_cut_off_not_grown_without_bound() -> None:
    page = render(parse(b"\x1bd\xff" * 200), 64)
    assert page.truncated
    assert page.image.height == MAX_PAGE_DOTS


def test_chinese_sent_as_text_renders_as_visible_mojibake() -> None:
    # what python-escpos's text("中文") sends: GBK bytes with no code page selected
    page = render(parse(b"\xd6\xd0\xce\xc4\n"), 384)
    assert page.image.getextrema() == (0, 255)  # something was drawn, and nothing raised


def test_a_rendered_ticket_qr_decodes_to_the_signed_token() -> None:
    image = render(parse(LAYOUT.ticket_bytes(make_ticket(token()))), 576).image
    found = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    assert [code.format for code in found] == [zxingcpp.BarcodeFormat.QRCode]
    decoded = decode_token(found[0].text, key_ring())
    signed = claims()
    assert decoded == TicketClaims(**{**asdict(signed), "key_id": signing_key().key_id})


def test_a_ticket_renders_without_unknown_commands() -> None:
    ticket = make_ticket(token())
    page = render(parse(LAYOUT.ticket_bytes(ticket)), 576)
    assert page.unknown_commands == 0
    assert not page.truncated
