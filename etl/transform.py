"""Transform: parsed reports -> Parquet fact tables, Hive-partitioned by year.

Two tables: `reports` (one row per report: the report dimension) and `cells` (one row per report and spec
code: the cell facts). Both are written under a run's staging folder; publishing them is the loader's job.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from etl import spec
from etl.config import PARSER_VERSION
from etl.corrections import Correction
from etl.model import ParsedReport, SourceFile

REPORT_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("sha256", pa.string()),
        ("source_file", pa.string()),
        ("issuer", pa.string()),
        ("year", pa.int32()),
        ("template", pa.string()),
        ("file_format", pa.string()),
        ("adcode", pa.string()),
        ("city", pa.string()),
        ("province", pa.string()),
        ("scope", pa.string()),
        ("scope_evidence", pa.string()),
        ("region_note", pa.string()),
        ("parser_version", pa.string()),
        ("n_blank", pa.int32()),
        ("n_unresolved", pa.int32()),
        ("notes", pa.string()),
        ("narrative", pa.string()),  # JSON {figure: N} the text states, checked against the tables
        ("source_url", pa.string()),  # fetched from the web: the URL, when, and which version of it
        ("fetched_at", pa.string()),
        ("fetch_version", pa.int32()),
        ("read_by_ocr", pa.bool_()),  # a scan read by OCR (etl.parse.scan)
        (
            "ocr",
            pa.string(),
        ),  # JSON: the OCR summary (engine, dpi, pages, low-confidence/repaired/nulled cells)
    ]
)
CELL_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("year", pa.int32()),
        ("code", pa.string()),
        ("value", pa.float64()),
        ("is_blank", pa.bool_()),
        ("printed_value", pa.float64()),  # as printed; differs from value only when derived or corrected
        ("derived", pa.bool_()),  # a blank total filled from its printed parts
        ("correction", pa.string()),  # reviewer, reason, date of a reviewed correction (JSON)
        ("unresolved_reason", pa.string()),
        ("unit", pa.string()),
        ("provenance", pa.string()),
    ]
)


def report_id(sha256: str) -> str:
    """Report id = the content hash (80 bits are plenty for millions of reports and keep keys short)."""
    return sha256[:20]


def report_row(src: SourceFile, rep: ParsedReport) -> dict:
    m = rep.meta
    return {
        "report_id": report_id(src.sha256),
        "sha256": src.sha256,
        "source_file": src.path,
        "issuer": m.issuer,
        "year": m.year,
        "template": rep.template,
        "file_format": rep.file_format,
        "adcode": m.adcode,
        "city": m.city,
        "province": m.province,
        "scope": m.scope,
        "scope_evidence": m.scope_evidence,
        "region_note": m.region_note,
        "parser_version": PARSER_VERSION,
        "n_blank": len(rep.blank_cells),
        "n_unresolved": len(rep.unresolved),
        "notes": json.dumps(rep.notes, ensure_ascii=False) if rep.notes else None,
        "narrative": json.dumps(rep.narrative, ensure_ascii=False, sort_keys=True) if rep.narrative else None,
        "source_url": src.source_url,
        "fetched_at": src.fetched_at,
        "fetch_version": src.fetch_version,
        "read_by_ocr": bool(rep.ocr),
        "ocr": json.dumps(rep.ocr, ensure_ascii=False, sort_keys=True) if rep.ocr else None,
    }


def _sum_pairs(template: str) -> list[tuple[str, list[str]]]:
    """(total, parts) in the order a blank total can be filled: 表三 rows, （七）总计 columns, its row again,
    表四 blocks."""
    applicants = [c for c in spec.APPLICANT_COLUMNS if c != "total"]
    row = [(f"t3.{r}.total", [f"t3.{r}.{c}" for c in applicants]) for r in spec.t3_rows(template)]
    col = [
        (f"t3.total.{c}", [f"t3.{r}.{c}" for r in spec.t3_outcome_rows(template)])
        for c in spec.APPLICANT_COLUMNS
    ]
    t4 = [(f"t4.{b}.total", [f"t4.{b}.{c}" for c in spec.T4_COLUMNS if c != "total"]) for b in spec.T4_BLOCKS]
    return [*row, *col, ("t3.total.total", [f"t3.total.{c}" for c in applicants]), *t4]


def derive_blank_totals(template: str, values: dict[str, float | None], blank: set[str]) -> set[str]:
    """Fill totals printed blank whose parts are all known and at least one printed (not blank).

    Some agencies leave 总计 cells empty (the 2019 上海市政府办公厅 report leaves every outcome row's 总计
    blank); the total is then the sum of what they printed. A blank part is never invented: parts stay as
    printed, and a total whose parts are unknown or all blank stays as printed.
    """
    derived: set[str] = set()
    for total, parts in _sum_pairs(template):
        if total not in blank or total in derived:
            continue
        if any(values.get(p) is None for p in parts) or all(p in blank and p not in derived for p in parts):
            continue
        values[total] = float(sum(values[p] for p in parts))  # type: ignore[misc]
        derived.add(total)
    return derived


def cell_columns(
    src: SourceFile, rep: ParsedReport, corrections: dict[str, Correction] | None = None
) -> dict[str, list]:
    """The cell facts of one report, column-wise (cheaper than a dict per cell at national scale).

    value = as printed, then reviewed corrections, then blank totals derived from their parts.
    """
    codes = spec.codes(rep.template)
    blank = set(rep.blank_cells)
    corrections = corrections or {}
    printed = {c: None if (v := rep.cells.get(c)) is None else float(v) for c in codes}
    values = dict(printed)
    for code, corr in corrections.items():
        if code in values:
            values[code] = corr.corrected_value
    derived = derive_blank_totals(rep.template, values, blank - set(corrections))
    n = len(codes)
    return {
        "report_id": [report_id(src.sha256)] * n,
        "year": [rep.meta.year] * n,
        "code": list(codes),
        "value": [values[c] for c in codes],
        "is_blank": [c in blank for c in codes],
        "printed_value": [printed[c] for c in codes],
        "derived": [c in derived for c in codes],
        "correction": [corrections[c].audit() if c in corrections else None for c in codes],
        "unresolved_reason": [rep.unresolved.get(c) for c in codes],
        "unit": [rep.units.get(c) for c in codes],
        "provenance": [rep.provenance.get(c) for c in codes],
    }


def write_facts(
    parsed: Iterable[tuple[SourceFile, ParsedReport]],
    staging: Path,
    part: str,
    corrections: dict[str, dict[str, Correction]] | None = None,
) -> dict[str, int]:
    """Write one batch's reports and cells as Parquet parts under `staging`, partitioned by year.

    Part files are named after the batch, so re-running a batch overwrites exactly its own files.
    """
    reports: list[dict] = []
    cells: dict[str, list] = {f.name: [] for f in CELL_SCHEMA}
    for src, rep in parsed:
        reports.append(report_row(src, rep))
        rid = report_id(src.sha256)
        for k, v in cell_columns(src, rep, (corrections or {}).get(rid)).items():
            cells[k].extend(v)
    tables = {
        "reports": pa.Table.from_pylist(reports, schema=REPORT_SCHEMA),
        "cells": pa.Table.from_pydict(cells, schema=CELL_SCHEMA),
    }
    for name, table in tables.items():
        if table.num_rows == 0:
            continue
        ds.write_dataset(
            table,
            staging / name,
            format="parquet",
            partitioning=ds.partitioning(pa.schema([("year", pa.int32())]), flavor="hive"),
            existing_data_behavior="overwrite_or_ignore",
            basename_template=f"part-{part}-{{i}}.parquet",
        )
    return {"reports": tables["reports"].num_rows, "cells": tables["cells"].num_rows}


def reset_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
