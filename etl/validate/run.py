"""Run a template's committed suite over a batch of reports and turn GE's result into failure rows.

GE decides what failed (one ValidationDefinition run per batch and suite, unexpected rows identified by
report_id); the DataFrame is only read back for the failing rows, to print expected/found numbers.
"""

from __future__ import annotations

import json
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.data_context.types.base import ProgressBarsConfig

from etl.spec import codes
from etl.validate.suites import derive_columns, load_suite

FAILURE_COLUMNS = ["report_id", "rule_id", "severity", "cells", "expected", "found", "message"]
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["report_id"]}


def _checked_input(df: pd.DataFrame, template: str) -> pd.DataFrame:
    """Just report_id and the template's cells, as float64 on a fresh RangeIndex."""
    cols = list(codes(template))
    missing = [c for c in ["report_id", *cols] if c not in df.columns]
    if missing:
        raise ValueError(
            f"template {template}: missing columns {missing[:5]}{'…' if len(missing) > 5 else ''}"
        )
    if df["report_id"].isna().any() or df["report_id"].duplicated().any():
        raise ValueError("report_id must be present and unique: GE's unexpected rows are mapped back by it")
    df = df.reset_index(drop=True)  # GE reports row positions; a duplicated index would misalign them
    return pd.concat([df["report_id"].astype(str), df[cols].astype("float64")], axis=1)


def _run_gx(data: pd.DataFrame, suite: ExpectationSuite) -> ExpectationSuiteValidationResult:
    # A fresh ephemeral context per run: nothing is written, and its in-memory results store (which
    # keeps every COMPLETE result) is dropped with it instead of growing in a long-lived worker.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(suite)
    batch = (
        context.data_sources.add_pandas("reports")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("batch")
    )
    definition = gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
    return definition.run(batch_parameters={"dataframe": data}, result_format=RESULT_FORMAT)


def _gx_error(exception_info: dict[str, Any] | None) -> str | None:
    """GE's exception message, if it raised: exception_info is either one record or {metric id: record}."""
    records = [exception_info] if exception_info and "raised_exception" in exception_info else []
    records += [v for v in (exception_info or {}).values() if isinstance(v, dict)]
    raised = [
        rec.get("exception_message") or "unknown error" for rec in records if rec.get("raised_exception")
    ]
    return "; ".join(raised) or None


def _unexpected(result: ExpectationSuiteValidationResult) -> list[tuple[dict[str, Any], list[str]]]:
    """(expectation meta, failing report ids) for each failed expectation."""
    out = []
    for r in result.results:
        # An expectation GE could not evaluate is not a pass: stop rather than load unchecked reports.
        if error := _gx_error(r.exception_info):
            raise RuntimeError(f"GE could not evaluate {r.expectation_config.meta.get('rule_id')}: {error}")
        if not r.success:
            ids = [row["report_id"] for row in r.result["unexpected_index_list"]]
            out.append((r.expectation_config.meta, ids))
    return out


def _fmt(values: pd.Series) -> pd.Series:
    """Numbers as printed in a report: 25 rather than 25.0, decimals kept."""
    integral = (values % 1 == 0).to_numpy()
    out = values.astype(str).to_numpy(dtype=object)
    out[integral] = values[integral].astype("int64").astype(str).to_numpy(dtype=object)
    return pd.Series(out, index=values.index, dtype="str")


def _sum_failures(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    rows = data.loc[ids]
    expected = _fmt(rows[meta["parts"]].sum(axis=1))
    found = _fmt(rows[meta["totals"]].sum(axis=1))
    return pd.DataFrame(
        {
            "report_id": ids,
            "rule_id": meta["rule_id"],
            "severity": meta["severity"],
            "cells": json.dumps(meta["cells"], ensure_ascii=False),
            "expected": expected.to_numpy(),
            "found": found.to_numpy(),
            "message": (f"{description}: expected " + expected + ", found " + found).to_numpy(),
        }
    )


# Which cells of a failing report broke a cell family's check (GE only says the report failed it).
_OFFENDING = {
    "non_negative": lambda v: v < 0,
    "integer": lambda v: v.notna() & (v % 1 != 0),
}


def _cell_failures(data: pd.DataFrame, hits: list[tuple[dict[str, Any], list[str]]]) -> pd.DataFrame:
    """One row per (report, cell family): the offending cells named, with their values."""
    longs = []
    for meta, ids in hits:
        values = data.loc[ids, meta["cells"]]
        values.index.name, values.columns.name = "report_id", "cell"
        bad = values.where(_OFFENDING[meta["check"]](values)).stack().dropna().rename("value").reset_index()
        longs.append(
            bad.assign(rule_id=meta["rule_id"], severity=meta["severity"], expected=meta["expected"])
        )
    # A cell like -2.5 breaks both checks of its family: name it once, in the family's cell order.
    long = pd.concat(longs, ignore_index=True).drop_duplicates(["report_id", "rule_id", "cell"])
    order = {cell: i for meta, _ in hits for i, cell in enumerate(meta["cells"])}
    long = long.sort_values("cell", key=lambda c: c.map(order), kind="stable")
    long["item"] = long["cell"] + "=" + _fmt(long["value"])
    grouped = long.groupby(["report_id", "rule_id", "severity", "expected"], sort=False).agg(
        cells=("cell", list), found=("item", "; ".join)
    )
    out = grouped.reset_index()
    out["message"] = "cells must be " + out["expected"] + ": " + out["found"]
    out["cells"] = [json.dumps(c, ensure_ascii=False) for c in out["cells"]]
    return out[FAILURE_COLUMNS]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in FAILURE_COLUMNS})


def validate_frame(df: pd.DataFrame, template: str) -> pd.DataFrame:
    """Failures of one template's reports: one row per (report, rule) that failed (FAILURE_COLUMNS).

    df: report_id plus one float64 column per cell code of the template, NaN where unresolved.
    """
    data = _checked_input(df, template)
    if data.empty:
        return _empty()
    suite = load_suite(template)
    result = _run_gx(derive_columns(data, suite.meta), suite)
    hits = _unexpected(result)
    if not hits:
        return _empty()
    data = data.set_index("report_id")
    descriptions = {r["rule_id"]: r["description"] for r in suite.meta["rules"]}
    frames = [
        _sum_failures(data, meta, ids, descriptions[meta["rule_id"]]) for meta, ids in hits if "parts" in meta
    ]
    cell_hits = [(meta, ids) for meta, ids in hits if "parts" not in meta]
    if cell_hits:
        frames.append(_cell_failures(data, cell_hits))
    out = pd.concat(frames, ignore_index=True)
    # Report order of the batch, then rule order of the suite.
    rule_order = {r["rule_id"]: i for i, r in enumerate(suite.meta["rules"])}
    report_order = pd.Series(range(len(data)), index=data.index)
    keys = pd.DataFrame(
        {"report": report_order.loc[out["report_id"]].to_numpy(), "rule": out["rule_id"].map(rule_order)}
    )
    return out.iloc[keys.sort_values(["report", "rule"], kind="stable").index].reset_index(drop=True)


def validate_reports(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """validate_frame over {template: frame}; one failures table."""
    parts = [validate_frame(df, template) for template, df in frames.items()]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else _empty()
