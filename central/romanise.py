"""Station names in the Latin alphabet, as a kiosk shows them and passengers type them.

Central has the timetable's Chinese names and the memory for pypinyin's
phrase dictionary (it knows place names: 重庆 is Chongqing, not
Zhongqing); a TVM gets each name with its pinyin and initials and keeps
that dictionary out of its own small memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@dataclass(frozen=True)
class Romanised:
    """A name's pinyin (南京南 → Nanjingnan) and initials (NJN), Latin letters only."""

    pinyin: str
    initials: str


@lru_cache(maxsize=4096)
def romanised(name: str) -> Romanised:
    """``name`` in pinyin and its initials; what is not Chinese keeps its Latin letters."""
    pinyin = _letters("".join(lazy_pinyin(name)))
    initials = _letters("".join(lazy_pinyin(name, style=Style.FIRST_LETTER)))
    return Romanised(pinyin.capitalize(), initials.upper())


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isalpha())
