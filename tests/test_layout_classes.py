"""Layouts the labelled set lacks, built from the real reports' own rows re-laid as each class.

Each labelled real report (every format the parser reads into rows; glued crawler dumps have none) is read
into its rows, printed back as a flat text with one class of layout applied, and parsed again: its cells
must be the label's, or, where the class leaves a cell undeterminable (a missing row, numbers only in an
order the identities do not confirm), null with the reason, never a wrong number.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import spec
from etl.extract import detect_format
from etl.parse import _read, parse_bytes
from etl.parse.glued import looks_glued
from etl.parse.rows import Row
from etl.parse.tables import match_t2, split_row, t2_items
from tests.conftest import REAL, labelled_reports, load_label

SPAM = re.compile(r"\s+365bet\S*")


@dataclass
class Real:
    name: str
    title: str
    rows: list[list[str]]  # cells of each row, a break's swallowed empty cell put back
    label: dict
    template: str
    year: int
    at: dict[str, list[int]]  # table ("t2", "t3", "t4") -> indexes of the rows holding its values
    t2_key: dict[int, str]  # row index -> its 表二 row key

    @property
    def expected(self) -> dict:
        skip = set(self.label.get("uncertain_cells", []))
        none = set(self.label.get("unresolvable_cells", []))
        return {c: (None if c in none else v) for c, v in self.label["cells"].items() if c not in skip}

    def text(self, lines: list[str]) -> bytes:
        return "\n".join([self.title, *lines]).encode("utf-8")


def _line(cells: list[str]) -> str:
    return " | ".join(cells) + " |" if len(cells) > 1 else (cells[0] if cells else "")


def _cells(row: Row) -> list[str]:
    cells = list(row.cells)
    for at in reversed(row.breaks):  # "| 0 |": the text lost an empty cell where the line broke
        cells.insert(at, "")
    return cells


@cache
def _reals() -> tuple[Real, ...]:
    out = []
    for report in labelled_reports():
        data = report.read_bytes()
        text, title, rows = _read(data, detect_format(report, data[:8192]))
        if looks_glued(text):
            continue
        lines = [_line(r.cells) for r in rows]
        parsed = parse_bytes("\n".join([title or "", *lines]).encode("utf-8"), "relaid.txt")
        where = {i: f"line {i + 2}" for i in range(len(rows))}  # (line 1 is the title)
        at: dict[str, list[int]] = {}
        t2_key: dict[int, str] = {}
        for i, w in where.items():
            for code, prov in parsed.provenance.items():
                if prov == w:
                    table = code.split(".")[0]
                    if i not in at.setdefault(table, []):
                        at[table].append(i)
                    if table == "t2":
                        t2_key[i] = code.split(".")[1]
        broken = {i for i, r in enumerate(rows) if r.breaks}
        cells = [
            _cells(r) if i in broken and i - 1 in at.get("t3", []) else list(r.cells)
            for i, r in enumerate(rows)
        ]
        out.append(
            Real(
                report.name,
                title or "",
                cells,
                load_label(report),
                parsed.template,
                parsed.meta.year,
                at,
                t2_key,
            )
        )
    return tuple(out)


def _real(i: int) -> Real:
    reals = _reals()
    if not reals:
        pytest.skip(f"shared corpus not found at {REAL}")
    return reals[i % len(reals)]


def _wrong(got: dict, expected: dict) -> dict:
    return {c: (got.get(c), v) for c, v in expected.items() if got.get(c) != v}


def test_the_re_laid_baseline_reads_exactly(shared_corpus):
    reals = _reals()
    assert len(reals) >= 5
    for r in reals:
        got = parse_bytes(r.text([_line(c) for c in r.rows]), "relaid.txt")
        assert _wrong(got.cells, r.expected) == {}, r.name


_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SEED = st.integers(0, 2**32 - 1)
_REPORT = st.integers(0, 100)


# -- a number with a note or a unit in its cell ---------------------------------------------------------
@_SETTINGS
@given(i=_REPORT, seed=_SEED)
def test_cells_with_notes_and_units(i, seed):
    r, rng = _real(i), random.Random(seed)
    rows = [list(c) for c in r.rows]
    for k in r.at.get("t2", []) + r.at.get("t4", []):
        for j, cell in enumerate(rows[k]):
            if re.fullmatch(r"\d+", cell.strip()) and rng.random() < 0.5:
                v = int(cell)
                note = rng.choice(("其中修订 {} 件", "含自然失效 {} 件", "其中新增{}件"))
                rows[k][j] = f"{v}（{note.format(rng.randint(1, 99))}）" if v >= 2 else f"{v}件"
                if rng.random() < 0.3 and "（" in rows[k][j]:  # the note broken into the next cell
                    head, _, tail = rows[k][j].partition(" ")
                    rows[k][j : j + 1] = [head, tail] if tail else [head]
    got = parse_bytes(r.text([_line(c) for c in rows]), "relaid.txt")
    assert _wrong(got.cells, r.expected) == {}, r.name


# -- 表二 rows in another order, or labelled only by their 第二十条 item ------------------------------------
@_SETTINGS
@given(i=_REPORT, items=st.booleans(), seed=_SEED)
def test_t2_rows_reordered_or_labelled_by_item(i, items, seed):
    r, rng = _real(i), random.Random(seed)
    rows = [list(c) for c in r.rows]
    t2 = sorted(r.t2_key)
    if items:  # each row's label replaced by the item the template prints it under
        item_of = {row: item for item, keys in t2_items(r.template).items() for row in keys}
        for k in t2:
            dr = split_row(Row(rows[k], "x"))
            values = rows[k][len(rows[k]) - len(dr.slots) :] if dr.slots else []
            rows[k] = [f"第二十条第（{item_of[r.t2_key[k]]}）项", *values]
    else:
        order = t2[:]
        rng.shuffle(order)
        moved = {a: rows[b] for a, b in zip(t2, order, strict=True)}
        rows = [moved.get(k, c) for k, c in enumerate(rows)]
    got = parse_bytes(r.text([_line(c) for c in rows]), "relaid.txt")
    assert _wrong(got.cells, r.expected) == {}, r.name


def test_t2_item_labels_map_to_the_spec_rows():
    assert t2_items("2021") == {
        "一": ("regulation", "normative_document"),
        "五": ("licensing",),
        "六": ("penalty", "coercion"),
        "八": ("fees",),
    }
    assert t2_items("2019")["五"] == ("licensing", "other_management_service")
    assert t2_items("2019")["九"] == ("procurement",)
    for template in spec.TEMPLATES:  # every 表二 row belongs to exactly one item
        rows = [r for keys in t2_items(template).values() for r in keys]
        assert sorted(rows) == sorted(r for r, _ in spec.t2_rows(template))
        assert match_t2("第二十条第(一)项", template) is None  # the item alone names no row


# -- a table split across pages: footer and repeated header inside it --------------------------------------
_FOOTERS = ("第 3 页 共 8 页", "- 5 -", "4/9", "第2页/共6页")


@_SETTINGS
@given(i=_REPORT, footer=st.sampled_from(_FOOTERS), repeat=st.booleans(), seed=_SEED)
def test_page_footer_and_repeated_header_inside_a_table(i, footer, repeat, seed):
    r, rng = _real(i), random.Random(seed)
    t3 = r.at["t3"]
    t2_end = max(r.at.get("t2", [-1]))
    header = [
        c
        for k, c in enumerate(r.rows)
        if t2_end < k < min(t3) and c and not any("收到和处理" in x for x in c)
    ]
    at = rng.choice(t3[1:])
    lines = [_line(c) for c in r.rows[:at]] + [footer] + [_line(c) for c in header if repeat]
    lines += [_line(c) for c in r.rows[at:]]
    got = parse_bytes(r.text(lines), "relaid.txt")
    assert _wrong(got.cells, r.expected) == {}, r.name


# -- whole rows missing: null, not zero, and the reason says which -----------------------------------------
@_SETTINGS
@given(i=_REPORT, table=st.sampled_from(["t2", "t4"]), seed=_SEED)
def test_missing_rows_stay_null_with_the_reason(i, table, seed):
    r, rng = _real(i), random.Random(seed)
    gone = {rng.choice(r.at[table])} if table == "t2" else set(r.at["t4"])
    lines = [_line(c) for k, c in enumerate(r.rows) if k not in gone]
    got = parse_bytes(r.text(lines), "relaid.txt")
    wrong = _wrong(got.cells, r.expected)
    assert wrong and all(got.cells[c] is None for c in wrong), r.name
    assert all(c.startswith(f"{table}.") for c in wrong)
    # "not found ..." is what validation reads as a missing row (report.complete blocks: incomplete)
    assert all(got.unresolved[c].startswith("not found in the tables") for c in wrong)
    if table == "t2":
        assert all("prints no" in got.unresolved[c] for c in wrong)
    assert not set(wrong) & set(got.blank_cells)


# -- two years' tables: the report year's are read -------------------------------------------------------
@_SETTINGS
@given(i=_REPORT, last_first=st.booleans(), heading=st.sampled_from(["{}年度", "（{}年）", "{}年度统计表"]))
def test_two_years_tables_take_the_report_year(i, last_first, heading):
    r = _real(i)
    spans = [k for t in ("t2", "t3", "t4") for k in r.at.get(t, [])]
    first, last = min(spans), max(spans)
    this = [_line(c) for c in r.rows[first : last + 1]]
    bumped = [re.sub(r"(?<![\d.])(\d+)(?![\d.])", lambda m: str(int(m.group(1)) + 7), ln) for ln in this]
    ours, theirs = [heading.format(r.year), *this], [heading.format(r.year - 1), *bumped]
    middle = theirs + ours if last_first else ours + theirs
    lines = [_line(c) for c in r.rows[:first]] + middle + [_line(c) for c in r.rows[last + 1 :]]
    got = parse_bytes(r.text(lines), "relaid.txt")
    assert _wrong(got.cells, r.expected) == {}, r.name


# -- one cell per line, a bare "|" for each blank cell -----------------------------------------------------
@_SETTINGS
@given(i=_REPORT)
def test_one_cell_per_line_with_bare_bars_for_blanks(i):
    # a table copied cell by cell: every row's label is a cell of it (reports whose extract printed labels
    # apart from their numbers are not such a grid: there one cell per line loses which label is whose)
    reals = [r for r in _reals() if all(split_row(Row(r.rows[k], "")).label for k in r.at["t3"])]
    if not reals:
        pytest.skip(f"shared corpus not found at {REAL}")
    r = reals[i % len(reals)]
    spans = [k for t in ("t2", "t3", "t4") for k in r.at.get(t, [])]
    first, last = min(spans), max(spans)
    lines = [_line(c) for c in r.rows[:first]]
    blanks = 0
    for cells in r.rows[first : last + 1]:
        for cell in cells:
            cell = SPAM.sub("", cell).strip()  # (spam after a number is another class)
            if cell in ("", "/", "-", "—", "无"):
                lines.append("|")
                blanks += 1
            else:
                lines.append(cell)
    lines += [_line(c) for c in r.rows[last + 1 :]]
    got = parse_bytes(r.text(lines), "relaid.txt")
    assert blanks or r.name  # (without any blank cell the many lone value lines still tell the layout)
    assert _wrong(got.cells, r.expected) == {}, r.name
    if "blank_cells" in r.label:
        assert set(r.label["blank_cells"]) <= set(got.blank_cells)


# -- a 2019/2020 report printed on the 2021 form ---------------------------------------------------------
def test_old_year_on_the_2021_form_reads_as_the_form(shared_corpus):
    done = 0
    for r in _reals():
        if r.template != "2021":
            continue
        year = r.year
        lines = [re.sub(rf"{year}(\s*)年", r"2020\1年", _line(c)) for c in r.rows]
        title = re.sub(rf"{year}(\s*)年", r"2020\1年", r.title)
        got = parse_bytes("\n".join([title, *lines]).encode("utf-8"), "relaid.txt")
        assert got.template == "2021" and got.meta.year == 2020, r.name
        assert _wrong(got.cells, r.expected) == {}, r.name
        done += 1
    assert done >= 3
