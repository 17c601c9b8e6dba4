"""PDF reports with real ruled tables, drawn with reportlab's built-in CID font STSong-Light.

Tables are drawn cell by cell (grid lines and wrapped text), not as platypus Tables: a platypus Table cannot
split inside a row span, while real reports break 表三 across pages in the middle of 三、本年度办理结果 (and
even mid-label: '（四）无' | '法提供'). Pages carry a '- N -' footer. invariant=1 fixes dates and the file id.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from etl.synth.document import Document
from etl.synth.layout import Grid, placed, table2, table3, table4

FONT = "STSong-Light"
SIZE, LEADING = 9.0, 11.0
PADS = (
    4.0,
    5.0,
    6.0,
    7.0,
)  # cell padding, drawn per report: row heights vary, so tables break at different rows
WIDTH = A4[0] - 4 * cm


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def wrap_text(text: str, width: float) -> list[str]:
    """Greedy line breaking by character width (CJK text breaks anywhere)."""
    lines, line, used = [], "", 0.0
    for ch in text:
        w = pdfmetrics.stringWidth(ch, FONT, SIZE)
        if line and used + w > width:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    return [*lines, line] if line or not lines else lines


@dataclass(frozen=True)
class _Box:
    row: int
    col: int
    rows: int
    cols: int
    lines: tuple[str, ...]
    center: bool


class GridTable(Flowable):
    """A ruled table of boxes on a row/column grid; splits between any two rows, spans included."""

    def __init__(self, boxes: list[_Box], widths: list[float], heights: list[float], pad: float):
        super().__init__()
        self.boxes, self.widths, self.heights, self.pad = boxes, widths, heights, pad

    @classmethod
    def from_grid(cls, grid: Grid, widths: list[float], pad: float) -> GridTable:
        cells, _ = placed(grid)
        boxes = []
        for r, c, cell in cells:
            inner = sum(widths[c : c + cell.colspan]) - 2 * pad
            center = cell.role != "label"
            boxes.append(_Box(r, c, cell.rowspan, cell.colspan, tuple(wrap_text(cell.text, inner)), center))
        heights = [2 * pad + LEADING] * len(grid)
        for b in sorted(boxes, key=lambda b: b.rows):  # single rows first, then spans top up their last row
            need = 2 * pad + LEADING * len(b.lines)
            have = sum(heights[b.row : b.row + b.rows])
            if need > have:
                heights[b.row + b.rows - 1] += need - have
        return cls(boxes, widths, heights, pad)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return sum(self.widths), sum(self.heights)

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        used, k = 0.0, 0
        while k < len(self.heights) and used + self.heights[k] <= available_height:
            used += self.heights[k]
            k += 1
        if k == 0 or k == len(self.heights):
            return []
        return [self._slice(0, k), self._slice(k, len(self.heights))]

    def _slice(self, start: int, stop: int) -> GridTable:
        boxes = []
        for b in self.boxes:
            top, bottom = max(b.row, start), min(b.row + b.rows, stop)
            if top >= bottom:
                continue
            lines = b.lines
            if b.rows > 1 and (top, bottom) != (b.row, b.row + b.rows):  # a span cut by the page break
                cut = stop if top == b.row else start
                fit = max(1, int((sum(self.heights[b.row : cut]) - 2 * self.pad) // LEADING))
                lines = lines[:fit] if top == b.row else lines[fit:]
            boxes.append(replace(b, row=top - start, rows=bottom - top, lines=lines))
        return GridTable(boxes, self.widths, self.heights[start:stop], self.pad)

    def draw(self) -> None:
        canv = self.canv
        canv.setFont(FONT, SIZE)
        canv.setLineWidth(0.5)
        total = sum(self.heights)
        for b in self.boxes:
            x = sum(self.widths[: b.col])
            w = sum(self.widths[b.col : b.col + b.cols])
            y_top = total - sum(self.heights[: b.row])
            h = sum(self.heights[b.row : b.row + b.rows])
            canv.rect(x, y_top - h, w, h, stroke=1, fill=0)
            y = y_top - (h - LEADING * len(b.lines)) / 2 - SIZE
            for line in b.lines:
                if len(line) == 1:
                    # reportlab's CID font writes a one-character full-width string ("１") with no text
                    # mapping: the PDF would show a digit its text layer lacks, so print it half-width
                    line = unicodedata.normalize("NFKC", line)
                if b.center:
                    canv.drawCentredString(x + w / 2, y, line)
                else:
                    canv.drawString(x + self.pad, y, line)
                y -= LEADING


def _widths(name: str, template: str) -> list[float]:
    if name == "t2":
        return [WIDTH * 0.31] + [WIDTH * 0.23] * 3
    if name == "t3":
        label = [1.1 * cm, 1.6 * cm, 5.2 * cm]
        rest = (WIDTH - sum(label)) / 7
        return label + [rest] * 7
    return [WIDTH / 15] * 15


def render(doc: Document) -> bytes:
    _font()
    s, p = doc.spec, doc.printed
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=19, wordWrap="CJK", firstLineIndent=22)
    head = ParagraphStyle("head", parent=body, firstLineIndent=22, spaceBefore=4)
    title_style = ParagraphStyle(
        "title", fontName=FONT, fontSize=16, leading=26, alignment=TA_CENTER, wordWrap="CJK"
    )
    grids: dict[str, Grid] = {"t2": table2(s.template, p), "t3": table3(s.template, p), "t4": table4(p)}
    pad = doc.rng.choice(PADS)
    story: list[Flowable] = []
    for kind, text in doc.blocks:
        if kind == "title":
            # real titles often break before the year: 淮安市人民政府 / 2024 年政府信息公开工作年度报告
            name = escape(s.issuer.name)
            story.append(Paragraph(escape(text).replace(name, name + "<br/>", 1), title_style))
            story.append(Spacer(1, 8))
        elif kind == "date":
            continue
        elif kind == "table":
            story.append(GridTable.from_grid(grids[text], _widths(text, s.template), pad))
            story.append(Spacer(1, 6))
        else:
            text = escape(p.label(text) if kind == "h" else text)
            story.append(Paragraph(text, head if kind == "h" else body))

    def footer(canv, template) -> None:
        canv.saveState()
        canv.setFont(FONT, 10)
        canv.drawCentredString(A4[0] / 2, 1.2 * cm, f"- {template.page} -")
        canv.restoreState()

    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2.2 * cm,
        bottomMargin=2.2 * cm,
        title=doc.title or "政府信息公开工作年度报告",
        author=s.issuer.name,
        creator="synthetic",
        invariant=1,
    )
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
