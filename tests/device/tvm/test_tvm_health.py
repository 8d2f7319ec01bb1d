"""Whether the TVM may sell, from its printer's, terminal's and central's last known state."""

from __future__ import annotations

import pytest

from device.tvm import words
from device.tvm.desk import MachineHealth
from device.tvm.view import Banner
from drivers.printer.status import PrinterReason


def health(reason: PrinterReason, sell_on_paper_near_end: bool = False) -> MachineHealth:
    machine = MachineHealth(sell_on_paper_near_end=sell_on_paper_near_end)
    machine.printer_reason = reason
    return machine


def test_a_ready_machine_sells_without_a_banner() -> None:
    ready = health(PrinterReason.OK)
    assert (ready.closed_because(), ready.banner()) == (None, Banner.NONE)


def test_paper_near_its_end_stops_sales_by_default() -> None:
    assert health(PrinterReason.PAPER_NEAR_END).closed_because() == words.PAPER_LOW


def test_paper_near_its_end_only_shows_a_banner_when_the_profile_allows_it() -> None:
    allowed = health(PrinterReason.PAPER_NEAR_END, sell_on_paper_near_end=True)
    assert (allowed.closed_because(), allowed.banner()) == (None, Banner.PAPER_LOW)


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        (PrinterReason.PAPER_OUT, words.PAPER_OUT),
        (PrinterReason.COVER_OPEN, words.PRINTER_DOWN),
        (PrinterReason.OFFLINE, words.PRINTER_DOWN),
    ],
)
def test_a_printer_that_cannot_print_stops_sales(reason: PrinterReason, why: object) -> None:
    assert health(reason, sell_on_paper_near_end=True).closed_because() == why


def test_an_unsettled_payment_stops_sales_before_central_is_asked() -> None:
    machine = health(PrinterReason.OK)
    machine.terminal_unresolved, machine.is_online = True, False
    assert machine.closed_because() == words.TERMINAL_DOWN


def test_central_out_of_reach_stops_sales_unless_a_block_is_held() -> None:
    machine = health(PrinterReason.OK)
    machine.is_online = False
    assert (machine.closed_because(), machine.banner()) == (words.CENTRAL_DOWN, Banner.OFFLINE)
    machine.has_block = True
    assert (machine.closed_because(), machine.banner()) == (None, Banner.OFFLINE_BLOCK)
