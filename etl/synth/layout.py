"""The three tables as official grids: rows of cells with colspan/rowspan, labels from the spec TSV.

Every renderer draws from this one layout (HTML spans, DOCX merges, PDF rectangles, text rows), so all
formats agree on what a report says. Official labels come from etl/spec/cells-*.tsv, printed with
full-width brackets as the templates do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from etl.spec import cells, t3_rows
from etl.synth.noise import SPAM, Printed

T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_OUTCOMES = "三、本年度办理结果"


@dataclass(frozen=True)
class LCell:
    text: str
    role: str  # section | head | label | value
    colspan: int = 1
    rowspan: int = 1
    code: str | None = None  # value cells: the spec code


Grid = list[list[LCell]]  # HTML-style rows: a spanned cell appears once, in its first row


def official(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


@cache
def _t2_sections(
    template: str,
) -> tuple[tuple[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]], ...]:
    """(section, ((row label, ((code, column label), ...)), ...)) in template order."""
    sections: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for c in cells(template):
        if c.table == "二":
            sections.setdefault(c.section, {}).setdefault(c.row_label, []).append((c.code, c.column_label))
    return tuple(
        (official(s), tuple((r, tuple(cols)) for r, cols in rows.items())) for s, rows in sections.items()
    )


def table2(template: str, p: Printed) -> Grid:
    sections = _t2_sections(template)
    width = 1 + max(len(cols) for _, rows in sections for _, cols in rows)
    grid: Grid = []
    for i, (section, rows) in enumerate(sections):
        head = section + (" " + SPAM if f"t2.section.{i}" in p.spam_headers else "")
        grid.append([LCell(head, "section", colspan=width)])
        cols = rows[0][1]
        spans = _spread(len(cols), width - 1)
        grid.append(
            [LCell("信息内容", "head")]
            + [LCell(official(label), "head", colspan=s) for (_, label), s in zip(cols, spans, strict=True)]
        )
        for label, row_cols in rows:
            grid.append(
                [LCell(p.label(label), "label")]
                + [
                    LCell(p.text[code], "value", colspan=s, code=code)
                    for (code, _), s in zip(row_cols, spans, strict=True)
                ]
            )
    return grid


def _spread(n: int, width: int) -> list[int]:
    """Column spans for n value cells over `width` grid columns: the last one takes the rest."""
    return [1] * (n - 1) + [width - n + 1]


@cache
def _t3_rows(template: str) -> tuple[tuple[str, str | None, str | None, str], ...]:
    """(row key, top group, sub group, item label) for each 表三 row."""
    labels = {c.row: c.row_label for c in cells(template) if c.table == "三"}
    rows = t3_rows(template)
    inside = rows[rows.index("carried_over") + 1 : rows.index("carried_forward")]
    out = []
    for r in rows:
        label = official(labels[r])
        top = None
        if label.startswith(T3_OUTCOMES + " "):
            top, label = T3_OUTCOMES, label[len(T3_OUTCOMES) + 1 :]
        elif r in inside:
            top = T3_OUTCOMES
        sub, _, item = label.partition(" ") if " " in label else (None, "", label)
        out.append((r, top, sub or None, item))
    return tuple(out)


def _run(items: list[str | None], i: int) -> int:
    """Length of the run of equal values starting at i."""
    n = 1
    while i + n < len(items) and items[i + n] == items[i]:
        n += 1
    return n


def table3(template: str, p: Printed) -> Grid:
    from etl.synth.values import APPLICANTS

    header = T3_NOTE + (SPAM if "t3.header" in p.spam_headers else "")
    grid: Grid = [
        [LCell(header, "head", colspan=3, rowspan=3), LCell("申请人情况", "head", colspan=7)],
        [
            LCell("自然人", "head", rowspan=2),
            LCell("法人或其他组织", "head", colspan=5),
            LCell("总计", "head", rowspan=2),
        ],
        [LCell(x, "head") for x in ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")],
    ]
    rows = _t3_rows(template)
    tops = [t for _, t, _, _ in rows]
    subs = [(t, s) if s else None for _, t, s, _ in rows]
    for i, (r, top, sub, item) in enumerate(rows):
        line: list[LCell] = []
        if top and (i == 0 or tops[i - 1] != top):
            line.append(LCell(top, "label", rowspan=_run(tops, i)))
        if sub and (i == 0 or subs[i - 1] != subs[i]):
            line.append(LCell(p.label(sub), "label", rowspan=_run(subs, i)))
        span = 3 - (top is not None) - (sub is not None)
        line.append(LCell(p.label(item), "label", colspan=span))
        line += [LCell(p.text[f"t3.{r}.{c}"], "value", code=f"t3.{r}.{c}") for c in (*APPLICANTS, "total")]
        grid.append(line)
    return grid


def table4(p: Printed) -> Grid:
    results = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    blocks = ("review", "litigation_direct", "litigation_after_review")
    cols = ("upheld", "corrected", "other", "pending", "total")
    return [
        [LCell("行政复议", "head", colspan=5), LCell("行政诉讼", "head", colspan=10)],
        [LCell(x, "head", rowspan=2) for x in results]
        + [LCell("未经复议直接起诉", "head", colspan=5), LCell("复议后起诉", "head", colspan=5)],
        [LCell(x, "head") for x in results * 2],
        [LCell(p.text[f"t4.{b}.{c}"], "value", code=f"t4.{b}.{c}") for b in blocks for c in cols],
    ]


def placed(grid: Grid) -> tuple[list[tuple[int, int, LCell]], int]:
    """Grid positions (row, column, cell) of every cell, resolving spans as a browser does; and the width."""
    taken: set[tuple[int, int]] = set()
    out = []
    width = 0
    for r, row in enumerate(grid):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            out.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
    return out, width


# -- layout classes (etl.synth.noise.TEXT_LAYOUTS): the same cells in the grids other reports print ---------
T4_BLOCK_LABELS = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼（未经复议直接起诉）",
    "litigation_after_review": "行政诉讼（复议后起诉）",
}


def grids(template: str, p: Printed) -> dict[str, Grid]:
    """The three tables with the report's layout classes applied (plain grids when it has none)."""
    if not p.layouts:
        return {"t2": table2(template, p), "t3": table3(template, p), "t4": table4(p)}
    rng = random.Random(p.rng_seed)
    t4_blocked = "t4_blocks" in p.layouts or any(c.startswith("t4.") for c in p.missing)
    return {
        "t2": _table2_laid(template, p, rng),
        "t3": table3(template, p),
        "t4": table4_blocks(p) if t4_blocked else table4(p),
    }


def _table2_laid(template: str, p: Printed, rng: random.Random) -> Grid:
    """表二 with its rows in another order, labelled only by their 第二十条 item, or without missing rows."""
    grid = table2(template, p)
    sections: list[list[list[LCell]]] = []  # section heading row, header row, value rows
    for row in grid:
        if row[0].role == "section":
            sections.append([])
        sections[-1].append(row)
    out: Grid = []
    if "t2_order" in p.layouts:
        rng.shuffle(sections)
    for section in sections:
        head, values = section[:2], section[2:]
        values = [r for r in values if not any(c.code in p.missing for c in r if c.code)]
        if not values:
            continue  # a section whose rows are all missing is not printed at all
        if "t2_order" in p.layouts and "t2_items" not in p.layouts:
            rng.shuffle(values)  # (labelled only by their item, rows must keep the template's order)
        if "t2_items" in p.layouts:
            item = head[0][0].text.split(" ")[0]
            values = [[LCell(item, "label"), *r[1:]] for r in values]
        out += [*head, *values]
    return out


def table4_blocks(p: Printed) -> Grid:
    """表四 printed one labelled row per block; the rows a report leaves out are not printed."""
    results = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    cols = ("upheld", "corrected", "other", "pending", "total")
    grid: Grid = [[LCell("", "head")] + [LCell(x, "head") for x in results]]
    for block, label in T4_BLOCK_LABELS.items():
        codes = [f"t4.{block}.{c}" for c in cols]
        if any(c in p.missing for c in codes):
            continue
        grid.append([LCell(label, "label")] + [LCell(p.text[c], "value", code=c) for c in codes])
    return grid
