"""The validation rule catalogue, generated from the template spec (etl.spec) as plain data.

Two kinds of rule:
- sum rules: Σ parts = Σ totals (e.g. 表三 总计 column = the six applicant columns); a failure reports
  expected = Σ parts, found = Σ totals (the printed total side);
- cell rules: a family of per-cell constraints (non-negative integer, ...); a failure names the cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, cells, t3_outcome_rows, t3_rows

Severity = Literal["blocking", "warning"]
CellCheck = Literal["non_negative", "integer"]

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
    cells: tuple[str, ...]
    description: str
    parts: tuple[str, ...] = ()  # sum rules only: Σ parts ...
    totals: tuple[str, ...] = ()  # ... must equal Σ totals

    @property
    def is_sum(self) -> bool:
        return bool(self.parts)

    @property
    def checks(self) -> tuple[CellCheck, ...]:
        """Per-cell checks of a cell rule (empty for sum rules)."""
        return () if self.is_sum else CELL_FAMILIES[self.rule_id][0]


def _sum_rule(rule_id: str, parts: list[str], totals: list[str], description: str) -> Rule:
    return Rule(rule_id, "blocking", (*parts, *totals), description, tuple(parts), tuple(totals))


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
        Rule(family, "blocking", tuple(codes), f"every cell of this group is {CELL_FAMILIES[family][1]}")
        for family, codes in members.items()
        if codes
    ]


@cache
def rules(template: str) -> tuple[Rule, ...]:
    """All rules of a template, in a stable order (表三 rows, columns, balances, 表四, cell families)."""
    out = (*_t3_rules(template), *_t4_rules(), *_cell_rules(template))
    ids = [r.rule_id for r in out]
    if len(ids) != len(set(ids)):
        raise ValueError(f"template {template}: duplicate rule ids")
    return out
