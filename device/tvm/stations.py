"""Stations as a passenger finds them: by name, pinyin initials or telegraph code.

Names come from central's timetable, in Chinese; the English name is the
pinyin (南京南 → Nanjingnan) and the initials (NJN) are what passengers
type on a kiosk keyboard. pypinyin knows the readings of place names
(重庆 is Chongqing, not Zhongqing).
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

from device.gate.messages import Words
from device.tvm.view import Station


def station(code: str, name: str) -> Station:
    """A station with its Chinese name, its pinyin and its initials."""
    syllables = lazy_pinyin(name)
    english = "".join(syllables).capitalize() if syllables else code
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).upper()
    return Station(code, Words(name, english), initials)


def search(stations: list[Station], query: str) -> list[Station]:
    """Stations matching ``query``, best first: code, initials, then name or pinyin.

    Empty text matches everything (the whole list, as the kiosk first shows it).
    """
    text = query.strip()
    if not text:
        return list(stations)
    upper = text.upper()
    ranked: list[tuple[int, str, Station]] = []
    for candidate in stations:
        rank = _rank(candidate, text, upper)
        if rank is not None:
            ranked.append((rank, candidate.name.en, candidate))
    return [found for _, _, found in sorted(ranked, key=lambda item: item[:2])]


def _rank(candidate: Station, text: str, upper: str) -> int | None:
    if candidate.code == upper:
        return 0
    if candidate.initials.startswith(upper):
        return 1
    if text in candidate.name.zh or candidate.name.en.upper().startswith(upper):
        return 2
    return None
