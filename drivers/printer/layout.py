"""The ticket and report layouts: a ``PrintedTicket`` in, ESC/POS bytes out, no I/O.

The layout writes to python-escpos's ``Dummy`` printer (configured with the
unit's printer profile and paper width) and returns the bytes it collected;
the transport sends them in one piece afterwards, so a ticket that cannot be
laid out (a glyph missing from the font) fails before a single byte goes to
the printer. Plain ASCII lines are printed as text in the printer's own font;
every other line is drawn with the CJK font (``raster_text``) and sent as a
``GS v 0`` raster image; the QR code of the signed token is a raster image
too (``qr(native=False)``), so the ticket looks the same on every printer.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Sequence

from escpos.constants import QR_ECLEVEL_M  # type: ignore[import-untyped]
from escpos.printer import Dummy  # type: ignore[import-untyped]
from PIL import Image

from drivers.printer.config import TicketPrinterConfig
from drivers.printer.raster_text import Align, TextRaster
from drivers.printer.ticket import PrintedTicket, mask_id_number, mask_name
from protocol.ids import SeatClass
from protocol.money import format_yuan

TITLE_SIZE = 40  # station names
BODY_SIZE = 28  # date, seat, price
SMALL_SIZE = 22  # English lines, passenger, payment
FIXED_WORDS = "年月日开车号无座¥元银行卡支付"  # the layout's own Chinese, besides seat classes
SEAT_CLASS_NAMES: dict[SeatClass, tuple[str, str]] = {
    SeatClass.BUSINESS: ("商务座", "Business class"),
    SeatClass.FIRST: ("一等座", "First class"),
    SeatClass.SECOND: ("二等座", "Second class"),
    SeatClass.SOFT_SLEEPER: ("软卧", "Soft sleeper"),
    SeatClass.HARD_SLEEPER: ("硬卧", "Hard sleeper"),
    SeatClass.SOFT_SEAT: ("软座", "Soft seat"),
    SeatClass.HARD_SEAT: ("硬座", "Hard seat"),
}


class TicketLayout:
    """Turns tickets and report lines into the bytes of one printout each."""

    def __init__(self, config: TicketPrinterConfig) -> None:
        self.profile = config.profile
        self.width_dots = config.width_dots
        self.footer = tuple(config.footer)
        self.qr_module_dots = config.qr_module_dots
        self.raster = TextRaster(config.font_path, config.font_index, self.width_dots)
        self._check_fixed_words()

    def ticket_bytes(self, ticket: PrintedTicket) -> bytes:
        """The whole printout of one ticket, from initialise to cut."""
        printer = self._printer()
        printer.hw("INIT")
        self._journey(printer, ticket)
        self._place_and_price(printer, ticket)
        self._passenger(printer, ticket)
        printer.qr(
            ticket.token,
            ec=QR_ECLEVEL_M,
            size=self.qr_module_dots,
            native=False,
            image_arguments={"impl": "bitImageRaster", "center": True},
        )
        self._payment_and_ids(printer, ticket)
        self._lines(printer, self.footer, "center")
        printer.cut()
        return bytes(printer.output)

    def report_bytes(self, lines: Iterable[str]) -> bytes:
        """A plain printout of ``lines`` (a shift report), from initialise to cut."""
        printer = self._printer()
        printer.hw("INIT")
        self._lines(printer, list(lines), "left")
        printer.cut()
        return bytes(printer.output)

    def check_printable(self, text: str) -> None:
        """Raise DeviceConfigError if ``text`` (a station name, say) would print as boxes."""
        if not text.isascii():
            self.raster.check_glyphs(text, SMALL_SIZE)

    def _check_fixed_words(self) -> None:
        """Fail at start-up, not at the first sale, when the font cannot draw the fixed words."""
        words = [chinese for chinese, _ in SEAT_CLASS_NAMES.values()]
        words += [FIXED_WORDS, *(line for line in self.footer if not line.isascii())]
        self.raster.check_glyphs("".join(words), SMALL_SIZE)

    def _printer(self) -> Dummy:
        """A byte collector whose profile knows the real paper width (for centring images)."""
        printer = Dummy(profile=self.profile)
        data = copy.deepcopy(printer.profile.profile_data)
        data["media"]["width"]["pixels"] = self.width_dots
        printer.profile.profile_data = data  # this instance only, not the shared profile
        return printer

    def _journey(self, printer: Dummy, ticket: PrintedTicket) -> None:
        origin, destination = ticket.from_station, ticket.to_station
        self._image(
            printer,
            self.raster.columns(origin.chinese, destination.chinese, TITLE_SIZE, ticket.train),
        )
        self._image(printer, self.raster.columns(origin.english, destination.english, SMALL_SIZE))
        when = ticket.departure
        self._image(
            printer,
            self.raster.columns(f"{when:%Y年%m月%d日 %H:%M}开", _seat_zh(ticket), BODY_SIZE),
        )
        self._image(
            printer,
            self.raster.columns(f"Dep. {when:%Y-%m-%d %H:%M}", _seat_en(ticket), SMALL_SIZE),
        )

    def _place_and_price(self, printer: Dummy, ticket: PrintedTicket) -> None:
        chinese, english = SEAT_CLASS_NAMES[ticket.seat_class]
        yuan = format_yuan(ticket.price_fen)
        self._image(printer, self.raster.columns(f"¥{yuan}元", chinese, BODY_SIZE))
        self._image(printer, self.raster.columns(f"Fare CNY {yuan}", english, SMALL_SIZE))

    def _passenger(self, printer: Dummy, ticket: PrintedTicket) -> None:
        name, id_number = mask_name(ticket.passenger_name), mask_id_number(ticket.id_number)
        self._image(printer, self.raster.line(f"{id_number} {name}", SMALL_SIZE, "left"))

    def _payment_and_ids(self, printer: Dummy, ticket: PrintedTicket) -> None:
        if ticket.acquirer is not None:
            self._image(
                printer,
                self.raster.line(f"银行卡支付 Card · {ticket.acquirer}", SMALL_SIZE, "center"),
            )
        self._lines(printer, [_run_line(ticket.train, ticket.service_date)], "center")
        self._lines(printer, [f"Ticket {ticket.ticket_id}"], "center")

    def _lines(self, printer: Dummy, lines: Sequence[str], align: Align) -> None:
        """Each line as printer text when it is plain ASCII, else drawn with the CJK font."""
        for text in lines:
            if text.isascii() and text.isprintable():
                printer.set(align=align)
                printer.textln(text)
            else:
                self._image(printer, self.raster.line(text, SMALL_SIZE, align))
        printer.set(align="left")

    def _image(self, printer: Dummy, image: Image.Image) -> None:
        printer.image(image, impl="bitImageRaster")


def _seat_zh(ticket: PrintedTicket) -> str:
    if ticket.is_standing:
        return "无座"
    return f"{ticket.coach:02d}车{ticket.seat:03d}号"


def _seat_en(ticket: PrintedTicket) -> str:
    if ticket.is_standing:
        return "Standing"
    return f"Coach {ticket.coach:02d} Seat {ticket.seat:03d}"


def _run_line(train: str, service_date: dt.date) -> str:
    return f"Train {train} of {service_date:%Y-%m-%d}"
