"""The validate stage over a run's staging Parquet: template suites, cross-year suite, Data Docs.

<run_dir>/validation/failures.parquet   every (report, rule) that failed, blocking or warning
<run_dir>/data_docs/index.html          GE Data Docs of the run's validations (offline)

Cells are read a chunk of staging parts at a time (≤ CHUNK_REPORTS reports, whole parts, any years) and
placed per template into one wide frame (by categorical codes, not a pivot of string labels): one GE run
per (chunk, template), memory bounded by the chunk. Each report row also carries what the
rules read besides its cells: the parser's reasons for null cells (`unresolved`), the figures its text
states (`narrative`, when the parse stage provides them), scope and adcode.
"""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
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
# the string columns come out of Parquet as dictionaries (pandas categoricals): 4M cell rows never become
# 4M Python strings
DICT_PARQUET = ds.ParquetFileFormat(
    read_options=ds.ParquetReadOptions(dictionary_columns=["report_id", "code", "unresolved_reason"])
)
CHUNK_REPORTS = 75_000  # reports per GE run: GE's fixed cost per run (~0.8 s) against memory per chunk
_ALL_CODES = list(dict.fromkeys([*codes("2021"), *codes("2019")]))


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


def wide_values(part: pd.DataFrame, ids: pd.Index, columns: list[str]) -> pd.DataFrame:
    """The cells of `ids` as one float64 column per code (NaN where absent), placed by categorical codes:
    no per-row string labels and no pivot table, so a chunk's memory stays near its Parquet size."""
    rid, code = part["report_id"].cat, part["code"].cat
    row_of = ids.get_indexer(rid.categories).astype(np.int64)[rid.codes]
    col_of = pd.Index(columns).get_indexer(code.categories).astype(np.int64)[code.codes]
    flat = row_of * len(columns) + col_of
    keep = (row_of >= 0) & (col_of >= 0)
    if not keep.all():  # cells of other templates' reports, or codes outside this template
        flat = flat[keep]
    values = part["value"].to_numpy(dtype="float64", na_value=np.nan)
    if len(flat) != len(values):
        values = values[keep]
    seen = np.zeros(len(ids) * len(columns), dtype=bool)
    seen[flat] = True
    if int(seen.sum()) != len(flat):
        raise ValueError("staging holds a cell twice for one report (report_id, code not unique)")
    wide = np.full(len(ids) * len(columns), np.nan)
    wide[flat] = values
    return pd.DataFrame(wide.reshape(len(ids), len(columns)), columns=columns)


def _template_frame(
    wide: pd.DataFrame, hits: pd.DataFrame, group: pd.DataFrame, template: str
) -> pd.DataFrame:
    """validate_frame's input for one template's reports of a chunk: their rows of the chunk's wide values
    (a report with no cell rows is all null), its cell columns, and the report columns the rules read."""
    ids = pd.Index(group["report_id"].astype(str))
    frame = wide.loc[ids, list(codes(template))].reset_index(drop=True)
    mine = hits[hits["report_id"].isin(ids)]
    frame["unresolved"] = _unresolved(mine).reindex(ids).to_numpy()
    extra = group.set_index("report_id").reindex(ids)
    for col in ("scope", "adcode", NARRATIVE):
        frame[col] = extra[col].to_numpy() if col in extra.columns else None
    frame.insert(0, "report_id", ids.to_numpy())
    return frame


def _kept(reports: pd.DataFrame, failures: pd.DataFrame) -> pd.Series:
    """The report the loader will keep for each issuer-year (etl.outcomes.decide), as a boolean mask.

    An issuer-year printed once keeps its report whatever it holds: decide() runs on the rest only."""
    twice = reports["issuer"].notna() & reports.duplicated(["issuer", "year"], keep=False)
    kept = ~twice
    if not twice.any():
        return kept
    contested = reports[twice]
    blocking = (
        failures[(failures["severity"] == "blocking") & failures["report_id"].isin(contested["report_id"])]
        .groupby("report_id")["rule_id"]
        .agg(tuple)
        .to_dict()
    )
    columns = ["source_file", "sha256", "file_format", "report_id", "issuer", "year", "n_unresolved"]
    candidates = [
        Candidate(src, sha, fmt, rid, issuer, int(year), int(n_unres), blocking.get(rid, ()))
        for src, sha, fmt, rid, issuer, year, n_unres in zip(
            *(contested[c].tolist() for c in columns), strict=True
        )
    ]
    winners = {o.report_id for o in decide(candidates) if o.status != "duplicate"}
    kept[twice] = contested["report_id"].isin(winners).to_numpy()
    return kept


def _chunks(reports_dir: Path, limit: int) -> list[list[str]]:
    """Groups of staging part files ("year=2021/part-….parquet") of at most ~limit reports: parts are written
    per parse batch, so a chunk is a few whole batches (of one year or several), and the same relative paths
    locate their cells. Few, large chunks: GE's cost is mostly per run (~0.8 s), little per report."""
    import pyarrow.parquet as pq

    out: list[list[str]] = []
    names: list[str] = []
    size = 0
    for part in sorted(reports_dir.glob("year=*/*.parquet")):
        rows = pq.ParquetFile(part).metadata.num_rows
        if names and size + rows > limit:
            out.append(names)
            names, size = [], 0
        names.append(part.relative_to(reports_dir).as_posix())
        size += rows
    if names:
        out.append(names)
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
        names_in_schema = ds.dataset(reports_dir, partitioning="hive").schema.names
        columns = REPORT_FIELDS + ([NARRATIVE] if NARRATIVE in names_in_schema else [])
        chunk_reports_frames: list[pd.DataFrame] = []
        xyear: list[pd.DataFrame] = []
        for k, names in enumerate(_chunks(reports_dir, chunk_reports), start=1):
            of_chunk = (
                ds.dataset(
                    [str(reports_dir / n) for n in names],
                    partitioning="hive",
                    partition_base_dir=str(reports_dir),
                )
                .to_table(columns=columns)
                .to_pandas()
            )
            chunk_reports_frames.append(of_chunk)
            years = sorted({n.split("/", 1)[0] for n in names})
            years_label = years[0] if len(years) == 1 else f"{years[0]}..{years[-1].split('=', 1)[1]}"
            part = (
                ds.dataset([cells_dir / n for n in names], format=DICT_PARQUET)
                .to_table(columns=["report_id", "code", "value", "unresolved_reason"])
                .to_pandas()
            )
            pa.default_memory_pool().release_unused()  # the Arrow copy is gone: give its pages back
            # one placement of the chunk's cells (every report, every code of either template)
            ids = pd.Index(of_chunk["report_id"].astype(str))
            wide = wide_values(part, ids, _ALL_CODES).set_axis(ids, axis=0)
            hits = part[part["unresolved_reason"].notna()].astype(
                {"report_id": str, "code": str, "unresolved_reason": str}
            )
            del part
            pa.default_memory_pool().release_unused()
            for template, group in of_chunk.groupby("template"):
                frame = _template_frame(wide, hits, group, str(template))
                frames.append(
                    validate_frame(
                        frame, str(template), runs=runs, batch=f"{years_label} template={template} chunk={k}"
                    )
                )
                del frame
            xyear.append(wide[list(XYEAR_CODES)])
            del wide
        reports = pd.concat(chunk_reports_frames, ignore_index=True)
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
