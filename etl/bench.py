"""`make bench N=…`: every stage measured side by side against its floor, on one generated corpus.

Stages run in this process through the same functions as the pipeline (etl.pipeline), so what is measured is
what runs. Floors are measured in the same run on the same files: for text/HTML, decoding the bytes plus one
regex scan for numbers; for PDF, pypdfium2's plain text extraction. Airflow's overhead is the wall time of
`airflow dags test` against `python -m etl run` on the same files. The province mart is also timed over a
warehouse of 1,000,000 reports (generated once from labels, cached under var/bench).

Writes docs/benchmarks.md; the last line printed is one JSON object with the headline numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from etl.accuracy import expected_cells
from etl.config import PROJECT_ROOT, load_settings

# from the environment, so the stage processes (spawned) see the same folders
BENCH_DIR = load_settings().bench_dir
DOC = load_settings().bench_doc
_NUMBER = re.compile(rb"\d+")
TEXT_FORMATS = ("text", "markdown", "html")
TARGETS = {
    "parse_text_html_floor_ratio": ("<=", 10),
    "pdf_reports_per_s_per_core": (">=", 10),
    "validate_s_at_150k": ("<=", 60),
    "validate_vs_pandas_ratio": ("<=", 5),
    "load_s_at_150k": ("<=", 60),
    "mart_query_s": ("<=", 1),
    "peak_rss_mb": ("<=", 2048),
    "airflow_overhead_ratio": ("<=", 1.3),
    "ocr_reports_per_min_per_core": (">=", 10),
    "ocr_cells_exact_pct": (">=", 99),
    "ocr_cells_wrong_unflagged": ("<=", 0),
    "incremental_rerun_ratio": ("<=", 0.05),
    "incremental_add_ratio": ("<=", 0.02),
    "incremental_rerun_warehouse_identical": ("==", True),
    "metadata_wrong": ("<=", 0),
    "units_filed_under_parent": ("<=", 0),
    "issuer_year_conflicts": ("<=", 0),
}


def _child(conn, fn, args) -> None:
    started = time.perf_counter()
    out = fn(*args)
    elapsed = time.perf_counter() - started
    # the largest process: this one, or a worker it ran (parse runs batches in a pool, as Airflow maps them)
    peak = max([_own_peak_kb(), *_WORKER_PEAKS_KB])
    conn.send((out, elapsed, peak / 1024))
    conn.close()


_WORKER_PEAKS_KB: list[int] = []  # peaks the pool workers of this stage process reported


def _own_peak_kb() -> int:
    """This process's peak RSS since it started its program. Not getrusage's ru_maxrss: Linux carries that
    over exec from the forked copy of the parent, so a spawned stage would inherit the bench's own size."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _with_peak(fn, *args):
    """Run fn in a pool worker and return (its result, the worker's peak RSS so far, or that of the
    isolated parse process it ran, whichever is larger)."""
    from etl.parse.isolation import peak_worker_kb

    return fn(*args), max(_own_peak_kb(), peak_worker_kb())


def _pool_map(fn, items: list, workers: int) -> list:
    """fn over items in `workers` spawned processes; their peaks are recorded for this stage."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers, maxtasksperchild=50) as pool:
        pairs = pool.starmap(_with_peak, [(fn, item) for item in items], chunksize=1)
    _WORKER_PEAKS_KB.extend(peak for _, peak in pairs)
    return [out for out, _ in pairs]


def in_child(fn, *args):
    """Run fn(*args) in a fresh process: (result, seconds inside fn, the process's peak RSS in MB).

    Each stage gets its own process, as an Airflow task does, so one stage's memory is not charged to the
    next and the interpreter's start-up is not charged to any."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args))
    proc.start()
    send.close()
    try:
        out, elapsed, rss = recv.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"{fn.__name__} died (exit code {proc.exitcode})") from None
    proc.join()
    return out, elapsed, round(rss, 1)


class Timer:
    def __init__(self) -> None:
        self.stages: dict[str, dict] = {}

    def run(self, name: str, fn, *args):
        out, elapsed, rss = in_child(fn, *args)
        self.stages[name] = {"s": round(elapsed, 3), "peak_rss_mb": rss}
        return out


# -- corpus ------------------------------------------------------------------------------------------------
def synth_version() -> str:
    """A hash of the generator's code: cached corpora and labels are rebuilt when it changes."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "etl" / "synth").rglob("*.py")):
        if path.name != "scan.py":  # scanned renderings of PDFs: tooling that generates no corpus
            h.update(path.read_bytes())
    return h.hexdigest()[:10]


def ensure_corpus(n: int, seed: int, workers: int) -> Path:
    from etl.synth.corpus import write_corpus
    from etl.synth.model import Config

    out = BENCH_DIR / f"corpus-n{n}-s{seed}-{synth_version()}"
    done = out / ".complete"
    if not done.exists():
        shutil.rmtree(out, ignore_errors=True)
        stats = write_corpus(n, Config(seed=seed), out, workers=workers)
        done.write_text(json.dumps(stats, default=str), encoding="utf-8")
    return out


# -- floors ------------------------------------------------------------------------------------------------
def _floor_files(landing: Path, files: list[dict]) -> dict:
    from etl.extract import decode_bytes

    text_s = pdf_s = 0.0
    n_text = n_pdf = 0
    for f in files:
        data = (landing / f["path"]).read_bytes()
        if f["file_format"] in TEXT_FORMATS:
            t = time.perf_counter()
            _NUMBER.findall(decode_bytes(data, f["file_format"]).encode("utf-8"))
            text_s += time.perf_counter() - t
            n_text += 1
        elif f["file_format"] == "pdf":
            import pypdfium2 as pdfium

            t = time.perf_counter()
            doc = pdfium.PdfDocument(data)
            for page in doc:
                page.get_textpage().get_text_range()
            doc.close()
            pdf_s += time.perf_counter() - t
            n_pdf += 1
    return {"text_html_s": text_s, "n_text_html": n_text, "pdf_s": pdf_s, "n_pdf": n_pdf}


def _floor_task(args: tuple[str, list[dict]]) -> dict:
    return _floor_files(Path(args[0]), args[1])


def floors(landing: Path, files: list[dict], workers: int) -> dict:
    """The cheapest honest pass over the same bytes: decode + one regex scan; pypdfium2 text for PDFs.

    Timed per file inside `workers` processes, as parse is, so both see the same machine load."""
    chunks = [files[i : i + 200] for i in range(0, len(files), 200)]
    if workers <= 1:
        parts = [_floor_files(landing, c) for c in chunks]
    else:
        parts = _pool_map(_floor_task, [(str(landing), c) for c in chunks], workers)
    return {k: sum(p[k] for p in parts) for k in ("text_html_s", "n_text_html", "pdf_s", "n_pdf")}


def parse_costs(run_dir: Path) -> dict[str, dict]:
    by: dict[str, dict] = defaultdict(lambda: {"n": 0, "ms": 0.0, "bytes": 0})
    for path in sorted((run_dir / "parsed").glob("batch-*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                b = by[rec["file"]["file_format"]]
                b["n"] += 1
                b["ms"] += rec.get("parse_ms", 0.0)
                b["bytes"] += rec["file"]["size"]
    return dict(by)


# -- validation against plain pandas ----------------------------------------------------------------------
def pandas_rules_s(run_dir: Path) -> float:
    """The same blocking rules computed directly with numpy over the same wide frames: cells read per year
    as dictionaries and placed by their codes with the stage's own placement (the floor is the efficient
    way, not a pivot of strings)."""
    import numpy as np
    import pandas as pd
    import pyarrow.dataset as ds

    from etl import spec
    from etl.validate import rules
    from etl.validate.stage import DICT_PARQUET, wide_values

    started = time.perf_counter()
    reports = (
        ds.dataset(run_dir / "staging" / "reports", partitioning="hive")
        .to_table(columns=["report_id", "template", "year"])
        .to_pandas()
    )
    cells = ds.dataset(run_dir / "staging" / "cells", partitioning="hive", format=DICT_PARQUET)
    failing = 0
    for year, of_year in reports.groupby("year"):
        part = cells.to_table(
            columns=["report_id", "code", "value"], filter=ds.field("year") == int(year)
        ).to_pandas()
        for template, group in of_year.groupby("template"):
            columns = list(spec.codes(template))
            values = wide_values(part, pd.Index(group["report_id"]), columns).to_numpy()
            col = {c: i for i, c in enumerate(columns)}
            bad = np.zeros(len(values), dtype=bool)
            for rule in rules(template):
                if rule.severity != "blocking":
                    continue
                if rule.parts:
                    p = values[:, [col[c] for c in rule.parts]]
                    t = values[:, [col[c] for c in rule.totals]]
                    ok = np.isnan(p).any(axis=1) | np.isnan(t).any(axis=1) | (p.sum(axis=1) == t.sum(axis=1))
                    bad |= ~ok
                elif rule.cells:
                    v = values[:, [col[c] for c in rule.cells if c in col]]
                    if "non_negative" in rule.checks:
                        bad |= (v < 0).any(axis=1)
                    if "integer" in rule.checks:
                        bad |= (np.nan_to_num(v) % 1 != 0).any(axis=1)
            failing += int(bad.sum())
        del part
    return time.perf_counter() - started


# -- the 1,000,000-report warehouse for the mart query -----------------------------------------------------
def ensure_labels(n: int, seed: int) -> Path:
    """Cells-only labels of n generated reports (no documents), cached: the input of the scale runs."""
    from etl.synth.corpus import write_cells
    from etl.synth.model import Config

    labels = BENCH_DIR / f"labels-n{n}-s{seed}-{synth_version()}"
    if not (labels / ".complete").exists():
        shutil.rmtree(labels, ignore_errors=True)
        write_cells(n, Config(seed=seed), labels)
        (labels / ".complete").write_text(str(n), encoding="utf-8")
    return labels


def labels_to_staging(labels: Path, staging: Path, part_reports: int) -> list:
    """Staging Parquet (etl.transform's schemas) from labels, in parts of part_reports reports as the
    parse batches would write them; returns every report's ledger outcome as loaded."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from etl.config import PARSER_VERSION
    from etl.outcomes import Outcome
    from etl.transform import CELL_SCHEMA, REPORT_SCHEMA

    cell_schema = CELL_SCHEMA.remove(CELL_SCHEMA.get_field_index("year"))
    outcomes: list[Outcome] = []
    shutil.rmtree(staging, ignore_errors=True)
    for year_dir in sorted((labels / "reports").glob("year=*")):
        year = int(year_dir.name.split("=")[1])
        reports = ds.dataset(year_dir).to_table()
        n_rows = reports.num_rows
        ids = reports.column("report_id")
        extra = {
            "sha256": ids,
            "parser_version": pa.array([PARSER_VERSION] * n_rows),
            "n_blank": pa.array([0] * n_rows, pa.int32()),
            "n_unresolved": pa.array([0] * n_rows, pa.int32()),
        }
        table = pa.table(
            {
                k: extra.get(k, reports.column(k) if k in reports.column_names else pa.nulls(n_rows))
                for k in REPORT_SCHEMA.names
                if k != "year"
            }
        ).cast(REPORT_SCHEMA.remove(REPORT_SCHEMA.get_field_index("year")))
        (staging / "reports" / year_dir.name).mkdir(parents=True, exist_ok=True)
        (staging / "cells" / year_dir.name).mkdir(parents=True, exist_ok=True)
        for part in range(0, n_rows, part_reports):
            pq.write_table(
                table.slice(part, part_reports), staging / "reports" / year_dir.name / f"part-{part}.parquet"
            )
        outcomes += [
            Outcome(src, rid, fmt, "loaded", None, rid, year)
            for rid, src, fmt in zip(
                ids.to_pylist(),
                reports.column("source_file").to_pylist(),
                reports.column("file_format").to_pylist(),
                strict=True,
            )
        ]
        writers: dict[int, pq.ParquetWriter] = {}
        try:
            for batch in ds.dataset(labels / "cells" / year_dir.name).to_batches():
                rid = batch.column("report_id").cast(pa.string())
                part_of = pc.divide(pc.index_in(rid, value_set=ids), part_reports).to_numpy(
                    zero_copy_only=False
                )
                m = batch.num_rows
                t = pa.table(
                    {
                        "report_id": rid,
                        "code": batch.column("code").cast(pa.string()),
                        "value": batch.column("value"),
                        "is_blank": batch.column("is_blank"),
                        "printed_value": batch.column("value"),
                        "derived": pa.array([False] * m),
                        "correction": pa.nulls(m, pa.string()),
                        "unresolved_reason": pa.nulls(m, pa.string()),
                        "unit": batch.column("unit").cast(pa.string()),
                        "provenance": pa.nulls(m, pa.string()),
                    },
                    schema=cell_schema,
                )
                for part in set(part_of.tolist()):
                    if part not in writers:
                        path = staging / "cells" / year_dir.name / f"part-{part * part_reports}.parquet"
                        writers[part] = pq.ParquetWriter(path, cell_schema)
                    writers[part].write_table(t.filter(pa.array(part_of == part)))
        finally:
            for w in writers.values():
                w.close()
    return outcomes


def _no_failures():
    import pandas as pd

    from etl.validate import FAILURE_COLUMNS

    return pd.DataFrame({c: pd.Series(dtype="string") for c in FAILURE_COLUMNS})


def ensure_mart_warehouse(n: int, seed: int) -> Path:
    """A warehouse of n reports loaded through the real loader from label-only Parquet (no documents)."""
    from etl.load import load_run
    from etl.pipeline import suite_version
    from etl.warehouse.backend import schema_version

    root = BENCH_DIR / f"mart-n{n}-s{seed}"
    db = root / "warehouse.duckdb"
    done = root / ".complete"
    if done.exists() and done.read_text(encoding="utf-8") == schema_version():
        return db
    db.unlink(missing_ok=True)
    staging = root / "staging"
    # every report loads here: the mart query's cost is what is measured, not validation
    outcomes = labels_to_staging(ensure_labels(n, seed), staging, part_reports=200_000)
    load_run(db, staging, _no_failures(), outcomes, "bench-mart", suite_version())
    shutil.rmtree(staging)
    done.write_text(schema_version(), encoding="utf-8")
    return db


def scale_prepare(n: int, seed: int) -> str:
    """A run folder with n reports' staging (from labels, parts of 5,000 reports) and their ledger."""
    import pickle

    run = BENCH_DIR / f"scale-n{n}-s{seed}"
    shutil.rmtree(run, ignore_errors=True)
    outcomes = labels_to_staging(ensure_labels(n, seed), run / "staging", part_reports=5_000)
    (run / "outcomes.pkl").write_bytes(pickle.dumps(outcomes))
    return str(run)


def scale_validate(run: str) -> dict:
    """The stage's summary and its seconds once imported (the numpy floor is timed the same way: the
    libraries' import, ~3 s for Great Expectations, is in the stage's total, not in the comparison)."""
    from etl.validate.stage import validate_staging

    started = time.perf_counter()
    out = validate_staging(Path(run), None)
    return {**out, "compute_s": round(time.perf_counter() - started, 3)}


def scale_load(run: str) -> dict:
    """Publish the scale run as a clean one: the loader's cost is measured, not the rules'."""
    import pickle

    from etl.load import load_run
    from etl.pipeline import suite_version

    outcomes = pickle.loads((Path(run) / "outcomes.pkl").read_bytes())
    db = Path(run) / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    return load_run(db, Path(run) / "staging", _no_failures(), outcomes, "bench-scale", suite_version())


def mart_times(db: Path, repeats: int = 3) -> dict[str, float]:
    """Best-of-n seconds: rebuilding every mart, and the province × year mart's own query over the published
    report-level tables (the statement that makes mart_province_year, run as a SELECT)."""
    from etl.load import build_marts
    from etl.warehouse import Target, connect
    from etl.warehouse.sql import script

    build_marts(db)  # warm: the first build pays for reading the file into the buffer pool
    build = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        build_marts(db)
        build = min(build, time.perf_counter() - started)
    head = "CREATE TABLE mart_province_year AS"
    (stmt,) = [s for s in script("marts.sql") if s.startswith(head)]
    query = float("inf")
    with connect(Target(duckdb_path=db), read_only=True) as wh:
        for _ in range(repeats):
            started = time.perf_counter()
            wh.fetchall(stmt[len(head) :])
            query = min(query, time.perf_counter() - started)
    return {"marts_build_s": round(build, 3), "mart_query_s": round(query, 3)}


# -- Airflow against the plain runner ---------------------------------------------------------------------
def wall(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{proc.stderr[-2000:]}{proc.stdout[-2000:]}")
    return time.perf_counter() - started


def airflow_vs_runner(landing: Path) -> dict:
    env = dict(os.environ)
    for line in (PROJECT_ROOT / "etc" / "airflow.env").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip().replace("${PROJECT_ROOT}", str(PROJECT_ROOT))
    home = BENCH_DIR / "airflow"
    env |= {"AIRFLOW_HOME": str(home), "ETL_LANDING_DIR": str(landing)}
    home.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    wall([py, "-m", "airflow", "db", "migrate"], env)
    runner_dir, airflow_dir = BENCH_DIR / "work-runner", BENCH_DIR / "work-airflow"
    for d in (runner_dir, airflow_dir):
        shutil.rmtree(d, ignore_errors=True)
    runner = wall([py, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(runner_dir)], env)
    airflow = wall(
        [py, "-m", "airflow", "dags", "test", "annual_reports"], env | {"ETL_WORKDIR": str(airflow_dir)}
    )
    return {"runner_s": round(runner, 2), "airflow_s": round(airflow, 2), "ratio": round(airflow / runner, 3)}


# -- accuracy at scale -------------------------------------------------------------------------------------
def _parsed_records(run_dir: Path) -> Iterator[tuple[str, dict]]:
    for path in sorted((run_dir / "parsed").glob("batch-*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                yield rec["file"]["path"], rec


def accuracy(landing: Path, run_dir: Path) -> dict:
    outcome = json.loads((run_dir / "outcome.json").read_text(encoding="utf-8"))
    status = {o["source_file"]: o for o in outcome["outcomes"]}
    quarantined = outcome["quarantined"]
    stats = {
        "reports": 0,
        "cells_wrong": 0,
        "cells_uncertain": 0,  # glued cells whose reading rests on identities the source breaks: not scored
        "reports_with_wrong_cells": 0,
        "violations": 0,
        "violations_caught": 0,
        "violations_undeterminable": 0,
        "valid_quarantined": 0,
        "rejected": 0,
        "metadata_wrong": 0,  # reports whose issuer, year, adcode or scope differ from the label
    }
    wrong_examples: list[str] = []
    meta_examples: list[str] = []
    for src, rec in _parsed_records(run_dir):  # streamed: 150,000 records are not held at once
        label_path = landing / (src.rsplit(".", 1)[0] + ".expected.json")
        if src.endswith(".page.txt"):
            label_path = landing / (src[: -len(".page.txt")] + ".expected.json")
        if not label_path.exists():
            continue
        label = json.loads(label_path.read_text(encoding="utf-8"))
        stats["reports"] += 1
        if "rejected" in rec:
            stats["rejected"] += 1
            wrong_examples.append(f"{src}: rejected {rec['rejected']}")
            continue
        cells = rec["report"]["cells"]
        meta = rec["report"]["meta"]
        off = [k for k in ("issuer", "year", "adcode", "scope") if meta.get(k) != label.get(k)]
        if off:
            stats["metadata_wrong"] += 1
            if len(meta_examples) < 5:
                meta_examples.append(
                    f"{src}: " + ", ".join(f"{k} {meta.get(k)!r} != {label.get(k)!r}" for k in off)
                )
        unresolvable = set(label.get("unresolvable_cells", []))
        uncertain = set(label.get("uncertain_cells", []))  # not scored (as in etl.accuracy)
        stats["cells_uncertain"] += len(uncertain)
        wrong = [c for c, v in expected_cells(label).items() if cells.get(c) != v]
        if wrong:
            stats["cells_wrong"] += len(wrong)
            stats["reports_with_wrong_cells"] += 1
            if len(wrong_examples) < 10:
                wrong_examples.append(f"{src}: {wrong[:3]}")
        violations = [v for v in label.get("violations", []) if not v["rule_id"].startswith("xyear.")]
        blocking = {v["rule_id"] for v in violations}
        # a violation whose cells the source leaves undetermined (glued digits) cannot fire its own rule:
        # caught then means quarantined at all when some of its cells are known; none known, none expected
        touched = {c for v in violations for c in v["cells"]}
        unknown = touched & (unresolvable | uncertain)
        got = set(quarantined.get(src, []))
        if violations and unknown == touched:
            stats["violations_undeterminable"] += 1
        elif blocking:
            stats["violations"] += 1
            if status.get(src, {}).get("status") == "quarantined" and (blocking <= got or unknown):
                stats["violations_caught"] += 1
            elif len(wrong_examples) < 20:
                wrong_examples.append(
                    f"{src}: violation {sorted(blocking)} -> {status.get(src, {}).get('status')} {sorted(got)}"
                )
        elif status.get(src, {}).get("status") == "quarantined":
            stats["valid_quarantined"] += 1
            if len(wrong_examples) < 20:
                wrong_examples.append(f"{src}: valid but quarantined {quarantined.get(src)}")
    stats["examples"] = wrong_examples + meta_examples
    return stats


def metadata_stage(landing: Path, run_dir: Path) -> dict:
    """Metadata accuracy per field (issuer, year, adcode, city, province, scope) on the parsed corpus, the
    units filed under their parent, and the issuer-years the run quarantined as conflicts (different tables
    under one issuer-year: on a generated corpus, a metadata misread or a generator bug)."""
    from etl.accuracy import MetaScore
    from etl.outcomes import CONFLICT_RULE

    score = MetaScore()
    for src, rec in _parsed_records(run_dir):
        stem = src[: -len(".page.txt")] if src.endswith(".page.txt") else src.rsplit(".", 1)[0]
        label_path = landing / (stem + ".expected.json")
        if label_path.exists():
            meta = rec["report"]["meta"] if "report" in rec else None
            score.add(src, meta, json.loads(label_path.read_text(encoding="utf-8")))
    outcome = json.loads((run_dir / "outcome.json").read_text(encoding="utf-8"))
    conflicts = sum(CONFLICT_RULE in rules for rules in outcome["quarantined"].values())
    fields = {f: f"{score.right[f]}/{score.scored[f]}" for f in score.right}
    return {
        "reports": score.reports,
        "fields": fields,
        "under_parent": score.under_parent,
        "issuer_year_conflicts": conflicts,
        "examples": score.examples,
    }


# -- report ------------------------------------------------------------------------------------------------
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _verdict(key: str, value: float | None) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, target = TARGETS[key]
    ok = {"<=": value <= target, ">=": value >= target, "==": value == target}[op]
    return f"{'met' if ok else 'MISSED'} (target {op} {target})"


def write_doc(result: dict, details: dict) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench N={result['n_reports']}` on {details['date']}: {details['machine']}.",
        "Every number below comes from one run over one generated corpus (`python -m etl.synth`, seed "
        f"{details['seed']}); floors were measured in the same run on the same files.",
        "",
        "## Headline",
        "",
        "| metric | value | verdict |",
        "|---|---|---|",
    ]
    for key, value in result.items():
        lines.append(f"| `{key}` | {value} | {_verdict(key, value)} |")
    lines += [
        "",
        "## Stages",
        "",
        "| stage | seconds | reports/s | MB/s | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for name, st in details["stages"].items():
        lines.append(
            f"| {name} | {st['s']} | {st.get('reports_per_s', '')} | {st.get('mb_per_s', '')} | {st['peak_rss_mb']} |"
        )
    lines += [
        "",
        "## Parse by format (one core)",
        "",
        "| format | reports | ms/report | reports/s | MB/s |",
        "|---|---|---|---|---|",
    ]
    for fmt, c in sorted(details["parse_by_format"].items()):
        per = c["ms"] / max(c["n"], 1)
        lines.append(
            f"| {fmt} | {c['n']} | {per:.2f} | {1000 / per if per else 0:.1f} | "
            f"{c['bytes'] / 2**20 / max(c['ms'] / 1000, 1e-9):.2f} |"
        )
    lines += [
        "",
        "## Floors",
        "",
        "```",
        json.dumps(details["floors"], indent=1),
        "```",
        "",
        "## Airflow against `python -m etl run`",
        "",
        "```",
        json.dumps(details["airflow"], indent=1),
        "```",
        "",
        "## Incremental runs",
        "",
        "```",
        json.dumps(details.get("incremental") or {}, indent=1),
        "```",
        "",
        "## Accuracy at scale",
        "",
        "```",
        json.dumps(details["accuracy"], indent=1, ensure_ascii=False),
        "```",
        "",
    ]
    if details.get("notes"):
        lines += ["## Notes", "", *details["notes"], ""]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines), encoding="utf-8")


def ocr_stage(n: int) -> dict:
    """Scanned renderings (200 dpi, clean and noisy-rotated in turn) of the first `n` generated PDFs of the
    bundled sample, parsed through OCR serially in this one process: reports per minute per core, cells exact,
    and wrong cells that would load without a failed rule or a flag (etl.accuracy). Rendering is not timed."""
    from etl.accuracy import _silent_wrong
    from etl.model import RejectedInput
    from etl.parse import parse_bytes
    from etl.synth import scan

    srcs = scan.sources([PROJECT_ROOT / "sample" / "landing" / "generated"], n)
    variants = [v for v in scan.VARIANTS if v.name in scan.GENERATED_VARIANTS]
    exact = scored = silent = rejected = 0
    seconds = 0.0
    for k, (pdf, label, _) in enumerate(srcs):
        data = scan.scanned(pdf.read_bytes(), variants[k % len(variants)], seed=k)
        started = time.perf_counter()
        try:
            rep = parse_bytes(data, pdf.name)
        except RejectedInput:
            rejected += 1
            continue
        finally:
            seconds += time.perf_counter() - started
        expected = expected_cells(label)
        exact += sum(rep.cells.get(c) == v for c, v in expected.items())
        scored += len(expected)
        silent += _silent_wrong(rep, expected)[0]
    return {
        "reports": len(srcs),
        "rejected": rejected,
        "seconds": round(seconds, 1),
        "reports_per_min": round(len(srcs) / seconds * 60, 1) if seconds else None,
        "cells_exact_pct": round(100 * exact / scored, 2) if scored else None,
        "cells_wrong_unflagged": silent,
    }


# -- incremental runs (issue 11) -------------------------------------------------------------------------
INCREMENTAL_ADD_PER_150K = 1_000  # the issue's "1,000 new files" on 150,000: the same share at any N


def _link_landing(corpus: Path, dest: Path, files: list[Path]) -> None:
    for src in files:
        target = dest / src.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(src, target)  # hard links: the same inodes, so the stat cache sees unchanged files


def _timed_run(landing: str, work: str) -> dict:
    from etl import pipeline

    started = time.perf_counter()
    out = pipeline.run(landing=landing, workdir=work)
    return {"s": time.perf_counter() - started, "incremental": out["incremental"], "counts": out["counts"]}


def incremental_runs(corpus: Path, timer: Timer, label: str) -> dict:
    """`python -m etl run` three times on one workdir, each in a process of its own: over the corpus minus
    its last N·1000/150,000 files (a full run), again unchanged, and with those files added."""
    import hashlib

    reports = sorted(
        p
        for p in corpus.rglob("*")
        if p.is_file() and not p.name.startswith(".") and ".expected" not in p.name
    )
    n_add = max(1, round(len(reports) * INCREMENTAL_ADD_PER_150K / 150_000))
    landing = BENCH_DIR / f"incremental-landing-{label}"
    work = BENCH_DIR / f"incremental-work-{label}"
    shutil.rmtree(landing, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    _link_landing(corpus, landing, reports[:-n_add])

    def digest() -> str:
        return hashlib.sha256((work / "warehouse.duckdb").read_bytes()).hexdigest()

    full = timer.run(
        f"incremental: full run, {len(reports) - n_add:,} files", _timed_run, str(landing), str(work)
    )
    before = digest()
    rerun = timer.run("incremental: second run, unchanged", _timed_run, str(landing), str(work))
    identical = digest() == before
    _link_landing(corpus, landing, reports[-n_add:])
    added = timer.run(f"incremental: {n_add:,} files added", _timed_run, str(landing), str(work))
    return {
        "files": len(reports) - n_add,
        "added": n_add,
        "full_s": round(full["s"], 2),
        "rerun_s": round(rerun["s"], 2),
        "add_s": round(added["s"], 2),
        "rerun_ratio": round(rerun["s"] / full["s"], 4),
        "add_ratio": round(added["s"] / full["s"], 4),
        "rerun_identical": identical,
        "rerun_parsed": rerun["incremental"]["parsed"],
        "add_parsed": added["incremental"]["parsed"],
        "add_restaged": added["incremental"]["restaged"],
    }


def incremental_only(args) -> int:
    """`--only-incremental`: the corpus and the three runs, written as their own report."""
    timer = Timer()
    landing = timer.run("generate corpus (cached)", ensure_corpus, args.n, args.seed, args.workers)
    inc = incremental_runs(landing, timer, f"n{args.n}")
    result = {
        "incremental_files": inc["files"],
        "incremental_added": inc["added"],
        "incremental_rerun_ratio": inc["rerun_ratio"],
        "incremental_add_ratio": inc["add_ratio"],
        "incremental_rerun_warehouse_identical": inc["rerun_identical"],
    }
    lines = [
        "# Benchmarks: incremental runs",
        "",
        f"Measured by `python -m etl.bench --only-incremental --n {args.n}` on"
        f" {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}: {machine()}.",
        "`python -m etl run` three times on one workdir, each in a process of its own: over the generated corpus"
        f" less its last N·{INCREMENTAL_ADD_PER_150K:,}/150,000 files (the full run, parse batches on every core),"
        " again unchanged (the warehouse file's sha256 compared before and after), then with those files added.",
        "",
        "| metric | value | verdict |",
        "|---|---|---|",
        *(f"| `{k}` | {v} | {_verdict(k, v)} |" for k, v in result.items()),
        "",
        "| stage | seconds | peak RSS MB |",
        "|---|---|---|",
        *(f"| {name} | {st['s']} | {st['peak_rss_mb']} |" for name, st in timer.stages.items()),
        "",
        "```",
        json.dumps(inc, indent=1),
        "```",
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines), encoding="utf-8")
    print(json.dumps(result))
    return 0


def parse_all(batches: list[str], workers: int) -> list[str]:
    """Every parse batch, `workers` at a time in processes of their own (the DAG maps batches the same way);
    per-report costs are recorded inside each worker (parse_ms), so the by-format numbers are per core."""
    from etl import pipeline

    if workers <= 1:
        return [pipeline.parse_batch(b) for b in batches]
    return _pool_map(pipeline.parse_batch, batches, workers)


PIPELINE_STAGES = ("extract", "parse", "transform", "validate", "load", "marts")
SCALE_N = 150_000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m etl.bench", description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale-n", type=int, default=SCALE_N, help="reports validated and loaded from labels")
    ap.add_argument("--mart-n", type=int, default=1_000_000)
    ap.add_argument("--skip-airflow", action="store_true")
    ap.add_argument(
        "--airflow-n",
        type=int,
        default=10_000,
        help="reports in the Airflow-vs-runner comparison (the first of the same stream; both run serially)",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for generating the corpus and for parsing it",
    )
    ap.add_argument(
        "--skip-incremental", action="store_true", help="skip the three `etl run`s of the incremental stage"
    )
    ap.add_argument(
        "--ocr-n",
        type=int,
        default=20,
        help="scanned generated PDFs parsed through OCR on one core (0: skip)",
    )
    ap.add_argument(
        "--only-incremental",
        action="store_true",
        help="generate the corpus and run the incremental stage only (its figures on a large N)",
    )
    args = ap.parse_args(argv)
    if args.only_incremental:
        return incremental_only(args)

    from etl import pipeline

    timer = Timer()
    landing = timer.run("generate corpus (cached)", ensure_corpus, args.n, args.seed, args.workers)
    work = BENCH_DIR / f"work-n{args.n}"
    shutil.rmtree(work, ignore_errors=True)
    plan = timer.run("extract", pipeline.extract, "bench", str(landing), str(work))
    run_dir = Path(plan["run_dir"])
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    total_mb = sum(f["size"] for f in files) / 2**20
    fl = timer.run("floors", floors, landing, files, args.workers)
    parsed = timer.run("parse", parse_all, plan["batches"], args.workers)
    timer.run("transform", pipeline.transform, str(run_dir), parsed)
    timer.run("validate", pipeline.validate, str(run_dir))
    timer.run("load", pipeline.load, str(run_dir))
    timer.run("marts", pipeline.build_marts, str(run_dir))
    n = len(files)
    for name in PIPELINE_STAGES:
        st = timer.stages[name]
        st["reports_per_s"] = round(n / st["s"], 1) if st["s"] else None
        st["mb_per_s"] = round(total_mb / st["s"], 2) if st["s"] else None
    costs = parse_costs(run_dir)
    text_ms = sum(c["ms"] for f, c in costs.items() if f in TEXT_FORMATS)
    pdf = costs.get("pdf", {"n": 0, "ms": 0.0})
    acc = accuracy(landing, run_dir)
    meta = metadata_stage(landing, run_dir)

    big = f"{args.scale_n:,}"
    scale_dir = timer.run(f"stage {big} reports from labels (setup)", scale_prepare, args.scale_n, args.seed)
    scale_val = timer.run(f"validate {big}", scale_validate, scale_dir)
    pandas_s = timer.run(f"same rules in pandas, {big}", pandas_rules_s, Path(scale_dir))
    timer.run(f"load {big}", scale_load, scale_dir)
    mart_db = timer.run(
        f"load {args.mart_n:,}-report warehouse (cached setup)", ensure_mart_warehouse, args.mart_n, args.seed
    )
    marts = timer.run(f"marts over {args.mart_n:,}", mart_times, mart_db)
    af = {}
    if not args.skip_airflow:
        af_n = min(args.n, args.airflow_n)
        af = airflow_vs_runner(landing if af_n == args.n else ensure_corpus(af_n, args.seed, args.workers))
        af["n_reports"] = af_n
    ocr = (
        timer.run(f"OCR {args.ocr_n} scanned reports (one core)", ocr_stage, args.ocr_n) if args.ocr_n else {}
    )
    inc = {} if args.skip_incremental else incremental_runs(landing, timer, f"n{args.n}")
    measured = [*PIPELINE_STAGES, f"validate {big}", f"load {big}"]
    result = {
        "n_reports": n,
        "parse_text_html_floor_ratio": round(text_ms / 1000 / fl["text_html_s"], 2)
        if fl["text_html_s"]
        else None,
        "pdf_reports_per_s_per_core": round(pdf["n"] / (pdf["ms"] / 1000), 1) if pdf["ms"] else None,
        "scale_reports": args.scale_n,
        "validate_s": timer.stages[f"validate {big}"]["s"],
        "validate_compute_s": scale_val["compute_s"],
        "validate_vs_pandas_ratio": round(scale_val["compute_s"] / pandas_s, 2),
        "load_s": timer.stages[f"load {big}"]["s"],
        "mart_query_s": marts["mart_query_s"],
        "marts_build_s": marts["marts_build_s"],
        "peak_rss_mb": max(timer.stages[s]["peak_rss_mb"] for s in measured),
        "airflow_overhead_ratio": af.get("ratio"),
        "cells_wrong": acc["cells_wrong"],
        "violations_caught": f"{acc['violations_caught']}/{acc['violations']}",
        "valid_quarantined": acc["valid_quarantined"],
        "metadata_wrong": acc["metadata_wrong"],
        "metadata_fields_right": ", ".join(f"{k} {v}" for k, v in meta["fields"].items()),
        "units_filed_under_parent": meta["under_parent"],
        "issuer_year_conflicts": meta["issuer_year_conflicts"],
        "ocr_reports_per_min_per_core": ocr.get("reports_per_min"),
        "ocr_cells_exact_pct": ocr.get("cells_exact_pct"),
        "ocr_cells_wrong_unflagged": ocr.get("cells_wrong_unflagged"),
        "incremental_rerun_ratio": inc.get("rerun_ratio"),
        "incremental_add_ratio": inc.get("add_ratio"),
        "incremental_rerun_warehouse_identical": inc.get("rerun_identical"),
    }
    details = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "seed": args.seed,
        "stages": timer.stages,
        "parse_by_format": costs,
        "floors": {k: round(v, 3) if isinstance(v, float) else v for k, v in fl.items()},
        "airflow": af,
        "accuracy": {**acc, "metadata": meta},
        "incremental": inc,
        "notes": [
            "`incremental_*`: `python -m etl run` on one workdir over the corpus less its last"
            f" N·{INCREMENTAL_ADD_PER_150K:,}/150,000 files (the full run, parse batches on every core), then"
            " again unchanged (`rerun_ratio`; the warehouse file's sha256 before and after:"
            " `rerun_warehouse_identical`), then with those files added (`add_ratio`), each against the full run.",
            f"Every stage runs in a process of its own (as an Airflow task does); seconds are measured inside it and"
            f" peak RSS is that process's (parse: its largest worker). `peak_rss_mb` is the largest over the"
            f" pipeline stages at N and at {big}.",
            f"Parse runs the batches in {args.workers} worker processes (the DAG maps batches the same way); its"
            " by-format ms/report are timed per report inside a worker, so reports/s there is per core. The"
            " floors are timed per file the same way, in as many workers, so both see the same machine load.",
            f"`validate_s`, `load_s`: {big} reports measured, not extrapolated: their staging is made from"
            " generated labels (no documents) in parts of 5,000 reports, as parse batches write it.",
            "`validate_s` is the stage process's time with its imports; `validate_compute_s` the same once"
            " imported, as the floor is timed. `validate_vs_pandas_ratio`: the latter (every suite incl."
            " warnings and cross-year, duplicate"
            " decision, Data Docs) against the blocking rules computed with numpy over the same wide frames,"
            " read and placed the efficient way (dictionary-encoded cells, placed by their codes).",
            "`airflow_overhead_ratio`: `airflow dags test` against `python -m etl run`, both serial, on the first"
            f" {min(args.n, args.airflow_n):,} reports of the same stream.",
            f"`mart_query_s`: the query that makes `mart_province_year` over {args.mart_n:,} loaded reports (best"
            " of 3, warm); `marts_build_s`: rebuilding every mart (report coverage, reconciliation, agency"
            " drill-down) over the same warehouse.",
        ],
    }
    write_doc(result, details)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
