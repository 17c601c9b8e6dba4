"""Tables from crawler text dumps whose cell boundaries are lost: "规范性文件898989", "予以公开270020130".

Each template row label is followed by one run of glued digits. 表三 and 表四 carry identities (a row's 总计 is
the sum of its other cells; the columns add up across rows), so a run is segmented by enumeration and a reading
is kept only when the printed digits plus the identities leave exactly one. 表二 has no identities: a glued
multi-cell row is read only when its digits split one way at all. Nothing is guessed: a cell the text does not
determine is None, with the raw digits in `unresolved`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from etl import spec
from etl.model import RejectedInput
from etl.parse.rows import Row
from etl.parse.tables import _T2_PATTERNS, _T3_PATTERNS, TableRead, detect_template
from etl.parse.values import Number

__all__ = ["looks_glued", "read_glued"]

Value = Number | None  # None: a printed blank mark ("/", "-", "—")
Reading = tuple[Value, ...]

MAX_DIGITS = 6  # per 表三/表四 cell: bounds the enumeration (no agency reports a million requests)
_T2_MAX_DIGITS = 9  # 表二 counts
_AMOUNT_MAX_DIGITS = 20  # 表二 amounts (元 with decimals)
_MAX_READINGS = 64  # a row with more identity-consistent readings than this is left unresolved
_SEARCH_BUDGET = 50_000  # nodes of the column-identity search before giving up (unresolved, never guessed)

# A run of glued values: digits with the spaces, blank marks, signs, decimal points and thousands commas
# printed among them, or the newlines/'|'/tabs of text that keeps its cell borders.
_RUN = re.compile(r"(?:\d|(?<=\d)[.,](?=\d)|[\s|/\\—–+-])+")
_BLANK = frozenset("/\\—–")
_CELL_BORDER = re.compile(r"[\n\r\t|]+")  # text that keeps cell borders: no cell spans them, none is glued
_JOIN = "#"  # joins the runs of rows read as one (表四 printed row by row): a border, not a glue
_UNIT_AFTER = re.compile(r"^\s*(万元|元)")
_UNIT_IN_LABEL = re.compile(r"单位\W{0,2}(万元|元)|\((万元|元)\)")
_T2_HEADER = re.compile(r"第二十条第\W?[一二三四五六七八九十\d]+\W?项\s*信息内容")
_T4_HEAD = re.compile(r"复议|行政诉讼")
_T3_END = re.compile(r"[五六]、|存在的主要问题|改进情况|。")
_T4_END = re.compile(r"[五六]、|存在的主要问题|改进情况|。|注[:：]")
_WS = re.compile(r"\s+")

# looks_glued: a 表三 label directly followed by a 7+ digit run (7 cells with no separator between them)
_GLUED_ROW = re.compile(
    "(?:"
    + "|".join(p for _, p in _T3_PATTERNS if "^" not in p and "$" not in p)
    + r")[^\d|\t\n]{0,24}?\d{7,}"
)

# Row labels as keywords found anywhere in the text before a run. Several labels can precede one run (a row
# printed with empty cells leaves no digits), and the row is the label nearest the digits: the last keyword.
_T3_KEYS = tuple((k, re.compile(p.replace("^", "").replace("$", ""))) for k, p in _T3_PATTERNS)
_T2_KEYS = tuple((k, re.compile(p)) for k, p in _T2_PATTERNS)
_T3_TAIL = 30  # label text allowed after the keyword: "(区分处理的,只计这一情形,不计其他情形)"
_T2_TAIL = 12  # "事项", "(件)"

_CELL_RE = {
    "count": re.compile(r"[b-]|0|[1-9]\d*"),
    "signed": re.compile(r"[b-]|0|[-+]?[1-9]\d*"),  # 2019 表二 本年增/减
    "amount": re.compile(r"[b-]|(?:0|[1-9]\d*)(?:\.\d+)?"),
}


class _Bad:
    """Sentinel: not a cell."""


_BAD = _Bad()


# -- runs ------------------------------------------------------------------------------------------------


class _Run:
    """A glued run as a string over digits, '.', '-', 'b' (a blank mark) with the cuts it allows.

    must: positions where a cell boundary is printed (a space, a row join, either side of a blank mark, before
    '-');
    cut_ok: positions a boundary may fall at (not inside "2.52", "1,234").
    """

    def __init__(self, raw: str, spaces_are_cuts: bool) -> None:
        chars: list[str] = []
        must: set[int] = set()
        join: set[int] = set()
        self.has_spaces = False
        i = 0
        while i < len(raw):
            c = raw[i]
            if c.isspace():
                self.has_spaces = True
                if spaces_are_cuts:
                    must.add(len(chars))
            elif c == _JOIN:
                must.add(len(chars))
            elif c == ",":
                join.add(len(chars))
            elif c in _BLANK:
                while i + 1 < len(raw) and raw[i + 1] == c and c in "—–":
                    i += 1  # "——" is one mark
                must.update((len(chars), len(chars) + 1))
                chars.append("b")
            elif c in "-+":
                must.add(len(chars))  # a sign starts a cell; a lone '-' is a blank mark
                chars.append(c)
            else:
                chars.append(c)
            i += 1
        s = "".join(chars)
        n = len(s)
        self.chars = s
        self.cut_ok = tuple(
            i in (0, n) or (i not in join and s[i - 1] != "." and s[i] != ".") for i in range(n + 1)
        )
        nxt, self.next_must = n, [n] * (n + 1)
        for i in range(n, -1, -1):
            self.next_must[i] = nxt
            if i in must and i > 0:
                nxt = i
        self.ndig = [0] * (n + 1)
        for i, ch in enumerate(s):
            self.ndig[i + 1] = self.ndig[i] + ch.isdigit()
        self._cells: dict[tuple[int, int, str], Value | _Bad] = {}

    def digits(self, a: int, b: int) -> int:
        return self.ndig[b] - self.ndig[a]

    def cell(self, a: int, b: int, kind: str) -> Value | _Bad:
        key = (a, b, kind)
        if key not in self._cells:
            self._cells[key] = self._cell(a, b, kind)
        return self._cells[key]

    def _cell(self, a: int, b: int, kind: str) -> Value | _Bad:
        if not (self.cut_ok[a] and self.cut_ok[b]) or b > self.next_must[a]:
            return _BAD
        s = self.chars[a:b]
        if not _CELL_RE[kind].fullmatch(s):
            return _BAD
        if s in ("b", "-"):
            return None
        return float(s) if "." in s else int(s)


def _count(run: _Run, kinds: Sequence[str], maxd: int) -> tuple[int, Reading | None]:
    """How many ways (0, 1 or 2 = several) the run splits into len(kinds) cells; the reading when one."""
    n, k = len(run.chars), len(kinds)
    memo: dict[tuple[int, int], int] = {}

    def ways(p: int, c: int) -> int:
        if c == k:
            return int(p == n)
        if (p, c) not in memo:
            total = 0
            limit = _AMOUNT_MAX_DIGITS if kinds[c] == "amount" else maxd
            for q in range(p + 1, run.next_must[p] + 1):
                if run.digits(p, q) > limit or n - q < k - c - 1:
                    break
                if run.cell(p, q, kinds[c]) is not _BAD:
                    total += ways(q, c + 1)
                    if total >= 2:
                        break
            memo[(p, c)] = min(total, 2)
        return memo[(p, c)]

    found = ways(0, 0)
    if found != 1:
        return found, None
    out: list[Value] = []
    p = 0
    for c in range(k):
        for q in range(p + 1, run.next_must[p] + 1):
            v = run.cell(p, q, kinds[c])
            if not isinstance(v, _Bad) and ways(q, c + 1) == 1:
                out.append(v)
                p = q
                break
    return 1, tuple(out)


def _parts(run: _Run, a: int, e: int, k: int, rem: int) -> Iterator[Reading]:
    """Split run[a:e] into k count cells adding up to rem (so none has more digits than rem)."""
    if k == 1:
        v = run.cell(a, e, "count")
        if not isinstance(v, _Bad) and (v or 0) == rem:
            yield (v,)
        return
    nd = run.ndig
    width = len(str(rem))
    for q in range(a + 1, min(run.next_must[a], e - (k - 1)) + 1):
        if nd[q] - nd[a] > width:
            break
        v = run.cell(a, q, "count")
        if isinstance(v, _Bad):
            continue
        if (v or 0) > rem:
            break  # longer cells from here are larger still
        left = rem - int(v or 0)
        if nd[e] - nd[q] > (k - 1) * len(str(left)):
            continue  # some later cell would need more digits than what is left to add up
        for rest in _parts(run, q, e, k - 1, left):
            yield (v, *rest)


def _block(run: _Run, a: int, b: int, k: int) -> list[Reading]:
    """Readings of run[a:b] as k count cells whose last is the sum of the others (the suffix is the 总计)."""
    out: list[Reading] = []
    for s in range(b - 1, a + k - 2, -1):
        if run.digits(s, b) > MAX_DIGITS:
            break
        total = run.cell(s, b, "count")
        if isinstance(total, _Bad) or run.digits(a, s) > (k - 1) * len(str(total or 0)):
            continue
        out.extend((*r, total) for r in _parts(run, a, s, k - 1, int(total or 0)))
    return out


def _blocks(run: _Run, sizes: Sequence[int]) -> list[Reading]:
    """Readings of the whole run as consecutive identity blocks (表三 row: (7,); 表四: (5, 5, 5))."""
    n = len(run.chars)
    memo: dict[tuple[int, int], list[Reading]] = {}

    def block(a: int, b: int, k: int) -> list[Reading]:
        if (a, b) not in memo:
            memo[(a, b)] = _block(run, a, b, k)
        return memo[(a, b)]

    def rec(a: int, i: int) -> Iterator[Reading]:
        if i == len(sizes) - 1:
            yield from block(a, n, sizes[i])
            return
        for b in range(a + sizes[i], n - sum(sizes[i + 1 :]) + 1):
            if run.digits(a, b) > MAX_DIGITS * sizes[i]:
                break
            if run.cut_ok[b]:
                for r in block(a, b, sizes[i]):
                    for tail in rec(b, i + 1):
                        yield (*r, *tail)

    out: list[Reading] = []
    for r in rec(0, 0):
        out.append(r)
        if len(out) > _MAX_READINGS:
            break
    return out


@dataclass(frozen=True)
class _Split:
    readings: tuple[Reading, ...]  # unique segmentation, or the identity-consistent readings
    ways: int  # segmentations of the digits alone: 0, 1, 2 (= several)


def _split_cells(raw: str, kinds: Sequence[str], maxd: int) -> _Split:
    """A run whose values stand on their own lines or between '|'/tabs: those cells are whole, so each piece
    is one cell or the row is not read (cells left empty vanish from such text; their place is unknown)."""
    tokens = [t.strip() for t in re.split(f"{_CELL_BORDER.pattern}|{_JOIN}", raw) if t.strip()]
    if len(tokens) != len(kinds) or any(_WS.search(t) for t in tokens):
        return _Split((), 0)
    cells = [_count(_Run(t, spaces_are_cuts=True), [k], maxd) for t, k in zip(tokens, kinds, strict=True)]
    if any(only is None for _, only in cells):
        return _Split((), 0)
    return _Split((tuple(only[0] for _, only in cells if only is not None),), 1)


def _split(raw: str, kinds: Sequence[str], maxd: int, blocks: Sequence[int] | None = None) -> _Split:
    """The readings of a run as len(kinds) cells: the only segmentation of its digits, else (with blocks) those
    where each block's last cell is the sum of the others."""
    return _split_cached(raw, tuple(kinds), maxd, tuple(blocks) if blocks else None)


@lru_cache(maxsize=16384)
def _split_cached(raw: str, kinds: tuple[str, ...], maxd: int, blocks: tuple[int, ...] | None) -> _Split:
    # the same runs recur across reports ("0000000" rows, whole zero blocks): segment each once per process
    if _CELL_BORDER.search(raw):
        return _split_cells(raw, kinds, maxd)
    run = _Run(raw, spaces_are_cuts=True)
    ways, only = _count(run, kinds, maxd)
    if ways == 0 and run.has_spaces:  # the spacing cannot be cell borders: read the digits alone
        run = _Run(raw, spaces_are_cuts=False)
        ways, only = _count(run, kinds, maxd)
    if only is not None:  # the digits split one way: that is what is printed, identities or not
        return _Split((only,), 1)
    if ways == 0 or not blocks:
        return _Split((), ways)
    return _Split(tuple(_blocks(run, blocks)), ways)


# -- the text as (label, run) pieces ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    label: str  # the text since the previous run
    raw: str  # the run as printed (stripped)
    start: int  # offset of the run in the text
    after: str  # a little of the text after the run (a unit)

    @property
    def key_text(self) -> str:
        """The end of the label, compacted: where a row label sits (headers before it are not the row)."""
        return _WS.sub("", self.label)[-60:]

    @property
    def digits(self) -> int:
        return sum(c.isdigit() for c in self.raw)


def _pieces(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    last = 0
    for m in _RUN.finditer(text):
        s, e = m.span()
        raw = m.group()
        nxt = text[e : e + 2]
        if nxt[:1] == ")":
            continue  # "(1)": numbering inside a label
        if nxt[:1] in (".", "、") and raw[-1:].isdigit() and not nxt[1:2].isdigit():
            raw, e = raw[:-1], e - 1  # "…00000002.其他法律…": the last digit numbers the next label
        if not any(c.isdigit() for c in raw):
            continue
        pieces.append(_Piece(text[last:s], raw.strip(), s, text[e : e + 8]))
        last = e
    return pieces


def _last_key(label: str, keys: Sequence[tuple[str, re.Pattern[str]]], tail: int) -> str | None:
    """The key of the keyword starting last in the label (earlier keys win ties), if it ends near the end."""
    best: tuple[int, int, str] | None = None
    for rank, (key, rx) in enumerate(keys):
        for m in rx.finditer(label):
            if len(label) - m.end() <= tail and (best is None or (m.start(), -rank) > best[:2]):
                best = (m.start(), -rank, key)
    return best[2] if best else None


@lru_cache(maxsize=65536)
def _t3_key(label: str, template: str) -> str | None:
    rows = spec.t3_rows(template)
    keys = [(k, rx) for k, rx in _T3_KEYS if k in rows or (k == "other" and "other_other" in rows)]
    key = _last_key(label, keys, _T3_TAIL)
    return "other_single" if key == "other" and "other" not in rows else key  # 2021 report, old single （六）


@lru_cache(maxsize=65536)
def _t2_key(label: str, template: str) -> str | None:
    rows = dict(spec.t2_rows(template))
    return _last_key(label, [(k, rx) for k, rx in _T2_KEYS if k in rows], _T2_TAIL)


def _is_full_row(piece: _Piece) -> bool:
    return piece.digits >= len(spec.APPLICANT_COLUMNS)


# -- 表三 ----------------------------------------------------------------------------------------------------


def _t3_start(pieces: list[_Piece], template: str) -> int | None:
    """The first 表三 row: a label of the template followed by a run long enough for 7 cells."""
    fallback = None
    for i, p in enumerate(pieces):
        if not _is_full_row(p):
            continue
        key = _t3_key(p.key_text, template)
        if key == "new_received":
            return i
        if key and fallback is None:
            fallback = i
    return fallback


def _t3_walk(pieces: list[_Piece], i0: int, template: str) -> tuple[dict[str, int], int, list[str]]:
    """Row key -> piece index for the 表三 rows (template order), the index after them, notes."""
    rows = spec.t3_rows(template)
    order = {k: n for n, k in enumerate(rows)}
    order["other_single"] = order.get("other_no_correction", len(rows))
    found: list[tuple[int, str | None]] = []
    last = -1
    i = i0
    while i < len(pieces):
        p = pieces[i]
        label = _WS.sub("", p.label)
        if i > i0 and (_T4_HEAD.search(label) or _T3_END.search(label) or len(label) > 120):
            break
        key = _t3_key(p.key_text, template)
        if key is not None and order[key] > last:
            found.append((i, key))
            last = order[key] + (2 if key == "other_single" else 0)
        else:
            found.append((i, None))
        i += 1
        if key == "carried_forward":
            break
    placed = _by_position(found, rows, pieces)
    notes = [
        f"表三 {k}: label not recognised ({pieces[j].key_text[-20:]!r}), placed by row order"
        for k, j in placed.items()
    ]
    return {k: j for j, k in found if k is not None} | placed, i, notes


def _gaps(found: list[tuple[int, str | None]], rows: Sequence[str]) -> Iterator[tuple[list[int], list[str]]]:
    """Runs of unrecognised pieces with the template rows missing between the recognised neighbours."""
    idx = {k: n for n, k in enumerate(rows)}
    prev, unknown = -1, []
    for i, key in [*found, (-1, "<end>")]:
        if key is None:
            unknown.append(i)
            continue
        at = len(rows) if key == "<end>" else idx.get(key, idx.get("other_no_correction", 0))
        if unknown:
            yield unknown, list(rows[prev + 1 : at])
        prev = at if key != "other_single" else at + 2
        unknown = []


def _by_position(
    found: list[tuple[int, str | None]], rows: Sequence[str], pieces: list[_Piece]
) -> dict[str, int]:
    """A row whose label was not recognised (typo, odd wording) is placed by template order, but only when the
    unrecognised full rows exactly fill the rows missing between two recognised ones."""
    out: dict[str, int] = {}
    for unknown, missing in _gaps(found, rows):
        full = [i for i in unknown if _is_full_row(pieces[i])]
        if missing and len(full) == len(missing):
            out.update(zip(missing, full, strict=True))
    return out


_Ident = tuple[tuple[str, ...], tuple[str, ...]]  # sum of the left rows == sum of the right rows, per column


def _identities(present: set[str], template: str) -> list[_Ident]:
    """The column identities whose rows are all present."""
    out = []
    outcomes = list(spec.t3_outcome_rows(template))
    if "other_single" in present:
        outcomes = [r for r in outcomes if not r.startswith("other_")] + ["other_single"]
    if "total" in present and all(r in present for r in outcomes):
        out.append((tuple(outcomes), ("total",)))
    b = ("new_received", "carried_over", "total", "carried_forward")
    if all(r in present for r in b):
        out.append((b[:2], b[2:]))
    return out


class _Check:
    """One identity during the search: per side, the column sums of the rows chosen so far and how many of its
    ambiguous rows are still open."""

    def __init__(self, ident: _Ident, chosen: dict[str, Reading], amb: set[str]) -> None:
        width = len(spec.APPLICANT_COLUMNS)
        self.sums = [_col_sums([chosen[k] for k in side if k not in amb], width) for side in ident]
        self.side = {k: i for i, side in enumerate(ident) for k in side if k in amb}
        self.left_open = [sum(1 for k in side if k in amb) for side in ident]

    def choose(self, key: str, reading: Reading, sign: int) -> None:
        i = self.side[key]
        sums = self.sums[i]
        for c, v in enumerate(reading):
            sums[c] += sign * (v or 0)
        self.left_open[i] -= sign

    def may_hold(self) -> bool:
        """Equal sums once every row is chosen; before that (counts are non-negative) the chosen part of one
        side cannot exceed a fully chosen other side."""
        (a, b), (open_a, open_b) = self.sums, self.left_open
        if not open_a and not open_b:
            return all(abs(x - y) < 1e-9 for x, y in zip(a, b, strict=True))
        if not open_a:
            return all(y <= x + 1e-9 for x, y in zip(a, b, strict=True))
        if not open_b:
            return all(x <= y + 1e-9 for x, y in zip(a, b, strict=True))
        return True


def _col_sums(rows: list[Reading], width: int) -> list[float]:
    out = [0.0] * width
    for r in rows:
        for c, v in enumerate(r):
            out[c] += v or 0
    return out


def _search(
    cands: dict[str, tuple[Reading, ...]], amb: list[str], ids: list[_Ident]
) -> tuple[dict[str, int], str | None]:
    """Try every combination of the ambiguous rows' readings against the identities; a row is decided when all
    consistent combinations agree on it."""
    fixed = {k: rs[0] for k, rs in cands.items() if len(rs) == 1}
    checks = [_Check(i, fixed, set(amb)) for i in ids]
    checks_of = {k: [c for c in checks if k in c.side] for k in amb}
    seen: dict[str, set[int]] = {k: set() for k in amb}
    picks: list[int] = []
    budget = [_SEARCH_BUDGET]

    def rec(d: int) -> bool:  # False: stop (budget spent, or every row already seen two ways)
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if d == len(amb):
            for k, j in zip(amb, picks, strict=True):
                seen[k].add(j)
            return not all(len(s) > 1 for s in seen.values())
        key = amb[d]
        for j, r in enumerate(cands[key]):
            for c in checks_of[key]:
                c.choose(key, r, 1)
            go_on = True
            if all(c.may_hold() for c in checks_of[key]):
                picks.append(j)
                go_on = rec(d + 1)
                picks.pop()
            for c in checks_of[key]:
                c.choose(key, r, -1)
            if not go_on:
                return False
        return True

    rec(0)
    if budget[0] < 0:
        return {}, f"表三 column-identity search too large over {', '.join(amb)}; left unresolved"
    if not any(seen.values()):
        return {}, f"表三 column identities hold for no reading of {', '.join(amb)} (source error?)"
    return {k: next(iter(s)) for k, s in seen.items() if len(s) == 1}, None


def _column_search(cands: dict[str, tuple[Reading, ...]], template: str) -> tuple[dict[str, int], list[str]]:
    """Ambiguous row -> the index of its only reading consistent with the column identities, plus notes.

    Identities sharing no ambiguous row are searched apart, so one the source breaks cannot block another."""
    amb = {k for k, rs in cands.items() if len(rs) > 1}
    groups: list[tuple[set[str], list[_Ident]]] = []
    for ident in _identities(set(cands), template):
        rows = amb & {*ident[0], *ident[1]}
        if rows:
            joined = [g for g in groups if g[0] & rows]
            groups = [g for g in groups if g not in joined]
            groups.append((rows.union(*(g[0] for g in joined)), [ident, *(i for g in joined for i in g[1])]))
    order = list(cands)
    picked: dict[str, int] = {}
    notes: list[str] = []
    for rows, ids in groups:
        # the totals first: they bound the partial sums of the rows that add up to them
        amb_order = sorted(rows, key=lambda k: (k != "total", order.index(k)))
        found, note = _search(cands, amb_order, ids)
        picked |= found
        notes += [note] if note else []
    return picked, notes


# -- the reader ----------------------------------------------------------------------------------------------


class _Glued:
    def __init__(self, text: str, template: str) -> None:
        self.t = template
        self.pieces = _pieces(text)
        self.text = text
        self.out = TableRead(template=template, cells=dict.fromkeys(spec.codes(template)))

    def put(self, codes: Sequence[str], reading: Reading, where: str) -> None:
        for code, v in zip(codes, reading, strict=True):
            self.out.unresolved.pop(code, None)
            self.out.cells[code] = 0 if v is None else v
            if v is None:
                self.out.blank_cells.append(code)
            self.out.provenance[code] = where

    def unresolve(self, codes: Sequence[str], reason: str) -> None:
        for code in codes:
            self.out.unresolved[code] = reason

    def read(self) -> TableRead:
        i0 = _t3_start(self.pieces, self.t)
        if i0 is None:
            raise RejectedInput("tables not found (no 表三 row label followed by its digits)")
        self.read_t2(self.pieces[:i0], self.pieces[i0].start)
        end = self.read_t3(i0)
        self.read_t4(end)
        for code, value in self.out.cells.items():
            if value is None and code not in self.out.unresolved:
                self.out.unresolved[code] = "not found in the glued text"
        return self.out

    # 表二 ------------------------------------------------------------------------------------------------
    def read_t2(self, pieces: list[_Piece], t3_at: int) -> None:
        # from the 表二 heading (or its first column header): narrative before it mentions the same items
        start = self.text.rfind("主动公开政府信息情况", 0, t3_at)
        if start < 0:
            header = _T2_HEADER.search(self.text, 0, t3_at)
            if header is None:
                return
            start = header.start()
        cols = dict(spec.t2_rows(self.t))
        done: set[str] = set()
        for p in pieces:
            if p.start < start:
                continue
            key = _t2_key(p.key_text, self.t)
            if key is None or key in done:
                continue
            done.add(key)
            codes = [f"t2.{key}.{c}" for c in cols[key]]
            kinds = [
                "signed" if c == "items_change" else "amount" if c == "amount" else "count" for c in cols[key]
            ]
            if kinds == [
                "count"
            ]:  # one cell: a minus sign can only be printed (a source error for validation)
                kinds = ["signed"]
            split = _split(p.raw, kinds, _T2_MAX_DIGITS)
            if split.ways == 1 and "-" in p.raw and None in split.readings[0]:
                # the reading took a '-' for a blank mark; it may be the sign of the number after it (a count
                # printed negative is a source error, but printed it is): unless signs leave one reading
                # too, the row is undecided
                signed = ["signed" if k == "count" else k for k in kinds]
                if _split(p.raw, signed, _T2_MAX_DIGITS).ways != 1:
                    self.unresolve(codes, f"glued digits {p.raw!r}: each '-' may be a blank or a minus sign")
                    continue
            if split.ways == 1:
                self.put(codes, split.readings[0], f"segmented: {p.raw}")
            elif split.ways == 0:
                self.unresolve(codes, f"glued digits {p.raw!r} do not split into {len(codes)} cells")
            else:
                self.unresolve(
                    codes,
                    f"glued digits {p.raw!r} split several ways into {len(codes)} cells (表二 has no identities)",
                )
            amount = next((c for c in codes if c.endswith(".amount")), None)
            unit = _UNIT_AFTER.match(p.after) or _UNIT_IN_LABEL.search(_WS.sub("", p.label))
            if amount and unit:
                self.out.units[amount] = next(g for g in unit.groups() if g)

    # 表三 ------------------------------------------------------------------------------------------------
    def read_t3(self, i0: int) -> int:
        assigned, end, notes = _t3_walk(self.pieces, i0, self.t)
        self.out.notes.extend(notes)
        cands: dict[str, tuple[Reading, ...]] = {}
        raws: dict[str, str] = {}
        for key, i in assigned.items():
            raw = self.pieces[i].raw
            raws[key] = raw
            split = _split(
                raw, ["count"] * len(spec.APPLICANT_COLUMNS), MAX_DIGITS, (len(spec.APPLICANT_COLUMNS),)
            )
            if split.ways == 1 or 0 < len(split.readings) <= _MAX_READINGS:
                cands[key] = split.readings
            else:
                why = "no reading fits 总计 = sum of the row" if split.ways else "do not split into 7 cells"
                if len(split.readings) > _MAX_READINGS:
                    why = "too many readings fit 总计 = sum of the row"
                self.unresolve(self._t3_codes(key), f"glued digits {raw!r}: {why}")
        picked, notes = _column_search(cands, self.t)
        self.out.notes.extend(notes)
        for key, rs in cands.items():
            if len(rs) == 1:
                self._put_t3(key, rs[0], f"segmented: {raws[key]}")
            elif key in picked:
                self._put_t3(
                    key, rs[picked[key]], f"segmented: {raws[key]} (chosen by the column identities)"
                )
            else:
                self.unresolve(
                    self._t3_codes(key),
                    f"glued digits {raws[key]!r}: {len(rs)} readings fit the row total; "
                    "the column identities do not single one out",
                )
        return end

    def _t3_codes(self, key: str) -> list[str]:
        if key == "other_single":
            subs = ("other_no_correction", "other_no_fee", "other_other")
            return [f"t3.{s}.{c}" for s in subs for c in spec.APPLICANT_COLUMNS]
        return [f"t3.{key}.{c}" for c in spec.APPLICANT_COLUMNS]

    def _put_t3(self, key: str, reading: Reading, where: str) -> None:
        if key != "other_single":
            self.put(self._t3_codes(key), reading, where)
        elif all(not v for v in reading):  # the old single （六） row, all zero: so are its 2021 sub-rows
            self.put(self._t3_codes(key), reading * 3, f"{where} (single （六） row, all zero)")
        else:
            self.unresolve(
                self._t3_codes(key), "old single （六）其他处理 row cannot be split into the 2021 sub-rows"
            )

    # 表四 ------------------------------------------------------------------------------------------------
    def read_t4(self, start: int) -> None:
        heads = (i for i in range(start, len(self.pieces)) if _T4_HEAD.search(self.pieces[i].label))
        head = next((i for i in heads if "。" not in self.pieces[i].label), None)
        if head is None:
            return
        raws = [self.pieces[head].raw]
        for p in self.pieces[head + 1 :]:
            label = _WS.sub("", p.label)
            if _T4_END.search(label) or len(label) > 20:
                break
            raws.append(p.raw)
        raw = _JOIN.join(raws)  # text between runs (a row label) is a cell border
        codes = [f"t4.{b}.{c}" for b in spec.T4_BLOCKS for c in spec.T4_COLUMNS]
        split = _split(raw, ["count"] * len(codes), MAX_DIGITS, (len(spec.T4_COLUMNS),) * len(spec.T4_BLOCKS))
        if len(split.readings) == 1:
            self.put(codes, split.readings[0], f"segmented: {raw}")
        else:
            why = (
                f"{len(split.readings)} readings fit 总计 = sum of each block"
                if split.ways
                else "do not split into 15 cells"
            )
            self.unresolve(codes, f"表四 glued digits {raw!r}: {why}")


def looks_glued(text: str) -> bool:
    """Whether 表三 row labels are followed directly by 7+ digit runs (cells glued together)."""
    return next(islice(_GLUED_ROW.finditer(text), 2, None), None) is not None  # three such rows


def read_glued(text: str, template: str | None = None, year: int | None = None) -> TableRead:
    """Read 表二/表三/表四 from text whose cell boundaries are lost. Raises RejectedInput if no 表三 is found."""
    template = template or detect_template([Row(cells=[text], where="text")], year)
    return _Glued(text, template).read()
