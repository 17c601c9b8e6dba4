"""Great Expectations 1.x suites built from the rule catalogue, committed as JSON under expectations/.

The committed JSON is the source of truth at run time (`load_suite`); `python -m etl.validate.suites`
regenerates it from etl.validate.rules, and a test keeps the two equal. Suites: one per template
(annual_report_2021, annual_report_2019) and annual_report_crossyear (a report with last year's).

Encoding. GE has no native "A = B + C + …", "every cell is a (non-negative) integer" or "figure the text
states" expectation, so one small pre-step (`derive_columns`, listed in the suite's meta) adds derived
columns and GE judges them:
- sum rule Σ parts = Σ totals  ->  ExpectMulticolumnSumToEqual(parts + neg(totals), sum_total=0) with
  ignore_row_if="any_value_is_missing": a row with an unresolved (NaN) cell is not evaluated for that rule;
- at_most Σ parts <= Σ totals  ->  ExpectColumnValuesToBeBetween(diff(totals - parts), min_value=0);
- cell family: non-negative -> min(family) >= 0; integer -> max_frac(family) in {0};
- max -> ExpectColumnValuesToBeBetween(cell, max_value=limit);
- complete / unresolved -> count of null cells (without / with an on-purpose parser reason) in {0};
- authority -> ExpectColumnValuesToBeInSet(made, {0}) with row_condition regulation_power == 0;
- stated -> gap(figure) in {0}: |stated - table| minimised over the readings the figure may have;
- ratio -> ExpectColumnValuesToBeBetween(ratio, 1/limit, limit), null (not judged) under the floor.
GE's column map expectations skip null values, so a rule whose inputs are absent is silent. One
expectation per rule or family rather than per cell keeps a suite at ~60 expectations: GE's cost is mostly
per expectation (~10 ms each). run.py / failures.py name the offending cells of a failing report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe  # GX_ANALYTICS_ENABLED is set in etl.validate
import numpy as np
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.row_conditions import Column

from etl.config import PROJECT_ROOT
from etl.spec import TEMPLATES
from etl.validate.authority import regulation_powers
from etl.validate.rules import CELL_FAMILIES, MISSING_REASONS, Rule, crossyear_rules, rules

SUITES_DIR = PROJECT_ROOT / "expectations"
CROSSYEAR = "crossyear"
SUITES = (*TEMPLATES, CROSSYEAR)
GX_SEVERITY = {"blocking": "critical", "warning": "warning"}

# Per-report inputs besides the cells (optional: absent means none / unknown), kept out of the GE batch.
REPORT_COLUMNS = {
    "unresolved": "JSON {code: reason} of the cells the parser left null (staging cells.unresolved_reason)",
    "narrative": "JSON {figure: N} the report's text states (etl.parse.narrative.stated_figures)",
    "scope": "agency | government | region (staging reports.scope)",
    "adcode": "6-digit division code (staging reports.adcode)",
}
POWER = "regulation_power"

Derived = dict[str, dict[str, Any]]  # derived column name -> {"op": ..., parameters}
Getter = Callable[[list[str]], pd.DataFrame]


def on_purpose(reasons: pd.Series, cells: list[str]) -> np.ndarray:
    """Row x cell mask: the parser left the cell null on purpose (a reason that is not "not found ...")."""
    col = {c: j for j, c in enumerate(cells)}
    mask = np.zeros((len(reasons), len(cells)), dtype=bool)
    present = reasons.notna().to_numpy()
    for i, text in zip(np.flatnonzero(present), reasons[present], strict=True):
        for code, reason in json.loads(text).items():
            if code in col and reason and not str(reason).startswith(MISSING_REASONS):
                mask[i, col[code]] = True
    return mask


def _count_nulls(get: Getter, d: dict[str, Any], on_purpose_wanted: bool) -> pd.Series:
    values = get(d["cells"])
    null = values.isna().to_numpy()
    purposeful = on_purpose(get([d["reasons"]]).iloc[:, 0], d["cells"])
    if on_purpose_wanted:
        hits = null & purposeful
    else:
        tolerated = np.isin(np.array(d["cells"]), d.get("tolerated", []))
        hits = null & ~(purposeful & tolerated)
    return pd.Series(hits.sum(axis=1).astype("float64"), index=values.index)


def flagged(reasons: pd.Series, cells: list[str], flag: str) -> np.ndarray:
    """Row x cell mask: the cell carries a reason starting with `flag` (whatever its value)."""
    col = {c: j for j, c in enumerate(cells)}
    mask = np.zeros((len(reasons), len(cells)), dtype=bool)
    present = reasons.notna().to_numpy()
    for i, text in zip(np.flatnonzero(present), reasons[present], strict=True):
        for code, reason in json.loads(text).items():
            if code in col and str(reason or "").startswith(flag):
                mask[i, col[code]] = True
    return mask


def _count_flagged(get: Getter, d: dict[str, Any]) -> pd.Series:
    hits = flagged(get([d["reasons"]]).iloc[:, 0], d["cells"], d["flag"])
    return pd.Series(hits.sum(axis=1).astype("float64"), index=get([d["reasons"]]).index)


def _stated(get: Getter, d: dict[str, Any]) -> pd.Series:
    texts = get([d["from"]]).iloc[:, 0]
    out = pd.Series(np.nan, index=texts.index, dtype="float64")
    present = texts.notna()
    out[present] = [json.loads(t).get(d["key"], np.nan) for t in texts[present]]
    return out.astype("float64")


def _gap(get: Getter, d: dict[str, Any]) -> pd.Series:
    stated = get([d["stated"]]).iloc[:, 0]
    gaps = pd.concat(
        [(stated - get(alt).sum(axis=1, skipna=False)).abs() for alt in d["alternatives"]], axis=1
    )
    return gaps.min(axis=1)  # NaN only when the figure is not stated or no reading's cells are all known


def _ratio(get: Getter, d: dict[str, Any]) -> pd.Series:
    this, last = get(d["cells"]).iloc[:, 0], get(d["over"]).iloc[:, 0]
    judged = (this >= d["floor"]) & (last >= d["floor"])
    return (this / last).where(judged)


# The pre-step's whole arithmetic; the suite meta names each derived column as {op, parameters}, in an
# order where a column is derived before any column that reads it.
DERIVE_OPS: dict[str, tuple[str, Callable[[Getter, dict[str, Any]], pd.Series]]] = {
    "neg": ("-x for the one cell", lambda get, d: -get(d["cells"]).iloc[:, 0]),
    "min": ("row-wise minimum of the cells", lambda get, d: get(d["cells"]).min(axis=1)),
    "max_frac": (
        "row-wise maximum of (x mod 1) over the cells; 0 iff all are integers",
        lambda get, d: (get(d["cells"]) % 1).max(axis=1),
    ),
    "diff": (
        "sum(cells) - sum(minus); null if any is null",
        lambda get, d: get(d["cells"]).sum(axis=1, skipna=False) - get(d["minus"]).sum(axis=1, skipna=False),
    ),
    "count_missing": (
        f"number of null cells, except tolerated cells the parser left null on purpose (a reason in the "
        f"`reasons` column not starting with {list(MISSING_REASONS)})",
        lambda get, d: _count_nulls(get, d, on_purpose_wanted=False),
    ),
    "count_unresolved": (
        "number of null cells the parser left null on purpose",
        lambda get, d: _count_nulls(get, d, on_purpose_wanted=True),
    ),
    "count_flagged": (
        "number of the cells whose reason in the `reasons` column starts with `flag`",
        _count_flagged,
    ),
    "regulation_power": (
        "1 if scope and adcode show a province or 设区的市 government, 0 if they show another issuer, null if "
        "unknown (etl.validate.authority)",
        lambda get, d: regulation_powers(*(get(d["columns"])[c] for c in d["columns"])),
    ),
    "stated": ("the figure `key` of the JSON column `from`; null if the text does not state it", _stated),
    "gap": ("min over the alternatives of |stated - sum(alternative)|; null if none can be judged", _gap),
    "ratio": ("cells / over when both are >= floor, else null", _ratio),
}


def suite_name(key: str) -> str:
    return f"annual_report_{key}"


def suite_path(key: str, directory: Path = SUITES_DIR) -> Path:
    return directory / f"{suite_name(key)}.json"


def suite_rules(key: str) -> tuple[Rule, ...]:
    return crossyear_rules() if key == CROSSYEAR else rules(key)


def derive_columns(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """The documented pre-step: df plus the derived columns listed in a suite's meta["pre_step"]."""
    spec: Derived = meta["pre_step"]["derived_columns"]
    new: dict[str, pd.Series] = {}

    def get(names: list[str]) -> pd.DataFrame:
        return pd.DataFrame({n: new[n] if n in new else df[n] for n in names}, index=df.index)

    for name, d in spec.items():
        new[name] = DERIVE_OPS[d["op"]][1](get, d)
    return pd.concat([df, pd.DataFrame(new, index=df.index)], axis=1)


def _derive(derived: Derived, op: str, subject: str, **params: Any) -> str:
    name = f"{op}({subject})"
    derived[name] = {"op": op, **params}
    return name


def _common(rule: Rule, description: str | None = None, **meta: Any) -> dict[str, Any]:
    """Keyword arguments every expectation gets: its rule, severity and cells in meta, both in the text."""
    return {
        "description": f"[{rule.rule_id} · {rule.severity}] {description or rule.description}",
        "severity": GX_SEVERITY[rule.severity],
        "meta": {
            "rule_id": rule.rule_id,
            "severity": rule.severity,
            "kind": rule.kind,
            "cells": list(rule.cells),
            **meta,
        },
    }


def _sum(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    negs = [_derive(derived, "neg", total, cells=[total]) for total in rule.totals]
    return [
        gxe.ExpectMulticolumnSumToEqual(
            column_list=[*rule.parts, *negs],
            sum_total=0,
            ignore_row_if="any_value_is_missing",
            **_common(rule, parts=list(rule.parts), totals=list(rule.totals)),
        )
    ]


def _at_most(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    slack = _derive(derived, "diff", rule.rule_id, cells=list(rule.totals), minus=list(rule.parts))
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=slack,
            min_value=0,
            **_common(rule, parts=list(rule.parts), totals=list(rule.totals)),
        )
    ]


def _cells(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    cells = list(rule.cells)
    expected = CELL_FAMILIES[rule.rule_id][1]
    out: list[gxe.Expectation] = []
    if "non_negative" in rule.checks:
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=_derive(derived, "min", rule.rule_id, cells=cells),
                min_value=0,
                **_common(
                    rule, f"{rule.description}: no cell is negative", expected=expected, check="non_negative"
                ),
            )
        )
    if "integer" in rule.checks:
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=_derive(derived, "max_frac", rule.rule_id, cells=cells),
                value_set=[0],
                **_common(
                    rule,
                    f"{rule.description}: no cell has a fractional part",
                    expected=expected,
                    check="integer",
                ),
            )
        )
    return out


def _max(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(column=c, max_value=rule.limit, **_common(rule, limit=rule.limit))
        for c in rule.cells
    ]


def _presence(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    op = "count_missing" if rule.kind == "complete" else "count_unresolved"
    params: dict[str, Any] = {"cells": list(rule.cells), "reasons": "unresolved"}
    if rule.tolerated:
        params["tolerated"] = list(rule.tolerated)
    count = _derive(derived, op, rule.rule_id, **params)
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column=count, value_set=[0], **_common(rule, tolerated=list(rule.tolerated))
        )
    ]


def _flagged(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    count = _derive(
        derived, "count_flagged", rule.rule_id, cells=list(rule.cells), reasons="unresolved", flag=rule.flag
    )
    return [gxe.ExpectColumnValuesToBeInSet(column=count, value_set=[0], **_common(rule, flag=rule.flag))]


def _authority(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    derived[POWER] = {"op": "regulation_power", "columns": ["scope", "adcode"]}
    (made,) = rule.cells
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column=made, value_set=[0], row_condition=Column(POWER) == 0, **_common(rule)
        )
    ]


def _stated_rule(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    assert rule.stated is not None
    stated = _derive(derived, "stated", f"narrative.{rule.stated}", key=rule.stated, **{"from": "narrative"})
    alternatives = [list(alt) for alt in rule.alternatives]
    gap = _derive(derived, "gap", rule.rule_id, stated=stated, alternatives=alternatives)
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column=gap,
            value_set=[0],
            **_common(rule, stated=stated, alternatives=alternatives),
        )
    ]


def _ratio_rule(rule: Rule, derived: Derived) -> list[gxe.Expectation]:
    assert rule.limit is not None
    ratio = _derive(
        derived, "ratio", rule.rule_id, cells=list(rule.parts), over=list(rule.totals), floor=rule.floor
    )
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=ratio,
            min_value=1 / rule.limit,
            max_value=rule.limit,
            **_common(
                rule, parts=list(rule.parts), totals=list(rule.totals), limit=rule.limit, floor=rule.floor
            ),
        )
    ]


_BUILDERS: dict[str, Callable[[Rule, Derived], list[gxe.Expectation]]] = {
    "sum": _sum,
    "at_most": _at_most,
    "cells": _cells,
    "max": _max,
    "complete": _presence,
    "unresolved": _presence,
    "flagged": _flagged,
    "authority": _authority,
    "stated": _stated_rule,
    "ratio": _ratio_rule,
}


def build_suite(key: str) -> ExpectationSuite:
    """The suite of a template (or of the cross-year checks), generated from the rule catalogue."""
    derived: Derived = {}
    expectations = [e for rule in suite_rules(key) for e in _BUILDERS[rule.kind](rule, derived)]
    meta = {
        "template": key,
        "generated_by": "python -m etl.validate.suites (from etl.validate.rules); do not edit by hand",
        "rules": [
            {"rule_id": r.rule_id, "severity": r.severity, "kind": r.kind, "description": r.description}
            for r in suite_rules(key)
        ],
        "report_columns": {} if key == CROSSYEAR else REPORT_COLUMNS,
        "pre_step": {
            "function": "etl.validate.suites.derive_columns",  # not __name__: "__main__" under -m
            "why": "GE has no weighted multicolumn sum, no per-row 'all cells are (non-negative) integers' "
            "check and no notion of a figure stated in the text: the pre-step derives one column per "
            "rule (sum rules: parts + neg(totals) summing to 0) and GE judges it",
            "ops": {op: formula for op, (formula, _) in DERIVE_OPS.items()},
            "derived_columns": derived,
        },
    }
    # Passing the list to the constructor skips add_expectation's O(n) duplicate scan per call.
    return ExpectationSuite(name=suite_name(key), expectations=expectations, meta=meta)


def suite_json(suite: ExpectationSuite) -> str:
    return json.dumps(suite.to_json_dict(), ensure_ascii=False, indent=2) + "\n"


def write_suites(directory: Path = SUITES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in SUITES:
        path = suite_path(key, directory)
        path.write_text(suite_json(build_suite(key)), encoding="utf-8")
        paths.append(path)
    return paths


def load_suite(key: str, directory: Path = SUITES_DIR) -> ExpectationSuite:
    """The committed suite of a template or of the cross-year checks (what validation runs)."""
    data = json.loads(suite_path(key, directory).read_text(encoding="utf-8"))
    suite = ExpectationSuite(**data)
    # ExpectationSuite() only logs and drops an invalid expectation; a silently shorter suite is a bug.
    if len(suite.expectations) != len(data["expectations"]):
        raise ValueError(f"{suite_path(key, directory)}: some expectations failed to load")
    return suite


def main(argv: list[str] | None = None) -> int:
    """Regenerate expectations/*.json; with --check, only report whether they are up to date."""
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        stale = [
            str(suite_path(k))
            for k in SUITES
            if not suite_path(k).exists()
            or suite_path(k).read_text(encoding="utf-8") != suite_json(build_suite(k))
        ]
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_suites():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
