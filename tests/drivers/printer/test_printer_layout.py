"""The ticket layout's bytes, checked with python-escpos's Dummy printer; masking on paper."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from escpos.constants import QR_ECLEVEL_M  # type: ignore[import-untyped]
from escpos.printer import Dummy  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from printer_samples import FOOTER, LATIN_FONT, make_ticket, token

from drivers.errors import DeviceConfigError, DriverErrorCode
from drivers.printer.config import TicketPrinterConfig
from drivers.printer.escpos_stream import EscPosParser, RasterImage, Text
from drivers.printer.layout import TicketLayout
from drivers.printer.ticket import StationName, mask_id_number, mask_name

INIT = b"\x1b@"
CUT = b"\x1bd\x06\x1dV\x00"  # feed six lines, full cut
RASTER_576 = b"\x1dv0\x00\x48\x00"  # GS v 0, normal density, 72 bytes = 576 dots wide


@pytest.fixture(scope="module")
def layout() -> TicketLayout:
    return TicketLayout(TicketPrinterConfig(backend="sim", footer=FOOTER))


def collector(width: int = 576) -> Dummy:
    """A Dummy printer as the layout sets one up: TM-T20II with the paper's width."""
    printer = Dummy(profile="TM-T20II")
    data = copy.deepcopy(printer.profile.profile_data)
    data["media"]["width"]["pixels"] = width
    printer.profile.profile_data = data
    return printer


def image_bytes(image: Image.Image) -> bytes:
    printer = collector()
    printer.image(image, impl="bitImageRaster")
    return bytes(printer.output)


def test_a_report_is_exactly_init_text_lines_and_cut(layout: TicketLayout) -> None:
    assert layout.report_bytes(["Shift 3 2026-12-01", "Tickets  12"]) == (
        INIT
        + b"\x1ba\x00\x1bt\x00Shift 3 2026-12-01\n"  # left, code page 437 once, the line
        + b"\x1ba\x00Tickets  12\n"
        + b"\x1ba\x00"
        + CUT
    )


def test_a_ticket_starts_with_init_and_ends_with_a_full_cut(layout: TicketLayout) -> None:
    ticket = make_ticket(token())
    data = layout.ticket_bytes(ticket)
    assert data.startswith(INIT + RASTER_576)
    assert data.endswith(b"\x1ba\x00" + CUT)


def test_the_plain_ascii_lines_are_printer_text_in_order(layout: TicketLayout) -> None:
    ticket = make_ticket(token())
    data = layout.ticket_bytes(ticket)
    expected = (
        b"\x1ba\x01Train G1 of 2026-12-01\n\x1ba\x00"  # centred, then back to the left
        b"\x1ba\x01Ticket 0123456789abcdef\n\x1ba\x00"
        b"\x1ba\x01Keep this ticket until you leave the station\n" + RASTER_576
    )
    assert expected in data


def test_the_qr_code_is_the_raster_python_escpos_makes_of_the_token(layout: TicketLayout) -> None:
    ticket = make_ticket(token())
    printer = collector()
    printer.qr(token(), ec=QR_ECLEVEL_M, size=4, native=False, center=True)
    qr = bytes(printer.output)
    # code page 437 for the line feed around it, then an image as wide as the paper
    assert qr.startswith(b"\x1bt\x00\n" + RASTER_576)
    assert qr in layout.ticket_bytes(ticket)
    assert token().encode() not in layout.ticket_bytes(ticket)  # never sent as a native QR


def test_chinese_lines_are_raster_images_of_the_cjk_font(layout: TicketLayout) -> None:
    ticket = make_ticket(token())
    data = layout.ticket_bytes(ticket)
    stations = layout.raster.columns("北京南", "上海虹桥", 40, "G1")
    assert image_bytes(stations) in data
    footer = layout.raster.line("请妥善保管车票", 22, "center")
    assert image_bytes(footer) in data
    commands = EscPosParser().feed(data)
    rasters = [c for c in commands if isinstance(c, RasterImage)]
    assert len(rasters) == 10  # 6 journey lines, passenger, QR, payment, Chinese footer
    assert {c.width_bytes for c in rasters} == {72}
    texts = b"".join(c.data for c in commands if isinstance(c, Text))
    assert texts.isascii()  # no GBK or any other code page: nothing can print as mojibake


def test_a_standing_ticket_says_so(layout: TicketLayout) -> None:
    data = layout.ticket_bytes(make_ticket(token(), coach=None, seat=None))
    seat_line = layout.raster.columns("2026年12月01日 08:00开", "无座", 28)
    assert image_bytes(seat_line) in data


def test_unmasked_name_and_id_print_exactly_as_masked_ones(layout: TicketLayout) -> None:
    masked = layout.ticket_bytes(make_ticket(token()))
    unmasked = make_ticket(token(), passenger_name="张三丰", id_number="110101199001011234")
    assert layout.ticket_bytes(unmasked) == masked
    passenger = layout.raster.line("1101**********1234 张*丰", 22, "left")
    assert image_bytes(passenger) in masked


def test_a_narrow_paper_makes_narrow_images() -> None:
    layout = TicketLayout(TicketPrinterConfig(backend="sim", paper_width_dots=384))
    commands = EscPosParser().feed(layout.ticket_bytes(make_ticket(token())))
    assert {c.width_bytes for c in commands if isinstance(c, RasterImage)} == {48}


def test_a_missing_font_file_is_refused_when_the_layout_is_built(tmp_path: Path) -> None:
    config = TicketPrinterConfig(backend="sim", font_path=tmp_path / "none.ttc")
    with pytest.raises(DeviceConfigError, match=r"none\.ttc does not exist") as caught:
        TicketLayout(config)
    assert caught.value.code is DriverErrorCode.CONFIG


def test_a_font_without_cjk_glyphs_is_refused_rather_than_printing_boxes() -> None:
    if not LATIN_FONT.is_file():
        pytest.skip(f"{LATIN_FONT} (fonts-dejavu-core) is not installed")
    with pytest.raises(DeviceConfigError, match="would print as boxes"):
        TicketLayout(TicketPrinterConfig(backend="sim", font_path=LATIN_FONT))


def test_a_name_the_font_cannot_draw_fails_before_any_byte(layout: TicketLayout) -> None:
    rare = make_ticket(token(), to_station=StationName("𠀀", "X"))
    with pytest.raises(DeviceConfigError, match="𠀀"):
        layout.ticket_bytes(rare)
    with pytest.raises(DeviceConfigError):
        layout.check_printable("𠀀站")
    layout.check_printable("上海虹桥")


@pytest.mark.parametrize(
    ("given_name", "printed"),
    [("张三丰", "张*丰"), ("张三", "张*"), ("张", "*"), ("欧阳娜娜", "欧**娜"), ("张*丰", "张*丰")],
)
def test_names_keep_only_their_first_and_last_character(given_name: str, printed: str) -> None:
    assert mask_name(given_name) == printed


@pytest.mark.parametrize(
    ("given_id", "printed"),
    [
        ("110101199001011234", "1101**********1234"),
        ("1101 0119 9001 0112 34", "1101**********1234"),
        ("1101**********1234", "1101**********1234"),
        ("E12345678", "E1*****78"),
        ("123", "***"),
    ],
)
def test_id_numbers_keep_at_most_four_characters_at_each_end(given_id: str, printed: str) -> None:
    assert mask_id_number(given_id) == printed


@given(st.text(max_size=40))
def test_name_masking_is_idempotent_and_shows_two_characters_at_most(text: str) -> None:
    once = mask_name(text)
    assert mask_name(once) == once
    assert len(once.replace("*", "")) <= min(2, len(once) // 2 + 1)


@given(st.text(max_size=40))
def test_id_masking_is_idempotent_and_hides_at_least_half(text: str) -> None:
    once = mask_id_number(text)
    assert mask_id_number(once) == once
    assert len(once.replace("*", "")) <= min(8, len(once) // 2)
