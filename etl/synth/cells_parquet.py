"""Streaming Parquet writer for --cells-only: per-year buffers flushed as row groups, so a million reports
(~200 million cell rows) never sit in memory. Columns follow etl.transform's staging tables (year is the
Hive partition, as there); cell codes and report ids are dictionary-encoded."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from etl.spec import codes
from etl.synth.model import ReportSpec

REPORT_SCHEMA = pa.schema(
    [
        ("report_id", pa.string()),
        ("source_file", pa.string()),
        ("issuer", pa.string()),
        ("template", pa.string()),
        ("file_format", pa.string()),
        ("level", pa.string()),
        ("adcode", pa.string()),
        ("city", pa.string()),
        ("province", pa.string()),
        ("scope", pa.string()),
        ("n_violations", pa.int32()),
        ("violations", pa.string()),  # JSON, as in the labels
    ]
)
CELL_SCHEMA = pa.schema(
    [
        ("report_id", pa.dictionary(pa.int32(), pa.string())),
        ("code", pa.dictionary(pa.int16(), pa.string())),
        ("value", pa.float64()),
        ("is_blank", pa.bool_()),
        ("unit", pa.dictionary(pa.int8(), pa.string())),
    ]
)
_UNITS = ("万元", "元")


class _YearBuffer:
    def __init__(self, out: Path, year: int, template: str, part: int = 0):
        self.out, self.year, self.part = out, year, part
        self.codes = codes(template)
        self.reports: list[dict] = []
        self.values = array("d")  # 8 bytes a cell, not a Python float object
        self.units: list[dict[str, str]] = []
        self.writers: dict[str, pq.ParquetWriter] = {}

    def flush(self) -> None:
        if not self.reports:
            return
        n, k = len(self.reports), len(self.codes)
        ids = pa.array([r["report_id"] for r in self.reports], pa.string())
        # only amounts carry a unit: fill those positions, leave the rest null
        unit_idx = np.full(n * k, -1, dtype=np.int8)
        for i, code in enumerate(self.codes):
            if code.endswith(".amount"):
                unit_idx[np.arange(n) * k + i] = [_UNITS.index(u.get(code, "万元")) for u in self.units]
        unit_col = pa.DictionaryArray.from_arrays(pa.array(unit_idx, mask=unit_idx < 0), pa.array(_UNITS))
        cells = pa.table(
            {
                "report_id": pa.DictionaryArray.from_arrays(
                    pa.array(np.repeat(np.arange(n, dtype=np.int32), k)), ids
                ),
                "code": pa.DictionaryArray.from_arrays(
                    pa.array(np.tile(np.arange(k, dtype=np.int16), n)), pa.array(self.codes, pa.string())
                ),
                "value": pa.array(np.frombuffer(self.values, dtype=np.float64)),
                "is_blank": pa.array(np.zeros(n * k, dtype=bool)),
                "unit": unit_col,
            },
            schema=CELL_SCHEMA,
        )
        self._write("cells", cells)
        self._write("reports", pa.Table.from_pylist(self.reports, schema=REPORT_SCHEMA))
        self.reports, self.values, self.units = [], array("d"), []

    def _write(self, name: str, table: pa.Table) -> None:
        if name not in self.writers:
            path = self.out / name / f"year={self.year}" / f"part-{self.part}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
        self.writers[name].write_table(table)

    def close(self) -> None:
        self.flush()
        for w in self.writers.values():
            w.close()


class CellsWriter:
    def __init__(self, out: Path, batch: int):
        self.out, self.batch = out, batch
        self.buffers: dict[tuple[int, str], _YearBuffer] = {}  # by year and template (2020 on the 2021 form)
        self.count = self.cells = 0

    def __enter__(self) -> CellsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for b in self.buffers.values():
            b.close()

    def add(self, spec: ReportSpec, report_id: str) -> None:
        buf = self.buffers.get((spec.year, spec.template))
        if buf is None:
            part = sum(y == spec.year for y, _ in self.buffers)
            buf = _YearBuffer(self.out, spec.year, spec.template, part)
            self.buffers[(spec.year, spec.template)] = buf
        j = spec.issuer.jurisdiction
        buf.reports.append(
            {
                "report_id": report_id,
                "source_file": spec.stem,
                "issuer": spec.issuer.name,
                "template": spec.template,
                "file_format": "cells-only",
                "level": spec.issuer.level,
                "adcode": j.adcode,
                "city": j.city,
                "province": j.province,
                "scope": spec.scope,
                "n_violations": len(spec.violations),
                "violations": json.dumps(spec.violations, ensure_ascii=False) if spec.violations else None,
            }
        )
        buf.values.extend(float(spec.cells[c]) for c in buf.codes)
        buf.units.append(spec.units)
        self.count += 1
        self.cells += len(buf.codes)
        if len(buf.reports) >= self.batch:
            buf.flush()
