"""``stationkit demo``: the scripted day runs end to end against a real central process."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest

from stationkit.demo import run_demo
from stationkit.demo.books import id_check
from stationkit.demo.timetable import TIMETABLE, plan_days, read_runs
from stationkit.processes import free_port


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_demo_day_runs_and_tells_the_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From any directory the demo finds its timetable, plays every scene and returns 0."""
    monkeypatch.chdir(tmp_path)
    assert run_demo(port=free_port(), keep=False) == 0
    out = capsys.readouterr().out
    for event in (
        "journey_overlap",
        "sold out",
        "standing (无座)",
        "remote-station ticket",
        "pre-allocation",
        "adjust ",
        "refund ",
        "change ",
        "verified offline",
        "refused: bad_signature",
        "== Summary ==",
        "agrees by channel",
        "audit ",
    ):
        assert event in out, f"{event!r} missing from the demo output"
    assert not (tmp_path / "var" / "demo").exists(), "the demo store is removed without --keep"


def test_demo_fails_clearly_when_central_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port already taken: the demo says so before starting central, and returns 1."""
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        status = run_demo(port=busy.getsockname()[1], keep=False)
    assert status == 1
    assert "is in use" in capsys.readouterr().err


def test_timetable_moves_to_tomorrow_and_the_day_after() -> None:
    """Both service dates are loaded, every stop time moved by whole days."""
    days = plan_days(read_runs(TIMETABLE), today=dt.date(2030, 1, 31))
    assert sorted(days) == ["2030-02-01", "2030-02-02"]
    first = days["2030-02-01"][0]
    assert first.raw["stops"][0]["depart"].startswith("2030-02-01T")


def test_made_up_id_numbers_carry_a_valid_check_character() -> None:
    """GB 11643 check character of a published sample ID."""
    assert id_check("11010519491231002") == "X"
