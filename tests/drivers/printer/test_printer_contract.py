"""The TicketPrinter contract, run against every backend that can run here.

Each test steers the printer at the other end (paper, cover, offline, error,
silence) and checks what ``TicketPrinter`` reports and does; printed tickets
are looked at as the simulator drew them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont
from printer_benches import BENCHES, Bench, serial_bench
from printer_samples import CJK_FONT, LATIN_FONT, claims, key_ring, make_ticket, token

from drivers.errors import DeviceUnavailable, DriverErrorCode
from drivers.printer.layout import TITLE_SIZE
from drivers.printer.printer import TicketPrinter
from drivers.printer.raster_text import LINE_GAP, MARGIN, TextRaster
from drivers.printer.status import PrinterNotReady, PrinterReason, TicketIncomplete
from protocol.token import decode_token

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # a text line may read as 1D

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


STATUS_DEADLINE_S = 5.0  # far above the 0.3 s status timeout: only a hang fails


@pytest.fixture(scope="module", params=sorted(BENCHES))
def shared_bench(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bench]:
    with BENCHES[request.param](tmp_path_factory.mktemp(request.param)) as bench:
        yield bench


@pytest.fixture
def bench(shared_bench: Bench) -> Bench:
    shared_bench.reset()
    return shared_bench


async def test_a_ready_printer_reports_ok(bench: Bench) -> None:
    status = await bench.printer.status()
    assert status.reason is PrinterReason.OK
    assert status.is_ready
    health = bench.printer.health()
    assert health.is_ready
    assert health.reason is PrinterReason.OK


@pytest.mark.parametrize(
    ("command", "fields", "reason"),
    [
        ("paper", {"state": "near_end"}, PrinterReason.PAPER_NEAR_END),
        ("paper", {"state": "out"}, PrinterReason.PAPER_OUT),
        ("cover", {"open": True}, PrinterReason.COVER_OPEN),
        ("offline", {"on": True}, PrinterReason.OFFLINE),
        ("error", {"kind": "cutter"}, PrinterReason.ERROR),
        ("error", {"kind": "auto_recoverable"}, PrinterReason.ERROR),
        ("garbage", {"on": True}, PrinterReason.UNKNOWN),
    ],
)
async def test_each_condition_is_reported_with_its_reason(
    bench: Bench, command: str, fields: dict[str, object], reason: PrinterReason
) -> None:
    bench.steer(command, **fields)
    status = await bench.printer.status()
    assert status.reason is reason
    assert status.is_ready is (reason is PrinterReason.PAPER_NEAR_END)
    assert bench.printer.health().reason is reason


async def test_a_silent_printer_is_unknown_within_the_timeout_and_recovers(bench: Bench) -> None:
    bench.steer("silence", on=True)
    status = await asyncio.wait_for(bench.printer.status(), STATUS_DEADLINE_S)
    assert status.reason is PrinterReason.UNKNOWN
    assert "no answer" in status.detail
    bench.steer("silence", on=False)
    assert (await bench.printer.status()).reason is PrinterReason.OK


async def test_a_printed_ticket_decodes_to_the_signed_token(bench: Bench) -> None:
    ticket = make_ticket(token())
    printed_before = bench.printer.health().tickets_printed
    await bench.printer.print_ticket(ticket)
    found = zxingcpp.read_barcodes(Image.open(bench.next_ticket()), formats=QR_ONLY)
    assert [code.format for code in found] == [zxingcpp.BarcodeFormat.QRCode]
    decoded = decode_token(found[0].text, key_ring())
    assert decoded.ticket_id == claims().ticket_id
    assert decoded.holder_matches("110101199001011234")
    assert (decoded.train, decoded.coach, decoded.seat) == (claims().train, 5, 12)
    assert bench.printer.health().tickets_printed == printed_before + 1


async def test_chinese_station_names_are_printed_as_glyphs(bench: Bench) -> None:
    ticket = make_ticket(token())
    await bench.printer.print_ticket(ticket)
    printed = Image.open(bench.next_ticket()).convert("L")
    raster = TextRaster(CJK_FONT, 0, printed.width)
    names = raster.columns("北京南", "上海虹桥", TITLE_SIZE, "G1").convert("L")
    top = printed.crop((0, 0, names.width, names.height))
    assert ImageChops.difference(top, names).getbbox() is None  # the first line, dot for dot
    assert top.getextrema() == (0, 255)  # ink on paper
    if LATIN_FONT.is_file():  # what a font without CJK glyphs draws: boxes
        boxes = Image.new("L", names.size, 255)
        latin = ImageFont.truetype(str(LATIN_FONT), TITLE_SIZE)
        ImageDraw.Draw(boxes).text((MARGIN, LINE_GAP // 2), "北京南", font=latin, fill=0)
        assert ImageChops.difference(top, boxes).getbbox() is not None


async def test_paper_near_end_still_prints(bench: Bench) -> None:
    ticket = make_ticket(token())
    bench.steer("paper", state="near_end")
    await bench.printer.print_ticket(ticket)
    assert bench.next_ticket().is_file()


async def test_paper_out_refuses_before_sending_anything(bench: Bench) -> None:
    ticket = make_ticket(token())
    before = bench.counts()
    bench.steer("paper", state="out")
    with pytest.raises(PrinterNotReady) as caught:
        await bench.printer.print_ticket(ticket)
    assert caught.value.code is DriverErrorCode.REFUSED
    assert caught.value.reason is PrinterReason.PAPER_OUT
    after = bench.counts()
    # nothing but status queries was sent
    assert after["commands_dropped"] == before["commands_dropped"]
    assert bench.printer.health().last_error == "device_refused"
    bench.steer("paper", state="ok")
    await bench.printer.print_ticket(ticket)
    assert bench.counts()["pages_printed"] == before["pages_printed"] + 1


async def test_paper_running_out_mid_ticket_is_an_incomplete_ticket(bench: Bench) -> None:
    ticket = make_ticket(token())
    before, printed_before = bench.counts(), bench.printer.health().tickets_printed
    bench.steer("paper", state="out", after_bytes=2000)
    with pytest.raises(TicketIncomplete) as caught:
        await bench.printer.print_ticket(ticket)
    assert caught.value.code is DriverErrorCode.REFUSED
    assert caught.value.reason is PrinterReason.PAPER_OUT
    after = bench.counts()
    assert after["pages_printed"] == before["pages_printed"]
    assert after["pages_lost"] == before["pages_lost"] + 1
    assert bench.printer.health().tickets_printed == printed_before


async def test_a_cover_opened_refuses_with_its_reason(bench: Bench) -> None:
    ticket = make_ticket(token())
    bench.steer("cover", open=True)
    with pytest.raises(PrinterNotReady) as caught:
        await bench.printer.print_ticket(ticket)
    assert caught.value.reason is PrinterReason.COVER_OPEN


async def test_a_silent_printer_refuses_a_ticket_as_a_timeout(bench: Bench) -> None:
    ticket = make_ticket(token())
    bench.steer("silence", on=True)
    with pytest.raises(PrinterNotReady) as caught:
        await bench.printer.print_ticket(ticket)
    assert caught.value.code is DriverErrorCode.TIMEOUT


async def test_a_shift_report_prints_chinese_and_ascii_lines(bench: Bench) -> None:
    await bench.printer.print_text_report(["Shift 3  2026-12-01", "售票 12 张  ¥6636.00"])
    report = Image.open(bench.next_ticket())
    assert report.convert("L").getextrema() == (0, 255)


async def test_a_standing_ticket_prints(bench: Bench) -> None:
    await bench.printer.print_ticket(make_ticket(token(), coach=None, seat=None))
    assert bench.next_ticket().is_file()


def test_a_closed_printer_refuses_clearly(tmp_path: Path) -> None:
    ticket = make_ticket(token())

    async def close_then_use(printer: TicketPrinter) -> None:
        await printer.close()
        await printer.close()  # twice is harmless
        with pytest.raises(DeviceUnavailable, match="closed"):
            await printer.status()
        with pytest.raises(DeviceUnavailable):
            await printer.print_ticket(ticket)

    with serial_bench(tmp_path) as own:
        asyncio.run(close_then_use(own.printer))
