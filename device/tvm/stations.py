"""Stations as a passenger finds them: by name, pinyin initials or telegraph code.

Names come from central's timetable, in Chinese, with their pinyin
(南京南 → Nanjingnan) and initials (NJN, what passengers type on a kiosk
keyboard) as central romanises them: its dictionary of place-name readings
(重庆 is Chongqing, not Zhongqing) is large, and a TVM's memory is small.
"""

from __future__ import annotations

from device.gate.messages import Words
from device.tvm.view import Station


def station(code: str, name: str, pinyin: str = "", initials: str = "") -> Station:
    """A station with its Chinese name, its pinyin (else its code) and its initials."""
    return Station(code, Words(name, pinyin or code), initials)


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
