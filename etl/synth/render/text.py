"""Flattened text like the seed (suichang-2021.txt): one line per table row, cells joined by " | ", multi-line
headers as printed, now and then a row broken across two lines, brackets sometimes folded to ASCII.

Layout classes (etl.synth.noise.TEXT_LAYOUTS) print the same cells as real extracts do: 表三 without its
headers and row labels, a page footer and the repeated header row inside 表三, last year's tables under
their year headings beside this year's, or one cell per line with a bare "|" for each blank cell."""

from __future__ import annotations

import random

from etl.synth.document import Document
from etl.synth.layout import Grid, grids
from etl.synth.noise import Printed

_ASCII = str.maketrans("（）：，", "():,")
_FOOTERS = ("第 {} 页 共 {} 页", "- {} -", "{}/{}", "第{}页/共{}页")
_YEAR_HEADINGS = ("{}年度", "（{}年）", "{}年数据", "{}年度政府信息公开情况统计")
# layouts after which a row broken across lines could not be told from the layout itself
_UNBROKEN = ("no_labels", "two_years", "stacked")


def _lines(grid: Grid, doc: Document, breakable: bool) -> list[str]:
    out = []
    broken = doc.rng.randrange(3, len(grid)) if breakable and doc.rng.random() < 0.3 else -1
    for i, row in enumerate(grid):
        cells = [c.text for c in row]
        if i == broken and len(cells) > 3:  # a row wrapped by the page it was copied from
            k = doc.rng.randint(2, len(cells) - 1)
            out.append(" | ".join(cells[:k]) + " |")
            out.append("| " + " | ".join(cells[k:]) + " |")
        else:
            out.append(" | ".join(cells) + " |")
    return out


def _unlabelled(grid: Grid) -> Grid:
    """表三 as an extract that dropped its headers and row labels: the value cells only."""
    return [vals for row in grid if (vals := [c for c in row if c.role == "value"])]


def _page_break(lines: list[str], header: list[str], rng: random.Random) -> list[str]:
    """A page break inside the table: the page's footer, then the table's header row printed again."""
    at = rng.randrange(len(header) + 2, len(lines) - 1)
    page = rng.randint(2, 9)
    footer = rng.choice(_FOOTERS).format(page, page + rng.randint(1, 6))
    return [*lines[:at], footer, *(header if rng.random() < 0.8 else []), *lines[at:]]


def _stacked(grid: Grid, blank: set[str]) -> list[str]:
    """One cell per line; a blank value cell is a bare "|" line."""
    out = []
    for row in grid:
        for c in row:
            if c.role == "value":
                out.append("|" if c.code in blank else c.text)
            elif c.text:
                out.append(c.text)
    return out


def _table_lines(
    kind: str, grid: Grid, doc: Document, p: Printed, rng: random.Random, blank: set[str]
) -> list[str]:
    layouts = p.layouts
    if "stacked" in layouts:
        return _stacked(grid, blank)
    if kind == "t3" and "no_labels" in layouts:
        grid = _unlabelled(grid)
    lines = _lines(grid, doc, breakable=kind == "t3" and not any(k in layouts for k in _UNBROKEN))
    if kind == "t3" and "page_break" in layouts:
        lines = _page_break(lines, lines[:3] if "no_labels" not in layouts else [], rng)
    return lines


def render(doc: Document) -> bytes:
    p, template = doc.printed, doc.spec.template
    tables = grids(template, p)
    rng = random.Random(p.rng_seed + "/text")
    last_year = None
    if "two_years" in p.layouts:
        last = Printed(text=p.last_year, typos=p.typos, numbering=p.numbering, layouts=p.layouts)
        last.missing, last.rng_seed = p.missing, p.rng_seed
        last_year = grids(template, last)
        heading = rng.choice(_YEAR_HEADINGS)
        last_first = rng.random() < 0.5
    lines: list[str] = []
    for kind, text in doc.blocks:
        if kind == "table":
            here = _table_lines(text, tables[text], doc, p, rng, set(p.blank))
            if last_year is not None:
                before = [
                    heading.format(doc.spec.year - 1),
                    *_table_lines(text, last_year[text], doc, p, rng, set()),
                ]
                here = [heading.format(doc.spec.year), *here]
                here = [*before, *here] if last_first else [*here, *before]
            lines += here
        elif kind != "date":
            lines.append(p.label(text) if kind == "h" else text)
    body = "\n".join(lines) + "\n"
    if doc.rng.random() < 0.5:
        body = body.translate(_ASCII)
    return body.encode("utf-8")
