"""PDF reports with a text layer: rows rebuilt from pypdfium2 character boxes.

Where a table has ruling lines (read cheaply from the page's path objects), each character lands in the grid
cell that encloses it, so wrapped labels, labels printed one character per line and numbers centred against a
multi-line label all stay in their cell. Text outside the grids becomes lines, split into cells at wide gaps.
Pages are read in order into one row stream, so a table that crosses a page break simply continues.
"""

from __future__ import annotations

import functools
import itertools
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from etl.model import NeedsOcr, RejectedInput
from etl.parse.caps import check_pdf_page_objects, check_pdf_pages
from etl.parse.rows import Row, collapse_ws, normalize

_TOL = 2.0  # pt: rules this close are the same line; chars this far past a rule's end still see it
_THIN = 2.5  # pt: a filled path no thicker than this is drawn as a rule
_MIN_RULE = 4.0  # pt: shorter strokes are glyph decoration, not table lines
_CELL_GAP = 1.5  # x gap, in character heights, that splits a text line into cells
_WORD_GAP = 0.3  # x gap, in character heights, printed as a space (Latin words, "2024 年")
_MIN_TEXT_CHARS = 20  # a page with fewer visible characters has no usable text layer
_FOOTER = re.compile(r"^(?:[-—–]\s*\d+\s*[-—–]|第\d+页(?:共\d+页)?|\d+/\d+|\d+)$")
_LATIN = re.compile(r"[A-Za-z]")
_NUMERIC = re.compile(r"[0-9０-９.,%]")
_MARGIN = 0.1  # fraction of the page height at top and bottom where page numbers live
_GENERIC_TITLE = re.compile(r"^\d{0,4}年?(?:度)?政府信息公开工作年度报告$")
# characters a readable text layer is made of: CJK, ASCII, CJK and full-width punctuation
_READABLE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\x21-\x7e\u201c\u201d\u2018\u2019]")


def _garbage(text: str) -> bool:
    """A text layer that is mostly not text (fonts without a Unicode map: private-use or control codes)."""
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and len(_READABLE.findall("".join(chars))) < 0.5 * len(chars)


@dataclass(frozen=True)
class _Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # font size as pdfium reports it: only compared within one document
    space_before: bool = False  # a space (printed or inferred by pdfium) precedes it in the text stream

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1.0)


@dataclass(frozen=True)
class _Rule:
    at: float  # y of a horizontal rule, x of a vertical one
    lo: float  # span along the other axis
    hi: float


@dataclass
class _Grid:
    hs: list[_Rule]
    vs: list[_Rule]

    @functools.cached_property
    def box(self) -> tuple[float, float, float, float]:
        x0 = min([r.lo for r in self.hs] + [r.at for r in self.vs])
        x1 = max([r.hi for r in self.hs] + [r.at for r in self.vs])
        y0 = min([r.at for r in self.hs] + [r.lo for r in self.vs])
        y1 = max([r.at for r in self.hs] + [r.hi for r in self.vs])
        return x0, y0, x1, y1

    def contains(self, c: _Char) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 - _TOL <= c.cx <= x1 + _TOL and y0 - _TOL <= c.cy <= y1 + _TOL


@dataclass
class _Piece:
    """A table row or a text line on one page, before pages are joined: where it sits (PDF units, y up; a
    row's top rule, a line's middle) and its cells."""

    y: float
    cells: list[str]
    where: str
    size: float = 0.0
    free: bool = True  # outside any ruled table


# -- characters ---------------------------------------------------------------------------------------------
def _page_chars(textpage: pdfium.PdfTextPage) -> list[_Char]:
    """Visible characters with their loose boxes (the font's full height: one line shares one band)."""
    text = textpage.get_text_range()
    out: list[_Char] = []
    seen: set[tuple[str, int, int]] = set()
    space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            space = True
            continue
        x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
        key = (ch, round(x0), round(y0))
        if x1 <= x0 or key in seen:  # nothing drawn, or fake bold: the same glyph overprinted in place
            continue
        seen.add(key)
        out.append(_Char(ch, x0, y0, x1, y1, pdfium_c.FPDFText_GetFontSize(textpage.raw, i), space))
        space = False
    return out


def _lines(chars: list[_Char]) -> list[list[_Char]]:
    """Chars grouped into lines by vertical overlap, top line first, each line left to right."""
    lines: list[list[_Char]] = []
    mid = 0.0
    for c in sorted(chars, key=lambda c: -c.cy):
        if lines and abs(c.cy - mid) <= 0.5 * min(c.h, lines[-1][0].h):
            lines[-1].append(c)
        else:
            lines.append([c])
            mid = c.cy
    return [sorted(line, key=lambda c: c.x0) for line in lines]


def _join(line: list[_Char]) -> str:
    h = statistics.median(c.h for c in line)
    parts = [line[0].text]
    for prev, c in zip(line, line[1:], strict=False):
        gap = c.x0 - prev.x1
        parts.append((" " if gap > _WORD_GAP * h or (c.space_before and gap > 0) else "") + c.text)
    return "".join(parts)


def _join_lines(lines: list[str]) -> str:
    """A cell's wrapped lines as one text: Chinese, a number Word broke in a narrow cell and a label printed
    one character a line run on; wrapped Latin words keep a space."""
    out = lines[0] if lines else ""
    for prev, line in zip(lines, lines[1:], strict=False):
        words = len(prev) > 1 and len(line) > 1 and _LATIN.match(prev[-1]) and _LATIN.match(line[0])
        out += (" " if words else "") + line
    return out


def _split_cells(line: list[_Char]) -> list[list[_Char]]:
    """A wide gap ends a cell; so does any visible gap between two numbers (digits of one number touch)."""
    h = statistics.median(c.h for c in line)
    cells = [[line[0]]]
    for prev, c in zip(line, line[1:], strict=False):
        gap = c.x0 - prev.x1
        if gap > _CELL_GAP * h or (
            gap > _WORD_GAP * h and _NUMERIC.match(prev.text) and _NUMERIC.match(c.text)
        ):
            cells.append([c])
        else:
            cells[-1].append(c)
    return cells


# -- ruling lines -------------------------------------------------------------------------------------------
# Page objects are walked through the raw pdfium API: wrapping ~500 objects a page in helper objects costs more
# than reading all the text.
_Matrix = tuple[float, float, float, float, float, float]  # PDF (a b c d e f)
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _on(m: _Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _then(inner: _Matrix, outer: _Matrix) -> _Matrix:
    """The matrix applying `inner`, then `outer`."""
    a, b, c, d, e, f = inner
    x, y = _on(outer, e, f)
    return (
        a * outer[0] + b * outer[2],
        a * outer[1] + b * outer[3],
        c * outer[0] + d * outer[2],
        c * outer[1] + d * outer[3],
        x,
        y,
    )


def _matrix(obj: object) -> _Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _page_rules(page: pdfium.PdfPage) -> tuple[list[_Rule], list[_Rule], bool]:
    """(horizontal rules, vertical rules, whether the page shows an image)."""
    hs: list[_Rule] = []
    vs: list[_Rule] = []
    objs = (pdfium_c.FPDFPage_GetObject(page.raw, i) for i in range(pdfium_c.FPDFPage_CountObjects(page.raw)))
    has_image = False
    for obj, kind, outer in _walk(objs, _IDENTITY):
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            has_image = True
            continue
        for x0, y0, x1, y1 in _path_lines(obj, outer):
            w, h = x1 - x0, y1 - y0
            if h <= _THIN and w >= _MIN_RULE:
                hs.append(_Rule((y0 + y1) / 2, x0, x1))
            elif w <= _THIN and h >= _MIN_RULE:
                vs.append(_Rule((x0 + x1) / 2, y0, y1))
    return _merge_rules(hs), _merge_rules(vs), has_image


def _walk(objs: Iterator[object], outer: _Matrix) -> Iterator[tuple[object, int, _Matrix]]:
    """Path and image objects, with the matrix of the form XObjects they sit in (their bounds are in form space)."""
    for obj in objs:
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE):
            yield obj, kind, outer
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            kids = (
                pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(pdfium_c.FPDFFormObj_CountObjects(obj))
            )
            yield from _walk(kids, _then(_matrix(obj), outer))


def _bounds(obj: object, outer: _Matrix) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (pdfium_c.c_float() for _ in range(4))
    pdfium_c.FPDFPageObj_GetBounds(obj, x0, y0, x1, y1)
    if outer == _IDENTITY:
        return x0.value, y0.value, x1.value, y1.value
    return _box(_on(outer, x0.value, y0.value), _on(outer, x1.value, y1.value))


def _path_lines(obj: object, outer: _Matrix) -> list[tuple[float, float, float, float]]:
    """Axis-aligned boxes of what a path draws: the whole path when it is thin (a rule drawn as a filled
    rectangle), else each straight stroked segment (a grid drawn as one path, cells drawn as rectangles)."""
    x0, y0, x1, y1 = _bounds(obj, outer)
    if min(x1 - x0, y1 - y0) <= _THIN:
        return [(x0, y0, x1, y1)]
    fill, stroke = pdfium_c.c_int(), pdfium_c.FPDF_BOOL()
    pdfium_c.FPDFPath_GetDrawMode(obj, fill, stroke)
    if not stroke.value:
        return []  # a filled area (cell shading): its edges are drawn by the rules, if at all
    matrix = _then(_matrix(obj), outer)
    out = []
    start = prev = None
    x, y = pdfium_c.c_float(), pdfium_c.c_float()
    for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        pdfium_c.FPDFPathSegment_GetPoint(seg, x, y)
        pt = _on(matrix, x.value, y.value)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
            out.append(_box(prev, pt))
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = pt
        prev = pt
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            out.append(_box(pt, start))
            prev = start
    return out


def _box(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float, float, float]:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def _merge_rules(rules: list[_Rule]) -> list[_Rule]:
    """Collinear touching segments (one per cell) -> one rule, so every cell edge has one canonical position."""
    groups: list[list[_Rule]] = []
    for r in sorted(rules, key=lambda r: r.at):
        if groups and r.at - groups[-1][0].at <= _TOL:
            groups[-1].append(r)
        else:
            groups.append([r])
    out: list[_Rule] = []
    for g in groups:
        at = statistics.median(r.at for r in g)
        first = len(out)
        for r in sorted(g, key=lambda r: r.lo):
            if len(out) > first and r.lo <= out[-1].hi + _TOL:
                out[-1] = _Rule(at, out[-1].lo, max(out[-1].hi, r.hi))
            else:
                out.append(_Rule(at, r.lo, r.hi))
    return out


def _grids(hs: list[_Rule], vs: list[_Rule]) -> list[_Grid]:
    """Tables = clusters of crossing rules; a cluster needs two rules each way to enclose a cell."""
    parent = list(range(len(hs) + len(vs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if h.lo - _TOL <= v.at <= h.hi + _TOL and v.lo - _TOL <= h.at <= v.hi + _TOL:
                parent[find(i)] = find(len(hs) + j)
    groups: dict[int, _Grid] = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), _Grid([], [])).hs.append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), _Grid([], [])).vs.append(v)
    # one enclosed cell is a frame (a text box, a page border), not a table: its text stays plain lines
    grids = [g for g in groups.values() if len(g.hs) >= 2 and len(g.vs) >= 2 and len(g.hs) + len(g.vs) > 4]
    return sorted(grids, key=lambda g: -g.box[3])


# -- assembling rows ----------------------------------------------------------------------------------------
def _cell_of(c: _Char, grid: _Grid) -> tuple[float, float]:
    """(top, left) edges of the grid cell that encloses the char; the table's outline where a rule is missing."""
    bx0, by0, bx1, by1 = grid.box
    tops = [r.at for r in grid.hs if r.lo - _TOL <= c.cx <= r.hi + _TOL and r.at >= c.cy]
    lefts = [r.at for r in grid.vs if r.lo - _TOL <= c.cy <= r.hi + _TOL and r.at <= c.cx]
    return (min(tops) if tops else by1), (max(lefts) if lefts else bx0)


def _empty_cells(grid: _Grid) -> set[tuple[float, float]]:
    """(top, left) of every cell the rules enclose, printed or not: an empty cell is a blank value, and a row
    of them must keep its width. A cell merged down from the band above is not a new cell."""
    ys = sorted({round(r.at, 1) for r in grid.hs}, reverse=True)
    out = set()
    for top, bottom in itertools.pairwise(ys):
        mid = (top + bottom) / 2
        xs = sorted({r.at for r in grid.vs if r.lo - _TOL <= mid <= r.hi + _TOL})
        for left, right in itertools.pairwise(xs):
            if right - left <= 2 * _TOL:
                continue
            cx = (left + right) / 2
            probe = _Char("", cx, mid, cx, mid, 0.0)
            cell_top, cell_left = _cell_of(probe, grid)
            if abs(cell_top - top) <= _TOL:
                out.add((cell_top, cell_left))
    return out


def _grid_pieces(chars: list[_Char], grid: _Grid, where: str) -> list[_Piece]:
    cells: dict[tuple[float, float], list[_Char]] = {}
    for c in chars:
        cells.setdefault(_cell_of(c, grid), []).append(c)
    for key in _empty_cells(grid):
        if not any(abs(key[0] - t) <= _TOL and abs(key[1] - x) <= _TOL for t, x in cells):
            cells[key] = []
    rows: dict[float, list[tuple[float, str]]] = {}
    for (top, left), cs in cells.items():
        text = _join_lines([_join(line) for line in _lines(cs)]) if cs else ""
        rows.setdefault(top, []).append((left, text))
    return [
        _Piece(top, [t for _, t in sorted(cs)], f"{where} row {k}", free=False)
        for k, (top, cs) in enumerate(sorted(rows.items(), key=lambda kv: -kv[0]), start=1)
    ]


def _free_pieces(chars: list[_Char], where: str) -> list[_Piece]:
    out = []
    for line in _lines(chars):
        cells = [_join(cell) for cell in _split_cells(line)]
        mid = statistics.median(c.cy for c in line)  # the line's middle: robust to one odd (rotated) glyph
        out.append(_Piece(mid, cells, where, max(c.size for c in line)))
    return out


def _is_page_number(p: _Piece, height: float) -> bool:
    in_margin = p.y < _MARGIN * height or p.y > (1 - _MARGIN) * height
    return (
        p.free
        and in_margin
        and bool(_FOOTER.match(collapse_ws(normalize("".join(p.cells))).replace(" ", "")))
    )


def _area(box: tuple[float, float, float, float]) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _page_pieces(page: pdfium.PdfPage, chars: list[_Char], n: int) -> tuple[list[_Piece], bool]:
    """The page's rows top to bottom, and whether it is a picture only (a scan: images, no text)."""
    hs, vs, has_image = _page_rules(page)
    grids = _grids(hs, vs)
    inside: list[list[_Char]] = [[] for _ in grids]
    free = []
    by_area = sorted(range(len(grids)), key=lambda k: _area(grids[k].box))  # the innermost grid holds a char
    for c in chars:
        k = next((k for k in by_area if grids[k].contains(c)), None)
        (free if k is None else inside[k]).append(c)
    pieces = _free_pieces(free, f"page {n} line")
    for k, (g, cs) in enumerate(zip(grids, inside, strict=True), start=1):
        pieces.extend(_grid_pieces(cs, g, f"page {n} table {k}"))
    height = page.get_height()
    pieces = [p for p in pieces if not _is_page_number(p, height)]
    return sorted(pieces, key=lambda p: -p.y), has_image and len(chars) < _MIN_TEXT_CHARS


def _title(first_page: list[_Piece], meta_title: str, tolerance: float = 0.95) -> str | None:
    """The printed title (the largest text on page 1, lines within `tolerance` of the largest); the
    document's Title property when that is specific."""
    free = [p for p in first_page if p.free and p.size > 0]
    if free:
        big = max(p.size for p in free)
        printed = "".join("".join(p.cells) for p in free if p.size >= tolerance * big)
        if "报告" in printed:
            return collapse_ws(normalize(printed))
    title = collapse_ws(normalize(meta_title))
    return title if title and not _GENERIC_TITLE.match(title.replace(" ", "")) else None


def read_pdf(data: bytes) -> tuple[str, str | None, list[Row]]:
    """(plain text for metadata, title, rows). Raises RejectedInput for a PDF without a text layer."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise RejectedInput(f"unreadable PDF ({e})") from e
    pages: list[list[_Piece]] = []
    scanned = 0
    try:
        try:
            meta_title = pdf.get_metadata_value("Title")
        except UnicodeDecodeError:  # a broken UTF-16 title string: the printed title still counts
            meta_title = ""
        check_pdf_pages(len(pdf))  # caps before laying out any page (issue 13)
        for n in range(1, len(pdf) + 1):
            page = pdf[n - 1]
            check_pdf_page_objects(pdfium_c.FPDFPage_CountObjects(page.raw), n)
            textpage = page.get_textpage()
            pieces, is_scan = _page_pieces(page, _page_chars(textpage), n)
            pages.append(pieces)
            scanned += is_scan
            textpage.close()
            page.close()
    except pdfium.PdfiumError as e:  # a page or its text that will not load
        raise RejectedInput(f"unreadable PDF page ({e})") from e
    finally:
        pdf.close()
    # a scan may carry a typed cover page or a stamp's text: it is a scan when most pages are pictures
    if not any(pages) or scanned * 2 > len(pages):
        raise NeedsOcr("no text layer (needs OCR)")
    rows = []
    lines = []
    for page_pieces in pages:
        for p in page_pieces:
            cells = [collapse_ws(normalize(c)) for c in p.cells]
            rows.append(Row(cells=cells, where=p.where))
            lines.append(" ".join(cells) if p.free else " | ".join(cells))
    text = "\n".join(lines)
    if _garbage(text):
        raise NeedsOcr("text layer unreadable (needs OCR)")
    return text, _title(pages[0], meta_title), rows
