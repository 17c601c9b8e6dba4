"""One table cell's text -> a value slot (number or blank) or None when the cell is text (a label, spam)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

Number = int | float

BLANK_MARKS = frozenset({"", "/", "-", "—", "——", "--", "无", "\\", "–", "…"})
# a sign: 2019's 本年增/减 prints decreases as "-18" and, now and then, increases as "+5"
_VALUE = re.compile(r"^\+?(?P<num>-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?P<rest>.*)$", re.S)
_UNIT = re.compile(r"^\s*(万元|元|件|项|个|条|次|宗)")
# what may follow a number inside its cell: nothing, a note "(其中修订16件)", a unit, or spam after a space
_REST_OK = re.compile(r"^(\s|\(|（|万元|元|件|项|个|条|次|宗|$)")


@dataclass(frozen=True)
class Slot:
    value: Number | None  # None: a printed blank
    raw: str
    unit: str | None = None

    @property
    def is_blank(self) -> bool:
        return self.value is None


@lru_cache(maxsize=65536)
def read_slot(cell: str) -> Slot | None:
    """A value slot, or None if the cell is text. Expects NFKC-normalised text.

    Cached: tables repeat the same few cell texts ("0", "", "1") thousands of times; Slot is immutable."""
    text = cell.strip()
    if text in BLANK_MARKS:
        return Slot(None, cell)
    m = _VALUE.match(text)
    if not m or not _REST_OK.match(m.group("rest")):
        return None
    num = m.group("num").replace(",", "")
    value: Number = float(num) if "." in num else int(num)
    unit = _UNIT.match(m.group("rest"))
    return Slot(value, cell, unit.group(1) if unit else None)
