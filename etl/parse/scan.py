"""Scanned pages (image-only PDFs, photos/scans as PNG/JPG/TIFF) -> the same Row stream as every format.

Per page: straighten (the skew that maximises the row profile's contrast), find the table ruling lines by
morphology (dark runs longer than a cell's text can be), erase them, OCR the page once (etl.parse.ocr), and
place each word by the ruling lines: a word lands in the grid cell that encloses it, exactly as a text-layer
PDF's characters do (the grid geometry of etl.parse.pdf is reused, in PDF points). Cells the page pass left
empty but that hold ink are read again as single lines; low-confidence numbers are read again digits-only,
and that second reading is kept as the cell's alternative (etl.parse.ocr_cells uses it).

Each table cell's reading (text, page, box, confidence, alternatives) is kept by row `where`, so the cells the
table reader places can carry their OCR provenance.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from etl.config import load_ocr_settings
from etl.model import RejectedInput
from etl.parse import ocr
from etl.parse.pdf import (
    _TOL,
    _area,
    _Char,
    _empty_cells,
    _free_pieces,
    _Grid,
    _grids,
    _is_page_number,
    _join,
    _join_lines,
    _lines,
    _merge_rules,
    _Piece,
    _Rule,
    _title,
)
from etl.parse.rows import Row, collapse_ws, normalize

LOW_CONF = 0.80  # a cell read below this is low-confidence (docs/ocr.md: every misread measured was below)
_H_RUN_IN = 0.35  # inches: a horizontal dark run this long is a rule (a character's stroke is ~0.1 in)
_V_RUN_IN = 0.20  # inches: vertical rules cross one row (~0.3 in) at least
_MAX_SKEW = 3.0  # degrees searched each way
# a scanned line's size is its ink height, which varies by some percent between lines of one font (glyph
# shapes, blur): over the scanned renderings of make accuracy, title lines measured >= 0.93 of the largest,
# body lines and headings <= 0.80 (a title is 二号, 22 pt; body and headings 三号, 16 pt)
_TITLE_TOLERANCE = 0.87
_INK_PX = 4  # dark pixels per (dpi/100)^2 in a cell's inside that mean something is printed there (a "1")
_NUMBER = re.compile(r"^-?\d[\d,]*(?:\.\d+)?$")
_DIGIT_FIX = str.maketrans(
    {"O": "0", "o": "0", "〇": "0", "l": "1", "I": "1", "|": "1", "，": ",", "。": "."}
)


@dataclass
class CellRead:
    """One table cell as OCR read it: the text, where (page, box in pixels at the page's dpi, y down),
    the confidence, and other readings (a second digits-only pass)."""

    text: str
    page: int
    box: tuple[int, int, int, int]
    conf: float
    alternatives: list[str] = field(default_factory=list)

    def provenance(self) -> str:
        x0, y0, x1, y1 = self.box
        return f"ocr page {self.page} box {x0},{y0},{x1},{y1} conf {self.conf:.2f}"


@dataclass
class ScanRead:
    pages: int = 0
    dpi: int = 0
    skew: list[float] = field(default_factory=list)  # degrees each page was turned back
    skipped: list[int] = field(default_factory=list)  # narrative pages not OCR'd (see read_pages)
    cells: dict[str, list[CellRead]] = field(default_factory=dict)  # row where -> its cells left to right


@dataclass(frozen=True)
class _OcrChar(_Char):
    """A run of recognised glyphs that fall in one cell (or one free text box), in PDF points like _Char."""

    conf: float = 1.0
    glyphs: tuple[ocr.Glyph, ...] = ()


# -- images -------------------------------------------------------------------------------------------------
def _grey(img: Image.Image) -> np.ndarray:
    """The red channel as the grey page: black print stays black, a red seal stamped over it turns pale."""
    if img.mode in ("RGB", "RGBA", "P", "CMYK"):
        return np.asarray(img.convert("RGB"))[:, :, 0].copy()
    return np.asarray(img.convert("L"))


def pdf_pages(data: bytes, dpi: int, max_pages: int) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        n = len(pdf)
        if n > max_pages:
            raise RejectedInput(f"scanned PDF of {n} pages (more than ETL_OCR_MAX_PAGES={max_pages})")
        out = []
        for i in range(n):
            page = pdf[i]
            out.append(_grey(page.render(scale=dpi / 72).to_pil()))
            page.close()
        return out
    finally:
        pdf.close()


def image_pages(data: bytes, max_pages: int) -> tuple[list[np.ndarray], int]:
    """Every frame of an image file (a TIFF may hold several pages) in grey, and its dpi (200 if unstated)."""
    try:
        img = Image.open(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds for a broken file
        raise RejectedInput(f"unreadable image ({e})") from e
    dpi = img.info.get("dpi", (200, 200))[0] or 200
    out = []
    for k in range(getattr(img, "n_frames", 1)):
        if k >= max_pages:
            raise RejectedInput(f"image of more than ETL_OCR_MAX_PAGES={max_pages} pages")
        img.seek(k)
        out.append(_grey(ImageOps.exif_transpose(img)))
    return out, int(round(float(dpi)))


def _dark(gray: np.ndarray) -> np.ndarray:
    """Ink mask by Otsu's threshold (blur and JPEG noise move the paper's and the ink's grey)."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(float)
    p = hist / hist.sum()
    omega, mu = np.cumsum(p), np.cumsum(p * np.arange(256))
    between = (mu[-1] * omega - mu) ** 2 / np.maximum(omega * (1 - omega), 1e-12)
    return gray < min(int(np.argmax(between)), 200)


def deskew(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The page turned back by the angle at which its rows of ink are sharpest (the row-sum variance)."""
    small = Image.fromarray(gray).reduce(4)
    dark = Image.fromarray((~_dark(np.asarray(small))).astype(np.uint8) * 255)

    def score(angle: float) -> float:
        turned = np.asarray(dark.rotate(angle, resample=Image.BILINEAR, fillcolor=255)) < 128
        return float(np.var(turned.sum(axis=1)))

    coarse = max(np.arange(-_MAX_SKEW, _MAX_SKEW + 0.01, 0.5), key=score)
    best = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=score)
    if abs(best) < 0.15:  # within the search's noise: leave a straight page untouched
        return gray, 0.0
    turned = Image.fromarray(gray).rotate(float(best), resample=Image.BICUBIC, fillcolor=255)
    return np.asarray(turned), float(round(best, 2))


def _runs(dark: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels lying on a dark run of at least `length` along the axis: an opening by a line (van Herk's
    running min/max, linear in the pixels whatever the length)."""
    d = dark.view(np.uint8)
    return ndimage.maximum_filter1d(ndimage.minimum_filter1d(d, length, axis=axis), length, axis=axis).view(
        bool
    )


def ruling_lines(dark: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, vertical) rule masks; a one-pixel gap (blur, JPEG) does not break a rule."""
    closed_h = ndimage.maximum_filter1d(dark, 3, axis=1)
    closed_v = ndimage.maximum_filter1d(dark, 3, axis=0)
    return _runs(closed_h, int(_H_RUN_IN * dpi), 1) & dark, _runs(closed_v, int(_V_RUN_IN * dpi), 0) & dark


def _rules(mask: np.ndarray, horizontal: bool, scale: float, height: int) -> list[_Rule]:
    """Connected rule pixels -> rules in PDF points (y up), like a text-layer PDF's path objects."""
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    out = []
    for sl in ndimage.find_objects(labels):
        if sl is None:
            continue
        ys, xs = sl
        if horizontal:
            at = (height - (ys.start + ys.stop) / 2) * scale
            out.append(_Rule(at, xs.start * scale, xs.stop * scale))
        else:
            out.append(
                _Rule(
                    (xs.start + xs.stop) / 2 * scale, (height - ys.stop) * scale, (height - ys.start) * scale
                )
            )
    return _merge_rules(out)


# -- cells --------------------------------------------------------------------------------------------------
def _cell_box(grid: _Grid, cx: float, cy: float) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) in points of the grid cell around a point; the outline where a rule is missing."""
    bx0, by0, bx1, by1 = grid.box
    tops = [r.at for r in grid.hs if r.lo - _TOL <= cx <= r.hi + _TOL and r.at >= cy]
    bottoms = [r.at for r in grid.hs if r.lo - _TOL <= cx <= r.hi + _TOL and r.at < cy]
    lefts = [r.at for r in grid.vs if r.lo - _TOL <= cy <= r.hi + _TOL and r.at <= cx]
    rights = [r.at for r in grid.vs if r.lo - _TOL <= cy <= r.hi + _TOL and r.at > cx]
    return (
        max(lefts) if lefts else bx0,
        max(bottoms) if bottoms else by0,
        min(rights) if rights else bx1,
        min(tops) if tops else by1,
    )


def _numeric(text: str) -> str | None:
    """A cell's text as a number string when it reads as one (common letter-for-digit swaps undone)."""
    t = text.replace(" ", "").translate(_DIGIT_FIX)
    return t if _NUMBER.match(t) else None


@dataclass
class _Page:
    gray: np.ndarray  # the straightened page, rules erased
    dark: np.ndarray
    n: int
    scale: float  # points per pixel
    height: int

    def px(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = box
        s = self.scale
        return int(x0 / s), int(self.height - y1 / s), int(x1 / s), int(self.height - y0 / s)

    def inside(self, box: tuple[int, int, int, int]) -> tuple[slice, slice]:
        x0, y0, x1, y1 = box
        m = max(3, int(2 / self.scale))  # keep clear of the rule's remains
        return slice(max(y0 + m, 0), max(y1 - m, y0 + m)), slice(max(x0 + m, 0), max(x1 - m, x0 + m))


def _alternatives(cs: list[_OcrChar]) -> list[str]:
    """Other readings of a number: one uncertain glyph replaced by the model's second choice there (or
    dropped, when that choice is the blank), most likely first."""
    glyphs = sorted((g for c in cs for g in c.glyphs), key=lambda g: g.x)
    out: list[tuple[float, str]] = []
    for i, g in enumerate(glyphs):
        if g.prob >= 0.98 or (g.second and not (g.second.isdigit() or g.second in ".,")):
            continue
        text = "".join(x.text if j != i else g.second for j, x in enumerate(glyphs))
        num = _numeric(text)
        if num is not None:
            out.append((g.second_prob, num))
    return [t for _, t in sorted(out, reverse=True)]


def _lone_mark(cs: list[_OcrChar]) -> bool:
    """A cell read as one lone mark (".", ","): a faint or broken digit, usually a 0."""
    glyphs = [g for c in cs for g in c.glyphs]
    return len(glyphs) == 1 and glyphs[0].text in ".,。，"


def _grid_rows(page: _Page, chars: list[_OcrChar], grid: _Grid, where: str, read: ScanRead) -> list[_Piece]:
    cells: dict[tuple[float, float, float, float], list[_OcrChar]] = {}
    for c in chars:
        cells.setdefault(_cell_box(grid, c.cx, c.cy), []).append(c)
    for top, left in _empty_cells(grid):
        probe = _cell_box(grid, left + 2 * _TOL, top - 2 * _TOL)
        if not any(abs(k[3] - probe[3]) <= _TOL and abs(k[0] - probe[0]) <= _TOL for k in cells):
            cells[probe] = []
    reads: dict[tuple[float, float, float, float], CellRead] = {}
    again: list[tuple[float, float, float, float]] = []
    for key, cs in cells.items():
        box = page.px(key)
        if cs:
            text = _join_lines([_join(line) for line in _lines(cs)])
            num = _numeric(text)
            conf = min(c.conf for c in cs)
            reads[key] = CellRead(num if num is not None else text, page.n, box, conf)
            if num is not None:
                reads[key].alternatives = _alternatives(cs)
            elif _lone_mark(
                cs
            ):  # some digit, unread: 0 at no confidence, the identities choose among all ten
                reads[key] = CellRead("0", page.n, box, 0.0, alternatives=[str(d) for d in range(1, 10)])
        else:
            ys, xs = page.inside(box)
            ink = page.dark[ys, xs]
            if ink.sum() >= _INK_PX * (72 / page.scale / 100) ** 2:
                again.append(key)  # the detector passed it over: a lone digit in a wide cell
            reads[key] = CellRead("", page.n, box, 1.0)
    if again:
        crops = [_ink_crop(page, reads[key].box) for key in again]
        for key, line in zip(again, ocr.recognize(crops), strict=True):
            r = reads[key]
            text = line.text.strip()
            num = _numeric(text)
            glyph = _OcrChar(text, 0, 0, 0, 0, 0, conf=line.conf, glyphs=line.glyphs)
            reads[key] = CellRead(num if num is not None else text, r.page, r.box, line.conf if text else 0.0)
            if num is not None:
                reads[key].alternatives = _alternatives([glyph])
    rows: dict[float, list[tuple[float, CellRead]]] = {}
    for key, r in reads.items():
        rows.setdefault(round(key[3], 1), []).append((key[0], r))
    merged: dict[float, list[tuple[float, CellRead]]] = {}
    for top in sorted(rows, reverse=True):  # tops a rule's thickness apart are the same row
        near = next((t for t in merged if abs(t - top) <= _TOL), None)
        merged.setdefault(near if near is not None else top, []).extend(rows[top])
    out = []
    for k, (top, cs) in enumerate(sorted(merged.items(), key=lambda kv: -kv[0]), start=1):
        row_where = f"{where} row {k}"
        ordered = [r for _, r in sorted(cs, key=lambda t: t[0])]
        read.cells[row_where] = ordered
        out.append(_Piece(top, [r.text for r in ordered], row_where, free=False))
    return out


def _ink_crop(page: _Page, box: tuple[int, int, int, int]) -> np.ndarray:
    """The inked part of a cell's inside, with a margin: the recogniser wants one line, not a mostly white box."""
    ys, xs = page.inside(box)
    ink = page.dark[ys, xs]
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return page.gray[ys, xs]
    m = 6
    y0, y1 = max(ys.start + rows[0] - m, 0), ys.start + rows[-1] + 1 + m
    x0, x1 = max(xs.start + cols[0] - m, 0), xs.start + cols[-1] + 1 + m
    return page.gray[y0:y1, x0:x1]


@dataclass
class _Prepared:
    gray: np.ndarray  # straightened
    angle: float
    dark: np.ndarray
    rules: np.ndarray  # the rule pixels (dilated by one)
    grids: list[_Grid]


def _prepare(gray: np.ndarray, dpi: int) -> _Prepared:
    gray, angle = deskew(gray)
    dark = _dark(gray)
    hmask, vmask = ruling_lines(dark, dpi)
    height, scale = gray.shape[0], 72 / dpi
    grids = _grids(_rules(hmask, True, scale, height), _rules(vmask, False, scale, height))
    # only the rules of tables are erased: a large title's long strokes are runs as long as a short rule
    in_grid = np.zeros_like(dark)
    m = int(4 / scale)
    for g in grids:
        x0, y0, x1, y1 = g.box
        in_grid[
            max(int(height - y1 / scale) - m, 0) : int(height - y0 / scale) + m,
            max(int(x0 / scale) - m, 0) : int(x1 / scale) + m,
        ] = True
    rules = ndimage.binary_dilation((hmask | vmask) & in_grid, iterations=1)
    return _Prepared(gray, angle, dark, rules, grids)


def _ink_height(dark: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """The height of a text line's ink in pixels: its font size, read more steadily than from the detector's
    box, whose margin varies with the glyphs (two title lines of one size came out 17 and 19 pt)."""
    x0, y0, x1, y1 = box
    per_row = dark[max(y0, 0) : y1, max(x0, 0) : x1].sum(axis=1)
    # rows a tenth as inked as the fullest: the glyphs' top and bottom strokes, not a bracket's thin tips
    rows = np.flatnonzero(per_row >= max(2, 0.1 * per_row.max(initial=0)))
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


def _box_chars(
    box: tuple[int, int, int, int],
    line: ocr.Line,
    x_off: int,
    page: _Page,
    grids: list[_Grid],
    by_area: list[int],
) -> tuple[int | None, list[_OcrChar]]:
    """A recognised text box as chars in points: one per run of glyphs in the same grid cell (the ruling
    lines split a box the detector drew across a cell edge); a box outside any grid stays one char."""
    x0, y0, x1, y1 = box
    s, height = page.scale, page.height
    top, bottom = (height - y0) * s, (height - y1) * s
    size = (y1 - y0) * s
    mid = _Char("", x0 * s, bottom, x1 * s, top, size)
    k = next((k for k in by_area if grids[k].contains(mid)), None)
    if k is None or not line.glyphs:
        text = line.text.strip()
        if k is None:
            size = _ink_height(page.dark, box) * s or size
        return k, [
            _OcrChar(text, x0 * s, bottom, x1 * s, top, size, conf=line.conf, glyphs=line.glyphs)
        ] if text else []
    half = 0.3 * (y1 - y0)
    runs: list[tuple[tuple[float, float, float, float], list[ocr.Glyph]]] = []
    cy = (top + bottom) / 2
    for g in line.glyphs:
        if not g.text.strip():
            continue
        key = _cell_box(grids[k], (x_off + g.x) * s, cy)
        if runs and runs[-1][0] == key:
            runs[-1][1].append(g)
        else:
            runs.append((key, [g]))
    out = []
    for _, gs in runs:
        gx0, gx1 = (x_off + gs[0].x - half) * s, (x_off + gs[-1].x + half) * s
        text = "".join(g.text for g in gs)
        out.append(
            _OcrChar(text, gx0, bottom, gx1, top, size, conf=min(g.prob for g in gs), glyphs=tuple(gs))
        )
    return k, out


def _page_pieces(prep: _Prepared, n: int, dpi: int, read: ScanRead) -> list[_Piece]:
    height, scale = prep.gray.shape[0], 72 / dpi
    clean = prep.gray.copy()
    clean[prep.rules] = 255  # rules erased: the recogniser reads a rule as 1 or |
    page = _Page(clean, prep.dark & ~prep.rules, n, scale, height)
    grids = prep.grids
    by_area = sorted(range(len(grids)), key=lambda k: _area(grids[k].box))  # the innermost grid holds a box
    boxes = ocr.detect(clean, dpi)
    pad = 3
    crops, offs = [], []
    for x0, y0, x1, y1 in boxes:
        cx0, cy0 = max(x0 - pad, 0), max(y0 - pad, 0)
        crops.append(clean[cy0 : y1 + pad, cx0 : x1 + pad])
        offs.append(cx0)
    inside: list[list[_OcrChar]] = [[] for _ in grids]
    free: list[_Char] = []
    for box, line, off in zip(boxes, ocr.recognize(crops), offs, strict=True):
        k, cs = _box_chars(box, line, off, page, grids, by_area)
        (free if k is None else inside[k]).extend(cs)
    pieces = _free_pieces(free, f"page {n} line") if free else []
    for k, (g, cs) in enumerate(zip(grids, inside, strict=True), start=1):
        pieces.extend(_grid_rows(page, cs, g, f"page {n} table {k}", read))
    pieces = [p for p in pieces if not _is_page_number(p, height * scale)]
    return sorted(pieces, key=lambda p: -p.y)


def read_pages(
    images: list[np.ndarray], dpi: int, all_pages: bool = False
) -> tuple[str, str | None, list[Row], ScanRead]:
    """(plain text for metadata, title, rows, the OCR readings) of page images, in the shape of read_pdf.

    OCR is the cost (1-2 s a page): unless `all_pages`, it reads the first page (title, issuer, year) and the
    pages with ruled tables, and skips narrative pages in between (their figures only feed warnings); a
    document with no ruled table at all is read whole (its tables are unruled)."""
    read = ScanRead(pages=len(images), dpi=dpi)
    prepared = [_prepare(img, dpi) for img in images]
    read.skew = [p.angle for p in prepared]
    tables = any(p.grids for p in prepared)
    pages = []
    for n, prep in enumerate(prepared, start=1):
        if all_pages or n == 1 or prep.grids or not tables:
            pages.append(_page_pieces(prep, n, dpi, read))
        else:
            read.skipped.append(n)
    rows, lines = [], []
    for page_pieces in pages:
        for p in page_pieces:
            cells = [collapse_ws(normalize(c)) for c in p.cells]
            rows.append(Row(cells=cells, where=p.where))
            lines.append(" ".join(cells) if p.free else " | ".join(cells))
    if not any(r.cells for r in rows):
        raise RejectedInput("no text found by OCR")
    return "\n".join(lines), _title(pages[0], "", _TITLE_TOLERANCE) if pages else None, rows, read


def read_scan(data: bytes, file_format: str) -> tuple[str, str | None, list[Row], ScanRead]:
    """A scanned PDF or an image file, through OCR, bounded by ETL_OCR_DPI / ETL_OCR_MAX_PAGES."""
    cfg = load_ocr_settings()
    if file_format == "pdf":
        return read_pages(pdf_pages(data, cfg.dpi, cfg.max_pages), cfg.dpi, cfg.all_pages)
    images, dpi = image_pages(data, cfg.max_pages)
    return read_pages(images, dpi, cfg.all_pages)
