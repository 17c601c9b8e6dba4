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


@dataclass
class Row:
    cells: list[str]
    where: str
    # cell indexes at which a line break split the row (text dumps): an empty slot may have been lost there
    breaks: list[int] = field(default_factory=list)


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


@lru_cache(maxsize=65536)
def collapse_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()
