"""Central's settings file, key store and timetable files."""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from central.operating.timetable_file import TimetableFileError, read_timetable
from central.settings import SettingsError, load_settings
from central.signing import KeyStore
from protocol.token import TicketClaims, decode_token, encode_token

ROOT = Path(__file__).resolve().parents[2]


def test_settings_file_is_strict_and_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "central.toml"
    path.write_text("[central]\nhold_minutes = 0\n")
    with pytest.raises(SettingsError, match=r"central.toml: \[central\] hold_minutes"):
        load_settings(path)
    path.write_text("[central]\nholdminutes = 5\n")
    with pytest.raises(SettingsError, match="holdminutes"):
        load_settings(path)
    path.write_text("[central]\ncard_stations = ['bjp']\n")
    with pytest.raises(SettingsError, match="card_stations"):
        load_settings(path)


def test_shipped_profile_loads_and_env_token_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATIONKIT_OPERATOR_TOKEN", "from-env")
    settings = load_settings(ROOT / "config" / "central.toml")
    assert settings.operator_token == "from-env"
    assert settings.hold_minutes == 10


def test_key_rotation_keeps_old_tickets_valid(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    claims = TicketClaims.for_passenger(
        ticket_id="0123456789abcdef",
        train="G1",
        service_date=date(2026, 12, 1),
        from_station="AAA",
        to_station="BBB",
        seat_class="ZE",
        coach=1,
        seat=1,
        name="张三",
        id_number="110101199001010000",
        not_before=datetime(2026, 12, 1, tzinfo=UTC),
        not_after=datetime(2026, 12, 2, tzinfo=UTC),
    )
    old_token = encode_token(claims, store.active)
    store.rotate()
    reopened = KeyStore(tmp_path / "keys")
    assert reopened.active.key_id == 2
    assert decode_token(old_token, reopened.key_ring()).key_id == 1
    key_file = tmp_path / "keys" / "signing-2.hex"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_holder_key_is_stable_and_normalised(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    assert store.holder_key("11010119900101001x") == store.holder_key(" 11010119900101001X ")
    assert KeyStore(tmp_path / "keys").holder_key("A1") == store.holder_key("A1")
    assert store.holder_key("A1") != KeyStore(tmp_path / "other").holder_key("A1")


def test_timetable_moves_to_another_date(tmp_path: Path) -> None:
    runs = read_timetable(ROOT / "config" / "timetables" / "demo.json", on=date(2027, 1, 5))
    assert {run.date for run in runs} == {date(2027, 1, 5)}
    first = runs[0].stops[0].depart
    assert first is not None and first.date() == date(2027, 1, 5)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"train": "G1"}]))
    with pytest.raises(TimetableFileError, match=r"bad\.json"):
        read_timetable(bad)
    bad.write_text("{not json")
    with pytest.raises(TimetableFileError, match="cannot read"):
        read_timetable(bad)
