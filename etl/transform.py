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
    ]
)
CELL_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("year", pa.int32()),
        ("code", pa.string()),
        ("value", pa.float64()),
        ("is_blank", pa.bool_()),
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
    }


def cell_columns(src: SourceFile, rep: ParsedReport) -> dict[str, list]:
    """The cell facts of one report, column-wise (cheaper than a dict per cell at national scale)."""
    codes = spec.codes(rep.template)
    blank = set(rep.blank_cells)
    n = len(codes)
    return {
        "report_id": [report_id(src.sha256)] * n,
        "year": [rep.meta.year] * n,
        "code": list(codes),
        "value": [None if (v := rep.cells.get(c)) is None else float(v) for c in codes],
        "is_blank": [c in blank for c in codes],
        "unresolved_reason": [rep.unresolved.get(c) for c in codes],
        "unit": [rep.units.get(c) for c in codes],
        "provenance": [rep.provenance.get(c) for c in codes],
    }


def write_facts(parsed: Iterable[tuple[SourceFile, ParsedReport]], staging: Path, part: str) -> dict[str, int]:
    """Write one batch's reports and cells as Parquet parts under `staging`, partitioned by year.

    Part files are named after the batch, so re-running a batch overwrites exactly its own files.
    """
    reports: list[dict] = []
    cells: dict[str, list] = {f.name: [] for f in CELL_SCHEMA}
    for src, rep in parsed:
        reports.append(report_row(src, rep))
        for k, v in cell_columns(src, rep).items():
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
