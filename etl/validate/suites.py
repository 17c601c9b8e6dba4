"""Great Expectations 1.x suites built from the rule catalogue, committed as JSON under expectations/.

The committed JSON is the source of truth at run time (`load_suite`); `python -m etl.validate.suites`
regenerates it from etl.validate.rules, and a test keeps the two equal.

Encoding. GE has no native "A = B + C + …" or "every cell is a (non-negative) integer" expectation, so
one small pre-step (`derive_columns`, listed in the suite's meta) adds derived columns and GE judges them:
- sum rule Σ parts = Σ totals  ->  ExpectMulticolumnSumToEqual(parts + neg(totals), sum_total=0) with
  ignore_row_if="any_value_is_missing": GE does the summing, and a row with an unresolved (NaN) cell is
  not evaluated for that rule;
- cell family, non-negative  ->  ExpectColumnValuesToBeBetween(min(family), min_value=0), the row-wise
  minimum over the family's cells;
- cell family, integer  ->  ExpectColumnValuesToBeInSet(max_frac(family), [0]), the row-wise maximum of
  x mod 1 over its cells.
The row-wise min/max skip NaN and GE's column map expectations skip an all-NaN row, so an unresolved cell
never fails a cell rule. One expectation per family rather than per cell keeps the suite at ~50
expectations: GE's cost is mostly per expectation (~10 ms each), so per-cell checks (~430) would cost ~4 s
per batch however small. run.py names the offending cells of a failing report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe  # GX_ANALYTICS_ENABLED is set in etl.validate
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite

from etl.config import PROJECT_ROOT
from etl.spec import TEMPLATES
from etl.validate.rules import CELL_FAMILIES, Rule, rules

SUITES_DIR = PROJECT_ROOT / "expectations"
GX_SEVERITY = {"blocking": "critical", "warning": "warning"}

# The pre-step's whole arithmetic, over the listed cells of each row; the suite meta names each derived
# column as {op, cells}. Row-wise min/max skip NaN (NaN only when every cell is NaN).
DERIVE_OPS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "neg": ("-x for the one cell", lambda cells: -cells.iloc[:, 0]),
    "min": ("row-wise minimum of the cells", lambda cells: cells.min(axis=1)),
    "max_frac": (
        "row-wise maximum of (x mod 1) over the cells; 0 iff all are integers",
        lambda cells: (cells % 1).max(axis=1),
    ),
}


def suite_name(template: str) -> str:
    return f"annual_report_{template}"


def suite_path(template: str, directory: Path = SUITES_DIR) -> Path:
    return directory / f"{suite_name(template)}.json"


Derived = dict[str, dict[str, Any]]  # derived column name -> {"op": ..., "cells": [...]}


def _derive(derived: Derived, op: str, subject: str, cells: list[str]) -> str:
    name = f"{op}({subject})"
    derived[name] = {"op": op, "cells": cells}
    return name


def derive_columns(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """The documented pre-step: df plus the derived columns listed in a suite's meta["pre_step"]."""
    spec: Derived = meta["pre_step"]["derived_columns"]
    new = {name: DERIVE_OPS[d["op"]][1](df[d["cells"]]) for name, d in spec.items()}
    return pd.concat([df, pd.DataFrame(new, index=df.index)], axis=1)


def _sum_expectation(rule: Rule, derived: Derived) -> gxe.Expectation:
    negs = [_derive(derived, "neg", total, [total]) for total in rule.totals]
    return gxe.ExpectMulticolumnSumToEqual(
        column_list=[*rule.parts, *negs],
        sum_total=0,
        ignore_row_if="any_value_is_missing",
        description=rule.description,
        severity=GX_SEVERITY[rule.severity],
        meta={
            "rule_id": rule.rule_id,
            "severity": rule.severity,
            "cells": list(rule.cells),
            "parts": list(rule.parts),
            "totals": list(rule.totals),
        },
    )


def _cell_expectations(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    cells = list(rule.cells)
    common: dict[str, Any] = {"severity": GX_SEVERITY[rule.severity]}
    expected = CELL_FAMILIES[rule.rule_id][1]
    meta = {"rule_id": rule.rule_id, "severity": rule.severity, "cells": cells, "expected": expected}
    out: list[gxe.Expectation] = []
    if "non_negative" in rule.checks:
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=_derive(derived, "min", rule.rule_id, cells),
                min_value=0,
                description=f"{rule.description}: no cell is negative",
                meta={**meta, "check": "non_negative"},
                **common,
            )
        )
    if "integer" in rule.checks:
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=_derive(derived, "max_frac", rule.rule_id, cells),
                value_set=[0],
                description=f"{rule.description}: no cell has a fractional part",
                meta={**meta, "check": "integer"},
                **common,
            )
        )
    return out


def build_suite(template: str) -> ExpectationSuite:
    """The suite for a template, generated from the rule catalogue."""
    derived: Derived = {}
    expectations: list[gxe.Expectation] = []
    for rule in rules(template):
        if rule.is_sum:
            expectations.append(_sum_expectation(rule, derived))
        else:
            expectations.extend(_cell_expectations(rule, derived))
    meta = {
        "template": template,
        "generated_by": "python -m etl.validate.suites (from etl.validate.rules); do not edit by hand",
        "rules": [
            {"rule_id": r.rule_id, "severity": r.severity, "description": r.description}
            for r in rules(template)
        ],
        "pre_step": {
            "function": "etl.validate.suites.derive_columns",  # not __name__: "__main__" under -m
            "why": "GE has no weighted multicolumn sum and no per-row 'all cells are (non-negative) "
            "integers' check: a sum rule is parts + neg(totals) summing to 0; a cell family is "
            "min(cells) >= 0 and max_frac(cells) in {0}",
            "ops": {op: formula for op, (formula, _) in DERIVE_OPS.items()},
            "derived_columns": derived,
        },
    }
    # Passing the list to the constructor skips add_expectation's O(n) duplicate scan per call.
    return ExpectationSuite(name=suite_name(template), expectations=expectations, meta=meta)


def suite_json(suite: ExpectationSuite) -> str:
    return json.dumps(suite.to_json_dict(), ensure_ascii=False, indent=2) + "\n"


def write_suites(directory: Path = SUITES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for template in TEMPLATES:
        path = suite_path(template, directory)
        path.write_text(suite_json(build_suite(template)), encoding="utf-8")
        paths.append(path)
    return paths


def load_suite(template: str, directory: Path = SUITES_DIR) -> ExpectationSuite:
    """The committed suite of a template (what validation runs)."""
    data = json.loads(suite_path(template, directory).read_text(encoding="utf-8"))
    suite = ExpectationSuite(**data)
    # ExpectationSuite() only logs and drops an invalid expectation; a silently shorter suite is a bug.
    if len(suite.expectations) != len(data["expectations"]):
        raise ValueError(f"{suite_path(template, directory)}: some expectations failed to load")
    return suite


def main(argv: list[str] | None = None) -> int:
    """Regenerate expectations/*.json; with --check, only report whether they are up to date."""
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        stale = [
            str(suite_path(t))
            for t in TEMPLATES
            if not suite_path(t).exists()
            or suite_path(t).read_text(encoding="utf-8") != suite_json(build_suite(t))
        ]
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_suites():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
