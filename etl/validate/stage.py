"""The validate stage over a run's staging Parquet: template suites, cross-year suite, Data Docs.

<run_dir>/validation/failures.parquet   every (report, rule) that failed, blocking or warning
<run_dir>/data_docs/index.html          GE Data Docs of the run's validations (offline)

Per year partition the cells are read once and pivoted per template into one wide frame per (year,
template): one GE run each, bounded memory, one suite per run. Each report row also carries what the
rules read besides its cells: the parser's reasons for null cells (`unresolved`), the figures its text
states (`narrative`, when the parse stage provides them), scope and adcode.
"""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from etl.outcomes import Candidate, decide
from etl.spec import codes
from etl.validate.crossyear import CODES as XYEAR_CODES
from etl.validate.crossyear import KEYS, validate_crossyear
from etl.validate.docs import build_data_docs
from etl.validate.failures import FAILURE_COLUMNS, empty
from etl.validate.run import SuiteRun, validate_frame

REPORT_FIELDS = [
    "report_id",
    "source_file",
    "sha256",
    "file_format",
    "issuer",
    "year",
    "template",
    "scope",
    "adcode",
    "n_unresolved",
]
NARRATIVE = "narrative"  # optional reports column: JSON of etl.validate.narrative.stated_figures


def _unresolved(part: pd.DataFrame) -> pd.Series:
    """report_id -> JSON {code: reason} of its cells with an unresolved_reason."""
    hits = part.loc[part["unresolved_reason"].notna(), ["report_id", "code", "unresolved_reason"]]
    hits = hits.sort_values("report_id", kind="stable")
    rows = zip(hits["report_id"], hits["code"], hits["unresolved_reason"], strict=True)
    out = {
        rid: json.dumps({c: r for _, c, r in grp}, ensure_ascii=False)
        for rid, grp in groupby(rows, key=lambda t: t[0])
    }
    return pd.Series(out, dtype=object)


def _template_frame(part: pd.DataFrame, group: pd.DataFrame, template: str) -> pd.DataFrame:
    """validate_frame's input for one (year, template) group; a report with no cell rows is all null."""
    ids = pd.Index(group["report_id"])
    mine = part[part["report_id"].isin(ids)]
    wide = mine.pivot(index="report_id", columns="code", values="value").reindex(
        index=ids, columns=list(codes(template))
    )
    wide["unresolved"] = _unresolved(mine).reindex(ids).to_numpy()
    extra = group.set_index("report_id").reindex(ids)
    for col in ("scope", "adcode", NARRATIVE):
        wide[col] = extra[col].to_numpy() if col in extra.columns else None
    return wide.rename_axis(index="report_id", columns=None).reset_index()


def _kept(reports: pd.DataFrame, failures: pd.DataFrame) -> pd.Series:
    """The report the loader will keep for each issuer-year (etl.outcomes.decide), as a boolean mask."""
    blocking = (
        failures[failures["severity"] == "blocking"].groupby("report_id")["rule_id"].agg(tuple).to_dict()
    )
    candidates = [
        Candidate(
            r.source_file,
            r.sha256,
            r.file_format,
            r.report_id,
            r.issuer,
            int(r.year),
            int(r.n_unresolved),
            blocking.get(r.report_id, ()),
        )
        for r in reports.itertuples(index=False)
    ]
    kept = {o.report_id for o in decide(candidates) if o.status != "duplicate"}
    return reports["report_id"].isin(kept)


def validate_staging(run: Path, warehouse: Path | None) -> dict:
    """Validate a run's staging; write failures.parquet and the Data Docs; the stage's summary."""
    out = run / "validation" / "failures.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    reports_dir, cells_dir = run / "staging" / "reports", run / "staging" / "cells"
    runs: list[SuiteRun] = []
    frames: list[pd.DataFrame] = []
    if any(reports_dir.rglob("*.parquet")):
        dataset = ds.dataset(reports_dir, partitioning="hive")
        columns = REPORT_FIELDS + ([NARRATIVE] if NARRATIVE in dataset.schema.names else [])
        reports = dataset.to_table(columns=columns).to_pandas()
        cells = ds.dataset(cells_dir, partitioning="hive")
        xyear: list[pd.DataFrame] = []
        for year, of_year in reports.groupby("year"):
            part = cells.to_table(
                columns=["report_id", "code", "value", "unresolved_reason"],
                filter=ds.field("year") == int(year),
            ).to_pandas()
            for template, group in of_year.groupby("template"):
                frame = _template_frame(part, group, str(template))
                frames.append(
                    validate_frame(frame, str(template), runs=runs, batch=f"year={year} template={template}")
                )
            few = part[part["code"].isin(XYEAR_CODES)]
            xyear.append(
                few.pivot(index="report_id", columns="code", values="value").reindex(
                    columns=list(XYEAR_CODES)
                )
            )
        failures = pd.concat(frames, ignore_index=True)
        current = reports[KEYS].join(pd.concat(xyear), on="report_id")
        previous = current[_kept(reports, failures)]
        frames.append(validate_crossyear(current, previous, warehouse, runs))
    failures = pd.concat([empty(), *frames], ignore_index=True).astype({c: "string" for c in FAILURE_COLUMNS})
    failures.to_parquet(out, index=False)
    index = build_data_docs(runs, run / "data_docs", run.name)
    blocking = failures["severity"] == "blocking"
    return {
        "failures": str(out),
        "n_failures": len(failures),
        "n_reports_failing": int(failures.loc[blocking, "report_id"].nunique()),
        "n_warnings": int((~blocking).sum()),
        "n_reports_warned": int(failures.loc[~blocking, "report_id"].nunique()),
        "data_docs": str(index),
    }
