"""Flattened text like the seed (suichang-2021.txt): one line per table row, cells joined by " | ", multi-line
headers as printed, now and then a row broken across two lines, brackets sometimes folded to ASCII."""

from __future__ import annotations

from etl.synth.document import Document
from etl.synth.layout import Grid, table2, table3, table4

_ASCII = str.maketrans("（）：，", "():,")


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


def render(doc: Document) -> bytes:
    p, template = doc.printed, doc.spec.template
    tables = {"t2": table2(template, p), "t3": table3(template, p), "t4": table4(p)}
    lines: list[str] = []
    for kind, text in doc.blocks:
        if kind == "table":
            lines += _lines(tables[text], doc, breakable=text == "t3")
        elif kind != "date":
            lines.append(p.label(text) if kind == "h" else text)
    body = "\n".join(lines) + "\n"
    if doc.rng.random() < 0.5:
        body = body.translate(_ASCII)
    return body.encode("utf-8")
