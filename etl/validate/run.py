"""Run a committed suite over a batch of reports and turn GE's result into failure rows.

GE decides what failed (one ValidationDefinition run per batch and suite, COMPLETE results with the
unexpected rows identified by report_id); failures.py reads the failing rows back to print the numbers.
Callers may collect each run's result (`runs`) to build Data Docs from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.data_context.types.base import ProgressBarsConfig

from etl.spec import codes
from etl.validate.failures import FAILURE_COLUMNS, Hit, empty, explain, failing_ids
from etl.validate.suites import REPORT_COLUMNS, derive_columns, load_suite

# COMPLETE: every failing report, by report_id. Without the values (failures.py reads them back from the
# frame) and without GE's pandas query string: with them a batch where 75,000 reports fail is ~5x slower,
# most of it GE copying values cell by cell and serialising them into its results store.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["report_id"],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class SuiteRun:
    """One GE run: what Data Docs are built from."""

    suite: ExpectationSuite
    result: ExpectationSuiteValidationResult
    batch: str  # e.g. "year=2021 template=2021"


def checked_input(df: pd.DataFrame, columns: list[str], text_columns: list[str] = ()) -> pd.DataFrame:
    """report_id, the float64 cell columns and the text report columns (None where absent), fresh index."""
    missing = [c for c in ["report_id", *columns] if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns {missing[:5]}{'…' if len(missing) > 5 else ''}")
    if df["report_id"].isna().any() or df["report_id"].duplicated().any():
        raise ValueError("report_id must be present and unique: GE's unexpected rows are mapped back by it")
    df = df.reset_index(drop=True)  # GE reports row positions; a duplicated index would misalign them
    text = {
        c: df[c].astype(object).where(df[c].notna(), None) if c in df.columns else None for c in text_columns
    }
    return pd.concat(
        [df["report_id"].astype(str), df[columns].astype("float64"), pd.DataFrame(text, index=df.index)],
        axis=1,
    )


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


def _unexpected(result: ExpectationSuiteValidationResult) -> list[Hit]:
    """(expectation meta, failing report ids) for each failed expectation."""
    out = []
    for r in result.results:
        # An expectation GE could not evaluate is not a pass: stop rather than load unchecked reports.
        if error := _gx_error(r.exception_info):
            raise RuntimeError(f"GE could not evaluate {r.expectation_config.meta.get('rule_id')}: {error}")
        if not r.success:
            out.append((r.expectation_config.meta, failing_ids(r.result)))
    return out


def run_suite(
    data: pd.DataFrame, suite: ExpectationSuite, runs: list[SuiteRun] | None = None, batch: str = ""
) -> pd.DataFrame:
    """Failures of a checked batch (see checked_input) against a suite; the result appended to runs."""
    derived = derive_columns(data, suite.meta)
    # GE sees report_id and numbers only: the text report columns are read by the pre-step alone.
    result = _run_gx(pd.concat([derived[["report_id"]], derived.select_dtypes("number")], axis=1), suite)
    if runs is not None:
        runs.append(SuiteRun(suite, result, batch))
    return explain(derived.set_index("report_id"), _unexpected(result), suite.meta["rules"])


def validate_frame(
    df: pd.DataFrame, template: str, *, runs: list[SuiteRun] | None = None, batch: str = ""
) -> pd.DataFrame:
    """Failures of one template's reports: one row per (report, rule) that failed (FAILURE_COLUMNS).

    df: report_id, one float64 column per cell code of the template (NaN where null) and, optionally, the
    report columns of suites.REPORT_COLUMNS (unresolved reasons, narrative figures, scope, adcode).
    """
    try:
        data = checked_input(df, list(codes(template)), list(REPORT_COLUMNS))
    except ValueError as e:
        raise ValueError(f"template {template}: {e}") from None
    if data.empty:
        return empty()
    return run_suite(data, load_suite(template), runs, batch or f"template={template}")


def validate_reports(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """validate_frame over {template: frame}; one failures table."""
    parts = [validate_frame(df, template) for template, df in frames.items()]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty()


__all__ = ["FAILURE_COLUMNS", "SuiteRun", "checked_input", "run_suite", "validate_frame", "validate_reports"]
