"""Real-time status bytes read into a PrinterStatus: the bit map, and garbage never raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import DriverErrorCode
from drivers.printer.status import (
    PrinterReason,
    PrinterStatus,
    fault_code,
    is_status_byte,
    parse_status,
    status_query,
)

OK = b"\x12"


def answers(printer: int = 0, offline: int = 0, error: int = 0, paper: int = 0) -> list[bytes]:
    """Four status answers with the given variable bits over the fixed ones."""
    return [bytes((0x12 | bits,)) for bits in (printer, offline, error, paper)]


@pytest.mark.parametrize(
    ("bits", "reason"),
    [
        ({}, PrinterReason.OK),
        ({"paper": 0x0C}, PrinterReason.PAPER_NEAR_END),
        ({"paper": 0x04}, PrinterReason.PAPER_NEAR_END),  # one sensor bit is enough
        ({"printer": 0x08, "offline": 0x20, "paper": 0x6C}, PrinterReason.PAPER_OUT),
        ({"paper": 0x60}, PrinterReason.PAPER_OUT),  # roll end seen before printing stopped
        ({"printer": 0x08, "offline": 0x04}, PrinterReason.COVER_OPEN),
        ({"printer": 0x08}, PrinterReason.OFFLINE),
        ({"printer": 0x08, "offline": 0x40, "error": 0x08}, PrinterReason.ERROR),  # cutter
        ({"error": 0x20}, PrinterReason.ERROR),  # unrecoverable
        ({"error": 0x40}, PrinterReason.ERROR),  # head too hot
        ({"printer": 0x04 | 0x40}, PrinterReason.OK),  # drawer pin and feed button: no fault
    ],
)
def test_each_status_bit_maps_to_its_reason(bits: dict[str, int], reason: PrinterReason) -> None:
    status = parse_status(answers(**bits))
    assert status.reason is reason
    assert status.is_ready is (reason in (PrinterReason.OK, PrinterReason.PAPER_NEAR_END))


def test_the_most_serious_condition_is_the_reason_and_all_are_kept() -> None:
    status = parse_status(answers(printer=0x08, offline=0x04 | 0x20, paper=0x6C))
    assert status.reason is PrinterReason.COVER_OPEN
    assert status.conditions == {
        PrinterReason.COVER_OPEN,
        PrinterReason.PAPER_OUT,
        PrinterReason.PAPER_NEAR_END,
        PrinterReason.OFFLINE,
    }
    assert status.raw == bytes((0x1A, 0x36, 0x12, 0x7E))
    assert "1a 36 12 7e" in status.detail


@pytest.mark.parametrize(
    ("given_answers", "problem"),
    [
        ([], "0 status answers"),
        ([OK], "1 status answers"),
        ([OK, b""], "DLE EOT 2: no answer"),
        ([OK, OK, OK, b"\xff"], "DLE EOT 4: 0xff is not a status byte"),
        ([b"\x13", OK, OK, OK], "DLE EOT 1: 0x13 is not a status byte"),  # bit 0 must be 0
        ([b"\x02", OK, OK, OK], "DLE EOT 1: 0x02 is not a status byte"),  # bit 4 must be 1
        ([OK + OK, OK, OK, OK], "DLE EOT 1: 2 bytes answered"),
        ([OK] * 5, "5 status answers"),
    ],
)
def test_missing_or_malformed_answers_are_unknown(given_answers: list[bytes], problem: str) -> None:
    status = parse_status(given_answers)
    assert status.reason is PrinterReason.UNKNOWN
    assert not status.is_ready
    assert problem in status.detail


def test_python_escpos_reads_silence_as_paper_adequate_and_we_do_not() -> None:
    # escpos.Escpos.paper_status() returns 2 ("adequate") for an empty answer
    assert parse_status([b"", b"", b"", b""]).reason is PrinterReason.UNKNOWN


def test_status_queries_are_dle_eot_n() -> None:
    assert [status_query(n) for n in (1, 2, 3, 4)] == [
        b"\x10\x04\x01",
        b"\x10\x04\x02",
        b"\x10\x04\x03",
        b"\x10\x04\x04",
    ]


def test_fault_codes_follow_the_reason() -> None:
    assert fault_code(PrinterStatus.unreachable("gone")) is DriverErrorCode.UNAVAILABLE
    assert fault_code(PrinterStatus.unknown("silent")) is DriverErrorCode.TIMEOUT
    assert fault_code(parse_status(answers(paper=0x60))) is DriverErrorCode.REFUSED


@given(st.lists(st.binary(max_size=6), max_size=6))
def test_any_answers_give_a_status_and_never_raise(given_answers: list[bytes]) -> None:
    status = parse_status(given_answers)
    assert status.reason in status.conditions
    well_formed = len(given_answers) == 4 and all(
        len(a) == 1 and is_status_byte(a[0]) for a in given_answers
    )
    assert (status.reason is PrinterReason.UNKNOWN) is not well_formed


STATUS_BYTES = [value for value in range(256) if is_status_byte(value)]


@given(st.lists(st.sampled_from(STATUS_BYTES), min_size=4, max_size=4))
def test_well_formed_bytes_never_read_as_unknown(values: list[int]) -> None:
    status = parse_status([bytes((v,)) for v in values])
    assert status.reason is not PrinterReason.UNKNOWN
    # offline without a cause in byte 2, or any fault cause, stops the printer
    if values[0] & 0x08 or values[1] & 0x64 or values[2] & 0x6C or values[3] & 0x60:
        assert not status.is_ready
