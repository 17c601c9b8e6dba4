"""Turn a document into a stream of table rows: the one shape every format is read into.

A Row is the cells of one table row (or one text line) in reading order, with where it came from. Readers for
each format only have to produce rows; `etl.parse.tables` maps rows to template cells.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

_WS = re.compile(r"[ \t\u3000\xa0]+")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")  # |---|:---:|
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+")
_MD_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # a line break inside a cell: the text runs on
_MD_BOLD = re.compile(r"\*\*(.*?)\*\*")
# one cell per line: a line that is only a number (a value cell) or only the separator (a blank cell)
_LONE_VALUE = re.compile(
    r"^\s*(?:[+-]?[\d,]+(?:\.\d+)?\s*(?:万元|元|件|项|个|条|次|宗)?(?:\s*\([^()]*\))?|[|｜])\s*$"
)
_LONE_BAR = re.compile(r"^\s*[|｜]\s*$")
_STACKED_MIN = 20  # lone value lines that make a text a one-cell-per-line table (a few are page numbers)


@dataclass
class Row:
    cells: list[str]
    where: str
    # cell indexes at which a line break split the row (text dumps): an empty slot may have been lost there
    breaks: list[int] = field(default_factory=list)
    # one cell per line (_restack): rows of numbers whose labels were printed apart follow one another with
    # nothing between them, so one row's cells may hold several table rows
    stacked: bool = False


# What NFKC changes in almost every Chinese page: full-width ASCII (１２，（）：), the ideographic space, NBSP.
_WIDE = re.compile(r"[\uff01-\uff5e\u3000\xa0]+")
_WIDE_TO_ASCII = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " ", "\xa0": " "}
)


def _fold_wide(m: re.Match[str]) -> str:
    return m.group().translate(_WIDE_TO_ASCII)


def normalize(text: str) -> str:
    """NFKC folds full-width digits and punctuation (１２，（）) to ASCII; minus signs and dashes unified.

    Exactly NFKC, cheaper: those characters are folded first (their NFKC forms are these single ASCII
    characters), and the full normalisation runs only if anything else is left to change."""
    if not unicodedata.is_normalized("NFKC", text):
        text = _WIDE.sub(_fold_wide, text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2212", "-").replace("\u2013", "-")


def _unmark(line: str) -> str | None:
    """A markdown line as plain text: None for a table's separator row; no heading marks, bold or <br>."""
    if _MD_RULE.match(line):
        return None
    line = _MD_BREAK.sub("", _MD_HEADING.sub("", line))
    return _MD_BOLD.sub(r"\1", line)


def text_rows(text: str) -> list[Row]:
    """Rows of a flattened-table text: one row per line, cells split on '|' (or tabs).

    A trailing separator closes the row, a leading one opens it: neither delimits an empty cell. In documents
    whose rows are written "a | b |" (not markdown's "| a | b |"), a line that starts with the separator is the
    rest of a broken row or an all-blank row, and an empty cell may have been lost at its start: that position
    is recorded as a break for the table reader to fill only when the row is one cell short.
    """
    lines = []
    # markdown marks are rare outside markdown extracts: skip the per-line substitutions when the text has none
    marked = any(mark in text for mark in ("---", "#", "<", "**"))
    for i, raw in enumerate(text.splitlines(), start=1):
        line = _unmark(raw) if marked else raw
        if line is not None and line.strip():
            lines.append((i, line, "|" if "|" in line else ("\t" if "\t" in line else None)))
    if _stacked(lines):
        return _restack(lines)
    framed = [ln.lstrip(" \u3000").startswith(sep) for _, ln, sep in lines if sep]
    markdown_style = sum(framed) * 2 > len(framed)
    rows = []
    for i, line, sep in lines:
        breaks: list[int] = []
        if sep is None:
            cells = [line.strip()]
        else:
            cells = [c.strip() for c in line.split(sep)]
            if cells and cells[0] == "" and line.lstrip(" \u3000").startswith(sep):
                cells = cells[1:]
                if not markdown_style:
                    breaks = [0]
            if cells and cells[-1] == "" and line.rstrip(" \u3000\r").endswith(sep):
                cells = cells[:-1]
        rows.append(Row(cells=cells, where=f"line {i}", breaks=breaks))
    return rows


def _stacked(lines: list[tuple[int, str, str | None]]) -> bool:
    """A table printed one cell per line (a web table copied cell by cell): many lines hold one value, and
    bare separator lines stand for its blank cells."""
    bars = sum(1 for _, line, sep in lines if sep == "|" and _LONE_BAR.match(line))
    if not bars and sum(1 for _, _, sep in lines if sep) > 0:
        return False  # rows with separators: the usual layout (a stacked table has bars only for blanks)
    lone = sum(1 for _, line, _ in lines if _LONE_VALUE.match(line))
    framed = sum(1 for _, line, sep in lines if sep and not _LONE_BAR.match(line))
    # without a blank cell, only many more lone values than a text's page numbers tell the layout
    return lone >= (_STACKED_MIN if bars else 3 * _STACKED_MIN) and lone > framed


def _restack(lines: list[tuple[int, str, str | None]]) -> list[Row]:
    """Rows of a one-cell-per-line table: each run of value lines ("|" = a blank cell) is the row of the text
    line just above it; other text lines stay rows of their own (headings, headers, wrapped labels), as the
    table reader expects them from any layout."""
    rows: list[Row] = []
    current: Row | None = None  # the row collecting values: its label line, then its cells
    for i, line, _ in lines:
        if _LONE_VALUE.match(line):
            cell = "" if _LONE_BAR.match(line) else line.strip()
            if current is None:
                current = Row(cells=[], where=f"line {i}", stacked=True)
                rows.append(current)
            current.cells.append(cell)
            continue
        cells = [c.strip() for c in re.split(r"[|｜\t]", line) if c.strip()] or [line.strip()]
        current = Row(cells=cells, where=f"line {i}", stacked=True)
        rows.append(current)
    return rows


@lru_cache(maxsize=65536)
def collapse_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()
