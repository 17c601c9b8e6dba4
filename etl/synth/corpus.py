"""Write a synthetic corpus: report files with a <stem>.expected.json label beside each, or (cells only) the
label values as Parquet, streaming either way.

Layout: <out>/<province 2-digit code>/<stem><suffix>, so a million files never share one folder. Reports are
rendered in chunks (optionally by a pool of worker processes); each report is independent of the others, so
the bytes do not depend on the worker count.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from etl.config import PROJECT_ROOT
from etl.synth.document import build, label
from etl.synth.model import Config, ReportSpec, iter_reports
from etl.synth.places import contains

SAMPLE_DIR = PROJECT_ROOT / "sample" / "landing" / "generated"
SAMPLE_N = 300
# the bundled sample predates the layout and heading classes (etl.synth.noise): kept as it is, they are tested
# at scale
SAMPLE_CONFIG = Config(
    seed=2027, violation_rate=0.05, noise_rate=0.3, pin_series=True, layout_rate=0.0, heading_rate=0.0
)
_CHUNK = 500


def report_dir(out: Path, spec: ReportSpec) -> Path:
    return out / spec.issuer.adcode[:2]


def write_report(spec: ReportSpec, out: Path) -> tuple[str, int]:
    """Render one report and its label into `out`; (file format, bytes written)."""
    from etl.synth.render import render

    doc = build(spec)
    data = render(doc)
    folder = report_dir(out, spec)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / doc.file_name).write_bytes(data)
    text = json.dumps(label(doc), ensure_ascii=False, indent=1) + "\n"
    (folder / f"{spec.stem}.expected.json").write_text(text, encoding="utf-8")
    return spec.file_format, len(data)


def _write_task(args: tuple[ReportSpec, Path]) -> tuple[str, int]:
    return write_report(*args)


def _chunks(items: Iterator[ReportSpec], size: int) -> Iterator[list[ReportSpec]]:
    while chunk := list(islice(items, size)):
        yield chunk


def write_corpus(
    n: int, cfg: Config, out: Path, workers: int = 1, progress: Callable[[int], None] | None = None
) -> dict:
    """Write the first n reports of the stream for cfg; returns counts, bytes and seconds per format."""
    out.mkdir(parents=True, exist_ok=True)
    stats: dict = {"reports": 0, "bytes": 0, "formats": Counter(), "seconds": 0.0}
    start = time.perf_counter()
    pool = None
    if workers > 1:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(workers)
    try:
        for chunk in _chunks(iter_reports(n, cfg), _CHUNK):
            tasks = [(spec, out) for spec in chunk]
            results: Iterable[tuple[str, int]] = (
                pool.imap(_write_task, tasks, chunksize=16) if pool else map(_write_task, tasks)
            )
            for fmt, size in results:
                stats["reports"] += 1
                stats["bytes"] += size
                stats["formats"][fmt] += 1
            if progress:
                progress(stats["reports"])
    finally:
        if pool:
            pool.close()
            pool.join()
    stats["seconds"] = round(time.perf_counter() - start, 2)
    stats["formats"] = dict(stats["formats"])
    return stats


def write_sample(out: Path = SAMPLE_DIR) -> dict:
    """The bundled sample for `make run`: ~300 reports of every level and format across several provinces,
    with a city's region report beside its districts' own reports, ~5% labelled violations, and one issuer's
    2021-2023 series whose 2023 二、上年结转 breaks the carry-over from 2022."""
    if out.exists():
        shutil.rmtree(out)  # the folder is generated: regenerate it whole
    stats = write_corpus(SAMPLE_N, SAMPLE_CONFIG, out)
    specs = list(iter_reports(SAMPLE_N, SAMPLE_CONFIG))
    stats["overlaps"] = len(overlaps(specs))
    stats["violations"] = sum(1 for s in specs if s.violations)
    return stats


def overlaps(specs: Iterable[ReportSpec]) -> list[tuple[str, str]]:
    """(region report, report inside its jurisdiction) stems for the same year."""
    by_year: dict[int, list[ReportSpec]] = {}
    for s in specs:
        by_year.setdefault(s.year, []).append(s)
    out = []
    for group in by_year.values():
        for r in (s for s in group if s.scope == "region"):
            out += [
                (r.stem, s.stem) for s in group if s is not r and contains(r.issuer.adcode, s.issuer.adcode)
            ]
    return out


# -- cells only ------------------------------------------------------------------------------------------------
def synthetic_report_id(stem: str) -> str:
    """A report id for a report that has no file (the pipeline uses the file's sha256[:20])."""
    return hashlib.sha256(stem.encode()).hexdigest()[:20]


def write_cells(n: int, cfg: Config, out: Path, batch: int = 10_000) -> dict:
    """No documents: Hive-partitioned Parquet of the labels, shaped like the staging tables of etl.transform
    (<out>/reports/year=Y/*.parquet one row per report, <out>/cells/year=Y/*.parquet one row per report and
    cell code), for loading a warehouse directly."""
    from etl.synth.cells_parquet import CellsWriter

    start = time.perf_counter()
    with CellsWriter(out, batch) as writer:
        for spec in iter_reports(n, cfg):
            writer.add(spec, synthetic_report_id(spec.stem))
    return {"reports": writer.count, "cells": writer.cells, "seconds": round(time.perf_counter() - start, 2)}
