"""A unit profile is strict: a mistake stops the unit with one line naming file, section, key."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.profile import ProfileError, load_gate_profile
from ui.gate_display_config import GateDisplayConfig

ROOT = Path(__file__).resolve().parents[2]
SIM_PROFILE = (ROOT / "config" / "units" / "gate-sim.toml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(text)
    return path


def test_the_shipped_simulated_profile_loads() -> None:
    profile = load_gate_profile(ROOT / "config" / "units" / "gate-sim.toml")
    assert profile.unit.kind == "gate" and list(profile.sides()) == ["entry"]
    assert profile.mechanism.backend == "sim" and profile.gate.opens_minutes == 120


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            ("[sync]\ninterval_s = 5.0", "[sync]\ninterval_s = 0"),
            r"gate.toml: \[sync\] interval_s: .*greater than 0",
        ),
        (("[gate]\n", "[gate]\nopen_minutes = 5\n"), r"\[gate\] open_minutes: unknown key"),
        (("[sync]\n", "[synch]\n"), r"\[synch\]: unknown key"),
        (('kind = "gate"', 'kind = "turnstile"'), r"\[unit\] kind: "),
        (('backend = "sim"\nrelay', 'backend = "magic"\nrelay'), r"\[mechanism\] backend: "),
        (("buzzer = 22", 'buzzer = "22"'), r"\[mechanism\] buzzer: "),
        (
            ('[entry.scanner]\nbackend = "sim"', '[entry.scanner]\nbackend = "serial"'),
            r"\[entry\] scanner: .*needs a url",
        ),
    ],
)
def test_a_mistake_names_file_section_and_key(
    tmp_path: Path, change: tuple[str, str], words: str
) -> None:
    old, new = change
    assert old in SIM_PROFILE
    with pytest.raises(ProfileError, match=words):
        load_gate_profile(write(tmp_path, SIM_PROFILE.replace(old, new, 1)))


def test_a_gate_needs_a_side_and_a_readable_file(tmp_path: Path) -> None:
    no_sides = SIM_PROFILE.split("[entry.scanner]")[0]
    with pytest.raises(ProfileError, match=r"needs an \[entry\] or an \[exit\] side"):
        load_gate_profile(write(tmp_path, no_sides))
    with pytest.raises(ProfileError, match="no such profile"):
        load_gate_profile(tmp_path / "missing.toml")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_gate_profile(write(tmp_path, "[unit\nkind ="))


def test_the_launchers_screen_section_is_strict_too(tmp_path: Path) -> None:
    screen = {"display": GateDisplayConfig}
    good = SIM_PROFILE + "\n[display]\nsize = [480, 320]\n"
    profile = load_gate_profile(write(tmp_path, good), screen)
    assert profile.extra["display"].size == (480, 320)
    with pytest.raises(ProfileError, match=r"\[display\] colour: unknown key"):
        load_gate_profile(write(tmp_path, SIM_PROFILE + "\n[display]\ncolour = 1\n"), screen)
    with pytest.raises(ProfileError, match=r"\[display\]: unknown key"):
        load_gate_profile(write(tmp_path, good))  # a launcher without screens refuses it
