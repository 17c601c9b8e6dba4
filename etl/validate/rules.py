"""The validation rule catalogue, generated from the template spec (etl.spec) as plain data.

Kinds of rule (each is blocking = the report is quarantined, or warning = it loads with the warning kept):
- sum: Σ parts = Σ totals (e.g. 表三 总计 column = the six applicant columns); a failure reports
  expected = Σ parts, found = Σ totals (the printed total side);
- at_most: Σ parts <= Σ totals (本年制发 <= 现行有效 + 本年废止);
- cells: a family of per-cell constraints (non-negative integer, ...); a failure names the cells;
- max: each cell at most `limit` (a 万元 amount that looks like yuan);
- complete / unresolved: every cell of the template is present; a null 表二 cell the parser left
  unresolved on purpose (its reason is not "not found ...") is only a warning, any other null blocks;
- flagged: cells that carry a value and a reason starting with `flag` (OCR's low-confidence 表二 readings,
  which no identity can check): a warning naming them;
- authority: 规章 made only by issuers with the power to make them (province / 设区的市 governments);
- stated: a figure the narrative states equals the table (any of `alternatives`);
- ratio: this year's figure within ×1/limit … ×limit of last year's when both are >= floor.
Cross-year rules (`crossyear_rules`) read last year's cells as columns prefixed PREV.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, cells, codes, t3_outcome_rows, t3_rows

Severity = Literal["blocking", "warning"]
RuleKind = Literal[
    "sum", "at_most", "cells", "max", "complete", "unresolved", "flagged", "authority", "stated", "ratio"
]
CellCheck = Literal["non_negative", "integer"]

PREV = "prev."  # cross-year frames: last year's cells, e.g. prev.t3.carried_forward.total
# The parser's reasons for a cell it did not find at all (etl.parse: "not found in the tables", "... in the
# glued text"); any other reason means it saw the cell and left it null on purpose (glued digits, ...).
MISSING_REASONS = ("not found",)
FEE_LIMIT_WAN = 1e6  # 万元: 100亿元 of fees is no county's or agency's; such a figure was typed in 元
JUMP_FACTOR, JUMP_FLOOR = 5.0, 20.0
# 规章 rows of 表二: 2021 本年制发件数, 2019 本年新制作数量
REGULATIONS_MADE = {"2021": "t2.regulation.issued", "2019": "t2.regulation.produced"}

# The reason etl.parse.ocr_cells gives a low-confidence OCR reading it keeps (表二: no identity checks it).
OCR_LOW_CONFIDENCE = "ocr low confidence"

# Cell rule families: rule_id -> (checks applied to each cell, what the failure message expects).
CELL_FAMILIES: dict[str, tuple[tuple[CellCheck, ...], str]] = {
    "cell.non_negative_integer": (("non_negative", "integer"), "a non-negative integer"),
    "cell.integer": (("integer",), "an integer"),
    "cell.non_negative": (("non_negative",), "a non-negative number"),
}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: Severity
    cells: tuple[str, ...]  # the report's own cells the rule reads (never PREV columns)
    description: str
    parts: tuple[str, ...] = ()  # sum/at_most: Σ parts = (<=) Σ totals; ratio: this year / last year
    totals: tuple[str, ...] = ()
    kind: RuleKind = "sum"
    limit: float | None = None  # max: the largest plausible value; ratio: the largest factor either way
    floor: float | None = None  # ratio: judged only when both years are at least this
    stated: str | None = None  # stated: the narrative figure's key (etl.parse.narrative)
    alternatives: tuple[tuple[str, ...], ...] = ()  # stated: the table sums the figure may be
    tolerated: tuple[str, ...] = ()  # complete: cells that may be null with an on-purpose reason
    flag: str | None = None  # flagged: the reason prefix that flags a cell

    @property
    def checks(self) -> tuple[CellCheck, ...]:
        """Per-cell checks of a cell family (empty for other kinds)."""
        return CELL_FAMILIES[self.rule_id][0] if self.kind == "cells" else ()


def _sum_rule(
    rule_id: str, parts: list[str], totals: list[str], description: str, severity: Severity = "blocking"
) -> Rule:
    own = tuple(c for c in (*parts, *totals) if not c.startswith(PREV))
    return Rule(rule_id, severity, own, description, tuple(parts), tuple(totals))


def _t3_rules(template: str) -> list[Rule]:
    applicants = [c for c in APPLICANT_COLUMNS if c != "total"]
    out = [
        _sum_rule(
            f"t3.row_total.{row}",
            [f"t3.{row}.{col}" for col in applicants],
            [f"t3.{row}.total"],
            f"表三 row {row}: 总计 = sum of the six applicant columns",
        )
        for row in t3_rows(template)
    ]
    outcomes = t3_outcome_rows(template)
    out += [
        _sum_rule(
            f"t3.col_outcomes.{col}",
            [f"t3.{row}.{col}" for row in outcomes],
            [f"t3.total.{col}"],
            f"表三 column {col}: （七）总计 = sum of the outcome rows (一)…(六)",
        )
        for col in APPLICANT_COLUMNS
    ]
    out += [
        _sum_rule(
            f"t3.col_balance.{col}",
            [f"t3.new_received.{col}", f"t3.carried_over.{col}"],
            [f"t3.total.{col}", f"t3.carried_forward.{col}"],
            f"表三 column {col}: 一 新收 + 二 上年结转 = （七）总计 + 四 结转下年度",
        )
        for col in APPLICANT_COLUMNS
    ]
    return out


def _t4_rules() -> list[Rule]:
    return [
        _sum_rule(
            f"t4.block_total.{block}",
            [f"t4.{block}.{col}" for col in T4_COLUMNS if col != "total"],
            [f"t4.{block}.total"],
            f"表四 {block}: 总计 = 维持 + 纠正 + 其他 + 尚未审结",
        )
        for block in T4_BLOCKS
    ]


def _cell_family(code: str, unit: str) -> str:
    # Amounts (万元/元) may have decimals; 2019's 本年增/减 (unit marked 可为负) may be negative.
    if code.endswith(".amount"):
        return "cell.non_negative"
    if "可为负" in unit:
        return "cell.integer"
    return "cell.non_negative_integer"


def _cell_rules(template: str) -> list[Rule]:
    members: dict[str, list[str]] = {family: [] for family in CELL_FAMILIES}
    for c in cells(template):
        members[_cell_family(c.code, c.unit)].append(c.code)
    return [
        Rule(
            family,
            "blocking",
            tuple(cs),
            f"every cell of this group is {CELL_FAMILIES[family][1]}",
            kind="cells",
        )
        for family, cs in members.items()
        if cs
    ]


def _presence_rules(template: str) -> list[Rule]:
    t2 = tuple(c.code for c in cells(template) if c.table == "二")
    return [
        Rule(
            "report.complete",
            "blocking",
            codes(template),
            "every cell of the template is present (a null cell the parser did not find means a missing "
            "row or table; only 表二 cells it left unresolved on purpose may be null)",
            kind="complete",
            tolerated=t2,
        ),
        Rule(
            "t2.unresolved",
            "warning",
            t2,
            "表二 cells the parser left unresolved on purpose (e.g. glued digits): the report loads with them null",
            kind="unresolved",
        ),
        Rule(
            "t2.ocr_low_confidence",
            "warning",
            t2,
            "表二 cells OCR read with low confidence (no table identity checks them): loaded, to be checked",
            kind="flagged",
            flag=OCR_LOW_CONFIDENCE,
        ),
    ]


def _t2_sanity_rules(template: str) -> list[Rule]:
    out = []
    if template == "2021":
        out.append(
            Rule(
                "t2.fees.amount_unit",
                "warning",
                ("t2.fees.amount",),
                f"行政事业性收费 amount (万元) above {FEE_LIMIT_WAN:,.0f} 万元: probably printed in 元",
                kind="max",
                limit=FEE_LIMIT_WAN,
            )
        )
        out += [
            Rule(
                f"t2.issued_vs_in_force.{row}",
                "warning",
                (f"t2.{row}.issued", f"t2.{row}.in_force", f"t2.{row}.repealed"),
                f"表二 {row}: 本年制发 <= 现行有效 + 本年废止",
                parts=(f"t2.{row}.issued",),
                totals=(f"t2.{row}.in_force", f"t2.{row}.repealed"),
                kind="at_most",
            )
            for row in ("regulation", "normative_document")
        ]
    made = REGULATIONS_MADE[template]
    out.append(
        Rule(
            "t2.regulation.authority",
            "warning",
            (made,),
            "规章 made (> 0) only by issuers that can make them: provincial and 设区的市 governments "
            "(not agencies, counties, 地区/盟)",
            kind="authority",
        )
    )
    return out


# Narrative figure -> the table sums it may state (etl.parse.narrative documents the readings).
NARRATIVE_CHECKS: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "received": (
        (("t3.new_received.total",), ("t3.new_received.total", "t3.carried_over.total")),
        "收到/受理…申请 N 件 = 一 本年新收 总计 (or 一 + 二 上年结转)",
    ),
    "new_received": ((("t3.new_received.total",),), "本年新收…申请 N 件 = 一 本年新收 总计"),
    "carried_over": ((("t3.carried_over.total",),), "上年结转 N 件 = 二 上年结转 总计"),
    "carried_forward": ((("t3.carried_forward.total",),), "结转下年度 N 件 = 四 结转下年度继续办理 总计"),
    "review": ((("t4.review.total",),), "行政复议 N 件 = 表四 行政复议 总计"),
    "litigation": (
        (("t4.litigation_direct.total", "t4.litigation_after_review.total"),),
        "行政诉讼 N 件 = 表四 行政诉讼 总计 (未经复议直接起诉 + 复议后起诉)",
    ),
}


def _narrative_rules() -> list[Rule]:
    return [
        Rule(
            f"narrative.{key}",
            "warning",
            tuple(dict.fromkeys(c for alt in alts for c in alt)),
            f"the figure the text states: {text}",
            kind="stated",
            stated=key,
            alternatives=alts,
        )
        for key, (alts, text) in NARRATIVE_CHECKS.items()
    ]


def _check_unique(out: tuple[Rule, ...], what: str) -> tuple[Rule, ...]:
    ids = [r.rule_id for r in out]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{what}: duplicate rule ids")
    return out


@cache
def rules(template: str) -> tuple[Rule, ...]:
    """All rules of a template, in a stable order (表三 rows, columns, balances, 表四, cell families,
    presence, 表二 sanity, narrative)."""
    out = (
        *_t3_rules(template),
        *_t4_rules(),
        *_cell_rules(template),
        *_presence_rules(template),
        *_t2_sanity_rules(template),
        *_narrative_rules(),
    )
    return _check_unique(out, f"template {template}")


@cache
def identities(template: str) -> tuple[Rule, ...]:
    """The blocking sum identities (勾稽关系) of a template: what parsers and tooling test on parsed cells."""
    return tuple(r for r in rules(template) if r.kind == "sum" and r.severity == "blocking")


def holds(rule: Rule, cells: Mapping[str, Any]) -> bool | None:
    """Σ parts = Σ totals on a report's parsed cells; None while one of its cells is missing (null)."""
    if any(cells.get(c) is None for c in (*rule.parts, *rule.totals)):
        return None
    return abs(sum(cells[c] for c in rule.parts) - sum(cells[c] for c in rule.totals)) < 1e-6


@cache
def crossyear_rules() -> tuple[Rule, ...]:
    """Rules over a report and the same issuer's report of the year before (its cells prefixed PREV)."""
    carry = [
        _sum_rule(
            f"xyear.carry_over.{col}",
            [f"{PREV}t3.carried_forward.{col}"],
            [f"t3.carried_over.{col}"],
            f"表三 column {col}: 二 上年结转 = last year's 四 结转下年度继续办理",
            "warning",
        )
        for col in APPLICANT_COLUMNS
    ]
    in_force = [
        _sum_rule(
            f"xyear.in_force.{row}",
            [f"{PREV}t2.{row}.in_force", f"t2.{row}.issued"],
            [f"t2.{row}.in_force", f"t2.{row}.repealed"],
            f"表二 {row}: last year's 现行有效 + 本年制发 = 现行有效 + 本年废止 (both 2021 template)",
            "warning",
        )
        for row in ("regulation", "normative_document")
    ]
    jump = Rule(
        "xyear.new_received_jump",
        "warning",
        ("t3.new_received.total",),
        f"一 本年新收 总计 within ×{1 / JUMP_FACTOR:g} … ×{JUMP_FACTOR:g} of last year's "
        f"(when both years >= {JUMP_FLOOR:g})",
        parts=("t3.new_received.total",),
        totals=(f"{PREV}t3.new_received.total",),
        kind="ratio",
        limit=JUMP_FACTOR,
        floor=JUMP_FLOOR,
    )
    return _check_unique((*carry, *in_force, jump), "crossyear")
