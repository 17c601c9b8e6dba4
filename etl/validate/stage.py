"""The validate stage over a run's staging Parquet: template suites, cross-year suite, Data Docs.

<run_dir>/validation/failures.parquet   every (report, rule) that failed, blocking or warning
<run_dir>/data_docs/index.html          GE Data Docs of the run's validations (offline)

Cells are read a chunk of staging parts at a time (≤ CHUNK_REPORTS reports of one year partition) and
pivoted per template into one wide frame: one GE run per (chunk, template), memory bounded by the chunk. Each report row also carries what the
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
NARRATIVE = "narrative"  # optional reports column: JSON of etl.parse.narrative.stated_figures
CHUNK_REPORTS = 20_000  # reports per GE run: GE's fixed cost per run (~1 s) against memory per chunk


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


def _chunks(reports_dir: Path, limit: int) -> list[tuple[int, list[str]]]:
    """(year, part file names) groups of at most ~limit reports: staging parts are written per parse batch,
    so a chunk is a few whole batches, and the same names locate their cells."""
    import pyarrow.parquet as pq

    out: list[tuple[int, list[str]]] = []
    for year_dir in sorted(reports_dir.glob("year=*")):
        year = int(year_dir.name.split("=", 1)[1])
        names: list[str] = []
        size = 0
        for part in sorted(year_dir.glob("*.parquet")):
            rows = pq.ParquetFile(part).metadata.num_rows
            if names and size + rows > limit:
                out.append((year, names))
                names, size = [], 0
            names.append(part.name)
            size += rows
        if names:
            out.append((year, names))
    return out


def validate_staging(run: Path, warehouse: Path | None, chunk_reports: int = CHUNK_REPORTS) -> dict:
    """Validate a run's staging; write failures.parquet and the Data Docs; the stage's summary.

    Memory is bounded by the chunk, not the run: cells are read a few staging parts at a time, with report
    ids and codes as categoricals, and one GE run validates each (chunk, template).
    """
    out = run / "validation" / "failures.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    reports_dir, cells_dir = run / "staging" / "reports", run / "staging" / "cells"
    runs: list[SuiteRun] = []
    frames: list[pd.DataFrame] = []
    if any(reports_dir.rglob("*.parquet")):
        dataset = ds.dataset(reports_dir, partitioning="hive")
        columns = REPORT_FIELDS + ([NARRATIVE] if NARRATIVE in dataset.schema.names else [])
        reports = dataset.to_table(columns=columns).to_pandas()
        xyear: list[pd.DataFrame] = []
        for k, (year, names) in enumerate(_chunks(reports_dir, chunk_reports), start=1):
            ids = (
                ds.dataset([reports_dir / f"year={year}" / n for n in names]).to_table(columns=["report_id"])
            )["report_id"].to_pylist()
            of_chunk = reports[reports["report_id"].isin(ids)]
            part = (
                ds.dataset([cells_dir / f"year={year}" / n for n in names])
                .to_table(columns=["report_id", "code", "value", "unresolved_reason"])
                .to_pandas(strings_to_categorical=True)
            )
            for col in ("report_id", "code"):  # categoricals keep memory small; pivots want plain labels
                part[col] = part[col].astype(str)
            for template, group in of_chunk.groupby("template"):
                frame = _template_frame(part, group, str(template))
                frames.append(
                    validate_frame(
                        frame, str(template), runs=runs, batch=f"year={year} template={template} chunk={k}"
                    )
                )
            few = part[part["code"].isin(XYEAR_CODES)]
            xyear.append(
                few.pivot(index="report_id", columns="code", values="value").reindex(
                    columns=list(XYEAR_CODES)
                )
            )
            del part
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
