"""The pipeline's stages as functions of paths: extract -> parse -> transform -> validate -> load -> marts.

The Airflow DAG calls these one task each (parse mapped over batches); `run()` calls them in-process for
`python -m etl run`. Each stage reads the previous stage's files under the run folder and writes its own, so
any stage can be re-run alone and a re-run overwrites exactly what it wrote.

<workdir>/runs/<run_id>/
    manifest.json            extract: every landing file (sha256, format), exact duplicates, batches
    batches/batch-NNNN.json  extract: the files of one parse batch
    parsed/batch-NNNN.jsonl  parse: one line per file, a ParsedReport or a rejection reason
    staging/{reports,cells}/year=YYYY/*.parquet   transform: the fact tables
    validation/failures.parquet                   validate: every (report, rule) that failed
    outcome.json             load: the file ledger and counts, as published
<workdir>/warehouse.duckdb   load + marts (or PostgreSQL when ETL_WAREHOUSE_URL is set)
<workdir>/dashboard.html     marts: the static province dashboard
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from etl.config import load_settings
from etl.model import LedgerError, ParsedReport, SourceFile
from etl.outcomes import Candidate, Outcome, counted_with_partner, decide, fetched_pages, summary

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("run_%Y%m%dT%H%M%S_%fZ")


def safe_run_id(run_id: str) -> str:
    """A run id (Airflow's included) as one path component:
    ``manual__2026-01-02T03:04:05+00:00`` -> ``manual__2026-01-02T03-04-05-00-00``; never '.', '..' or hidden."""
    return _SAFE.sub("-", run_id).strip(".-")[:200] or new_run_id()


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


# -- extract -----------------------------------------------------------------------------------------------
def extract(run_id: str, landing: str | None = None, workdir: str | None = None) -> dict:
    from etl.extract import scan_landing

    settings = load_settings(Path(landing) if landing else None, Path(workdir) if workdir else None)
    run_dir = settings.workdir / "runs" / safe_run_id(run_id)
    refused: list = []  # landing entries that cannot be parsed (FIFOs, symlinks out of the root, …)
    files = scan_landing(settings.landing_dir, refused)
    first_by_sha: dict[str, str] = {}
    unique, duplicates = [], {}
    for f in files:
        if f.sha256 in first_by_sha:
            duplicates[f.path] = first_by_sha[f.sha256]
        else:
            first_by_sha[f.sha256] = f.path
            unique.append(f)
    batches = []
    for i in range(0, len(unique), settings.batch_size):
        path = run_dir / "batches" / f"batch-{i // settings.batch_size:04d}.json"
        chunk = unique[i : i + settings.batch_size]
        _write_json(
            path,
            {
                "run_dir": str(run_dir),
                "landing": str(settings.landing_dir),
                "files": [f.to_dict() for f in chunk],
            },
        )
        batches.append(str(path))
    _write_json(
        run_dir / "manifest.json",
        {
            "run_id": run_dir.name,
            "landing": str(settings.landing_dir),
            "workdir": str(settings.workdir),
            "files": [f.to_dict() for f in files] + [f.to_dict() for f, _ in refused],
            "duplicates": duplicates,
            "refused": {f.path: reason for f, reason in refused},
            "batches": batches,
        },
    )
    n_files = len(files) + len(refused)
    return {"run_id": run_dir.name, "run_dir": str(run_dir), "batches": batches, "n_files": n_files}


# -- parse -------------------------------------------------------------------------------------------------
def parse_batch(batch_path: str) -> str:
    from etl.parse.isolation import IsolatedParser

    batch = _read_json(Path(batch_path))
    landing = Path(batch["landing"])
    out = Path(batch["run_dir"]) / "parsed" / (Path(batch_path).stem + ".jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".jsonl.tmp")
    # one capped worker process per batch, replaced when a file breaks a cap (etl.parse.isolation)
    with tmp.open("w", encoding="utf-8") as f, IsolatedParser() as parser:
        for d in batch["files"]:
            src = SourceFile(**d)
            record: dict = {"file": d}
            # {"report": …} or {"rejected": reason}, and parse_ms (observability, benchmarks)
            record.update(parser.parse(landing / src.path, src.file_format))
            record.pop("traceback", None)
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return str(out)


def _run_settings(run: Path):
    """The settings a run was planned with: its manifest records the workdir (and so the warehouse)."""
    manifest = run / "manifest.json"
    workdir = Path(_read_json(manifest)["workdir"]) if manifest.exists() else None
    return load_settings(workdir=workdir)


def _iter_parsed(run_dir: Path):
    for path in sorted((run_dir / "parsed").glob("batch-*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


# -- transform ---------------------------------------------------------------------------------------------
def transform(run_dir: str, parsed_paths: list[str] | None = None) -> str:
    from etl.corrections import load_corrections
    from etl.transform import reset_staging, write_facts

    run = Path(run_dir)
    corrections = load_corrections(load_settings().corrections_file)
    staging = run / "staging"
    reset_staging(staging)
    paths = (
        sorted(parsed_paths)
        if parsed_paths
        else sorted(str(p) for p in (run / "parsed").glob("batch-*.jsonl"))
    )
    for path in paths:
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        parsed = [
            (SourceFile(**r["file"]), ParsedReport.from_dict(r["report"])) for r in records if "report" in r
        ]
        write_facts(parsed, staging, part=Path(path).stem, corrections=corrections)
    return str(staging)


# -- validate ----------------------------------------------------------------------------------------------
def validate(run_dir: str) -> dict:
    """Template suites per chunk of staging, the cross-year suite against last year's reports (this run's
    staging, else the published warehouse) and the run's Data Docs; see etl.validate.stage."""
    from etl.validate.stage import validate_staging

    run = Path(run_dir)
    return validate_staging(run, _run_settings(run).warehouse_path)


def suite_version() -> str:
    """Content hash of the committed suites: which rules judged a run."""
    import hashlib

    from etl.config import PROJECT_ROOT

    h = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "expectations").glob("*.json")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


# -- load --------------------------------------------------------------------------------------------------
def _outcomes(run: Path, manifest: dict, failures) -> list[Outcome]:
    from etl.transform import report_id

    fmt = {f["path"]: f for f in manifest["files"]}
    blocking = (
        failures[failures["severity"] == "blocking"]
        .groupby("report_id")["rule_id"]
        .agg(lambda s: tuple(dict.fromkeys(s)))
    )
    outcomes, candidates = [], []
    for rec in _iter_parsed(run):
        f = rec["file"]
        if "rejected" in rec:
            outcomes.append(Outcome(f["path"], f["sha256"], f["file_format"], "rejected", rec["rejected"]))
            continue
        rep = rec["report"]
        rid = report_id(f["sha256"])
        candidates.append(
            Candidate(
                f["path"],
                f["sha256"],
                f["file_format"],
                rid,
                rep["meta"]["issuer"],
                rep["meta"]["year"],
                len(rep["unresolved"]),
                blocking.get(rid, ()),
                Candidate.fingerprint(rep["cells"]),
            )
        )
    pages = fetched_pages(manifest["files"])
    outcomes += decide(candidates, pages)
    outcomes = counted_with_partner(outcomes, pages)
    for path, first in manifest["duplicates"].items():
        f = fmt[path]
        outcomes.append(Outcome(path, f["sha256"], f["file_format"], "duplicate", f"same content as {first}"))
    for path, reason in manifest.get("refused", {}).items():  # met by extract, never parsed
        f = fmt[path]
        outcomes.append(Outcome(path, f["sha256"], f["file_format"], "rejected", reason))
    return outcomes


def load(run_dir: str) -> dict:
    import pandas as pd

    from etl.load import load_run

    run = Path(run_dir)
    manifest = _read_json(run / "manifest.json")
    failures = pd.read_parquet(run / "validation" / "failures.parquet")
    outcomes = _outcomes(run, manifest, failures)
    if len(outcomes) != len(manifest["files"]):  # the accounting rule: no file is ever lost
        raise LedgerError(f"ledger has {len(outcomes)} outcomes for {len(manifest['files'])} files")
    result = load_run(
        _run_settings(run).warehouse_path,
        run / "staging",
        failures,
        outcomes,
        manifest["run_id"],
        suite_version(),
    )
    _write_json(
        run / "outcome.json",
        {
            "run_id": manifest["run_id"],
            "landing": manifest["landing"],
            "outcomes": [o.to_dict() for o in outcomes],
            **summary(outcomes),
        },
    )
    return result


# -- marts -------------------------------------------------------------------------------------------------
def build_marts(run_dir: str) -> dict:
    from etl.dashboard import write_dashboard
    from etl.load import build_marts as _build

    settings = _run_settings(Path(run_dir))
    result = _build(settings.warehouse_path)
    fetched = _last_fetch(Path(run_dir))
    dashboard = write_dashboard(settings.warehouse_path, settings.workdir / "dashboard.html", fetched)
    return {"run_dir": run_dir, **result, "dashboard": str(dashboard)}


def _last_fetch(run: Path) -> dict | None:
    """The last web fetch into the run's landing folder (etl.fetch), if reports were fetched there."""
    from etl.fetch.store import last_summary

    manifest = run / "manifest.json"
    return last_summary(Path(_read_json(manifest)["landing"])) if manifest.exists() else None


def summarize(run_dir: str) -> dict:
    from etl.load import mart_rows

    run = Path(run_dir)
    outcome = _read_json(run / "outcome.json")
    settings = _run_settings(run)
    keep = ("loaded", "quarantined", "rejected", "duplicates", "counts")
    failures_path = run / "validation" / "failures.parquet"
    if failures_path.exists():
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        failures = pq.read_table(failures_path, columns=["report_id", "severity"])
        warned = failures.filter(pc.not_equal(failures["severity"], "blocking"))
        warnings = {"warnings": warned.num_rows, "reports_with_warnings": len(pc.unique(warned["report_id"]))}
    else:
        warnings = {}
    links = {"data_docs": run / "data_docs" / "index.html", "dashboard": settings.workdir / "dashboard.html"}
    fetched = _last_fetch(run)
    return {
        "run_id": outcome["run_id"],
        **{k: outcome[k] for k in keep},
        **warnings,
        **{k: str(p) for k, p in links.items() if p.exists()},
        "mart": mart_rows(settings.warehouse_path),
        **({"fetch": {k: fetched[k] for k in ("finished_at", "totals", "hosts")}} if fetched else {}),
    }


def latest_run_dir(workdir: Path) -> Path | None:
    runs = [p for p in (workdir / "runs").glob("*") if (p / "outcome.json").exists()]
    return max(runs, key=lambda p: (p / "outcome.json").stat().st_mtime) if runs else None


def run(landing: str | None = None, workdir: str | None = None, run_id: str | None = None) -> dict:
    """Every stage in-process, same functions and files as the DAG; one run per workdir at a time."""
    from etl.lock import workdir_lock

    run_id = run_id or new_run_id()
    settings = load_settings(Path(landing) if landing else None, Path(workdir) if workdir else None)
    with workdir_lock(settings.workdir, run_id, settings.run_lock_wait_s):
        plan = extract(run_id, landing, workdir)
        parsed = [parse_batch(b) for b in plan["batches"]]
        transform(plan["run_dir"], parsed)
        validate(plan["run_dir"])
        load(plan["run_dir"])
        build_marts(plan["run_dir"])
        return summarize(plan["run_dir"])
