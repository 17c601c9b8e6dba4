"""The table rules (勾稽关系) evaluated on one report's values: what makes a label's `violations` exact.

Rule ids match etl.validate.rules: t3.row_total.<row>, t3.col_outcomes.<column>, t3.col_balance.<column>,
t4.block_total.<block>, the cell families (cell.non_negative_integer, cell.integer, cell.non_negative), plus
xyear.carry_over.<column> (this year's 二、上年结转 = last year's 四、结转下年度继续办理, same issuer).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, cells, t3_outcome_rows, t3_rows

Number = int | float
SumRule = tuple[str, tuple[str, ...], tuple[str, ...]]  # rule id, parts, totals


@cache
def sum_rules(template: str) -> tuple[SumRule, ...]:
    applicants = tuple(c for c in APPLICANT_COLUMNS if c != "total")
    out: list[SumRule] = [
        (f"t3.row_total.{r}", tuple(f"t3.{r}.{c}" for c in applicants), (f"t3.{r}.total",))
        for r in t3_rows(template)
    ]
    outcomes = t3_outcome_rows(template)
    out += [
        (f"t3.col_outcomes.{c}", tuple(f"t3.{r}.{c}" for r in outcomes), (f"t3.total.{c}",))
        for c in APPLICANT_COLUMNS
    ]
    out += [
        (
            f"t3.col_balance.{c}",
            (f"t3.new_received.{c}", f"t3.carried_over.{c}"),
            (f"t3.total.{c}", f"t3.carried_forward.{c}"),
        )
        for c in APPLICANT_COLUMNS
    ]
    out += [
        (f"t4.block_total.{b}", tuple(f"t4.{b}.{c}" for c in T4_COLUMNS[:-1]), (f"t4.{b}.total",))
        for b in T4_BLOCKS
    ]
    return tuple(out)


def cell_family(code: str, unit: str) -> str:
    """Amounts may have decimals; 2019's 本年增/减 may be negative; every other cell is a count."""
    if code.endswith(".amount"):
        return "cell.non_negative"
    if "可为负" in unit:
        return "cell.integer"
    return "cell.non_negative_integer"


@cache
def families(template: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    members: dict[str, list[str]] = {}
    for c in cells(template):
        members.setdefault(cell_family(c.code, c.unit), []).append(c.code)
    order = ("cell.non_negative_integer", "cell.integer", "cell.non_negative")
    return tuple((f, tuple(members[f])) for f in order if f in members)


_EXPECTED = {
    "cell.non_negative_integer": "a non-negative integer",
    "cell.integer": "an integer",
    "cell.non_negative": "a non-negative number",
}


def _fmt(x: Number) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _bad(check: str, v: Number) -> bool:
    negative = v < 0 and check != "cell.integer"
    fractional = not float(v).is_integer() and check != "cell.non_negative"
    return negative or fractional


def check(
    template: str, values: Mapping[str, Number], last_forward: Mapping[str, Number] | None = None
) -> list[dict]:
    """Every rule the values break, in rule order: {rule_id, cells, expected, found}.

    last_forward: the same issuer's previous-year 四、结转下年度继续办理 by column (None: no previous report).
    """
    out: list[dict] = []
    for rule_id, parts, totals in sum_rules(template):
        expected = sum(values[p] for p in parts)
        found = sum(values[t] for t in totals)
        if expected != found:
            out.append(
                {
                    "rule_id": rule_id,
                    "cells": [*parts, *totals],
                    "expected": _fmt(expected),
                    "found": _fmt(found),
                }
            )
    for family, codes in families(template):
        bad = [c for c in codes if _bad(family, values[c])]
        if bad:
            found = "; ".join(f"{c}={_fmt(values[c])}" for c in bad)
            out.append({"rule_id": family, "cells": bad, "expected": _EXPECTED[family], "found": found})
    if last_forward is not None:
        for col in APPLICANT_COLUMNS:
            code = f"t3.carried_over.{col}"
            if values[code] != last_forward[col]:
                out.append(
                    {
                        "rule_id": f"xyear.carry_over.{col}",
                        "cells": [code],
                        "expected": _fmt(last_forward[col]),
                        "found": _fmt(values[code]),
                    }
                )
    return out


def describe(v: dict) -> str:
    """A source_errors line in the style of the real labels."""
    rule = v["rule_id"]
    if rule.startswith("xyear."):
        return f"{rule}: 二、上年结转 printed {v['found']} but last year's 四、结转下年度继续办理 was {v['expected']}"
    if rule.startswith("cell."):
        return f"{rule}: {v['found']}"
    return f"{rule}: parts sum {v['expected']} != printed total {v['found']}"
