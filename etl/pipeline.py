"""The pipeline's stages as functions of paths: extract -> parse -> transform -> validate -> load -> marts.

The Airflow DAG calls these one task each (parse mapped over batches); `run()` calls them in-process for
`python -m etl run` (validation in a process it starts first, so Great Expectations' import overlaps
extract). Each stage reads the previous stage's files under the run folder and writes its own, so any stage
can be re-run alone and a re-run overwrites exactly what it wrote.

Runs are incremental (etl.incremental): extract plans against the warehouse's published ledger, parse
reads only what the parse cache lacks, and load republishes only the issuer-year slots the run's new or
changed files fall into. A run over an unchanged landing area parses nothing and writes nothing.

<storage root>/runs/<run_id>/    (ETL_STORAGE_ROOT, the workdir by default; on an object store each stage works
                                  on a local copy of what it reads and uploads what it writes: etl.storage)
    run.json                 extract: the run's landing folder and workdir (what later stages need of it)
    manifest.json            extract: every landing file (sha256, format, input key), exact duplicates,
                             batches, the plan (delta / reuse / missing / renamed / retract)
    published_ledger.parquet extract: the published ledger the plan was made against
    batches/batch-NNNN.json  extract: the files of one parse batch (only the parse cache's misses)
    parsed/batch-NNNN.jsonl  parse: one line per file, a ParsedReport or a rejection reason
    staged.json              transform: the files staged (delta + the members of their slots)
    staging/{reports,cells}/year=YYYY/*.parquet   transform: the fact tables of the staged reports
    validation/failures.parquet                   validate: every (report, rule) that failed
    outcome.json             load: the whole ledger's snapshot, counts, what was published
    inputs/<sha256>/         extract, remote storage only: the files to parse (parse workers need no landing)
<storage root>/store/parse/  the parse cache (etl.parse.cache)
<workdir>/store/stat/        the landing's stat cache (where extract runs)
<workdir>/warehouse.duckdb   load + marts (or PostgreSQL when ETL_WAREHOUSE_URL is set)
<workdir>/dashboard.html     marts: the static province dashboard
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from etl import storage
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
    # compact: json's C encoder is bypassed when indenting, and a run's manifest and ledger snapshot name
    # every landing file (150,000 at national scale); `jq .` shows them indented
    tmp.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


# -- extract -----------------------------------------------------------------------------------------------
def extract(
    run_id: str,
    landing: str | None = None,
    workdir: str | None = None,
    years: list[int] | None = None,
    rebuild: bool = False,
    retract: list[str] | None = None,
    retract_reason: str | None = None,
) -> dict:
    """Scan the landing area and plan the run against the published ledger (etl.incremental): batches hold
    only the files the parse cache does not have.

    `rebuild` republishes the year partitions `years` (all years when None) from the parse cache even when
    nothing changed (a backfill); `retract` names published files, gone from the landing area, whose facts
    this run removes (`python -m etl retract`)."""
    from etl.corrections import load_corrections
    from etl.extract import scan_landing
    from etl.incremental import cache_key_of, corrections_digest, input_key, plan, read_ledger
    from etl.parse.cache import ParseCache
    from etl.transform import report_id
    from etl.warehouse import resolve

    if years and not rebuild:
        raise ValueError("years name the partitions to rebuild: pass rebuild=True with them")
    settings = load_settings(Path(landing) if landing else None, Path(workdir) if workdir else None)
    run_url = storage.join(settings.runs_root, safe_run_id(run_id))
    store = settings.cache_root
    stat_path = settings.store_dir / "stat" / (_landing_key(settings.landing_dir) + ".json")
    stat_cache = _read_json(stat_path) if stat_path.exists() else {}
    refused: list = []  # landing entries that cannot be parsed (FIFOs, symlinks out of the root, …)
    files = scan_landing(settings.landing_dir, refused, stat_cache)
    _write_json(stat_path, stat_cache)
    ledger = read_ledger(resolve(settings.warehouse_path))
    corrections = load_corrections(settings.corrections_file)
    suites = suite_version()
    key_of = functools.cache(lambda digest: input_key(suites, digest))  # a few distinct keys, 150,000 files
    keys = {f.path: key_of(corrections_digest(corrections.get(report_id(f.sha256), {}))) for f in files}
    default_key = key_of("")
    decided = plan(
        files,
        ledger,
        keys,
        rebuild_years=[int(y) for y in years] if years else None,
        rebuild_all=rebuild and not years,
        retract=retract or (),
        refused=[f.path for f, _ in refused],
    )
    cache = ParseCache(store)
    delta = set(decided.delta)
    to_parse = [f for f in decided.unique if f.path in delta and not cache.has(cache_key_of(f))]
    writes = ("run.json", "manifest.json", "published_ledger.parquet", "batches")
    with storage.working_copy(run_url, writes=writes) as run_dir:
        inputs = _share_inputs(settings.landing_dir, run_url, to_parse)
        batches = []
        size = _batch_size(len(to_parse), settings.batch_size, settings.parse_workers)
        for i in range(0, len(to_parse), size):
            name = f"batch-{i // size:04d}.json"
            chunk = to_parse[i : i + size]
            _write_json(
                run_dir / "batches" / name,
                {
                    "run_dir": run_url,
                    "landing": str(settings.landing_dir),
                    "inputs": inputs,
                    "store": store,
                    "files": [_entry(f) for f in chunk],
                },
            )
            batches.append(storage.join(run_url, "batches", name))
        _write_ledger_snapshot(run_dir / "published_ledger.parquet", ledger)
        # the run's settings, apart from the manifest of every file: the stages that need only these (the
        # warehouse, the landing folder) read a few bytes, not 150,000 files' entries
        _write_json(
            run_dir / "run.json",
            {"run_id": run_dir.name, "landing": str(settings.landing_dir), "workdir": str(settings.workdir)},
        )
        _write_json(
            run_dir / "manifest.json",
            {
                "run_id": run_dir.name,
                "landing": str(settings.landing_dir),
                "workdir": str(settings.workdir),
                "store": store,
                "suite_version": suites,
                "files": [_entry(f) for f in files] + [_entry(f) for f, _ in refused],
                # one key judges nearly every file: it is written once, and the files judged otherwise (a
                # reviewed correction) are listed
                "input_key": default_key,
                "input_keys": {p: k for p, k in keys.items() if k != default_key},
                "duplicates": decided.duplicates,
                "refused": {f.path: reason for f, reason in refused},
                "batches": batches,
                "plan": decided.to_dict(),
                "retract_reason": retract_reason,
            },
        )
    n_files = len(files) + len(refused)
    return {
        "run_id": run_dir.name,
        "run_dir": run_url,
        "batches": batches,
        "n_files": n_files,
        "n_delta": len(decided.delta),
        "n_parse": len(to_parse),
    }


def _share_inputs(landing: Path, run_url: str, to_parse: list[SourceFile]) -> str | None:
    """Where the parse workers read the run's files: None, the landing folder itself, when the run folder
    is on this machine's filesystem (one machine, or a volume every worker mounts); else the storage root
    (an object store), where extract puts each file to parse, with its fetch sidecar, under its sha256."""
    from etl.extract import sidecar_of

    if storage.local_dir(run_url) is not None:
        return None
    inputs = storage.join(run_url, "inputs")
    for f in to_parse:
        src = landing / f.path
        for path in (src, sidecar_of(src)):
            if path.is_file():
                storage.upload(path, storage.join(inputs, f.sha256, path.name))
    return inputs


MIN_BATCH = 25  # files: below this a batch's own cost (a task, its JSON) outweighs the balance it buys


def _batch_size(n: int, most: int, workers: int) -> int:
    """Files per parse batch: ETL_BATCH_SIZE, smaller when a run has few files to parse, so that every
    worker gets several batches and none is left parsing a large last batch alone (1,000 new files on two
    workers: 16 batches of 63, not 5 of 200, three on one worker and two on the other)."""
    return max(1, min(most, max(MIN_BATCH, -(-n // (8 * max(1, workers))))))


def _entry(f: SourceFile) -> dict:
    """A file as the run's JSON records it: fields left at None (no fetch metadata) are omitted."""
    return {k: v for k, v in f.to_dict().items() if v is not None}


def _landing_key(landing: Path) -> str:
    import hashlib

    return hashlib.sha256(str(landing).encode("utf-8")).hexdigest()[:16]


def _write_ledger_snapshot(path: Path, ledger: dict[str, dict]) -> None:
    """The published ledger as the run planned against it: transform and load read this, not the
    warehouse again, so the stages of one run agree on what was published."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from etl.load import LEDGER_SCHEMA

    path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(ledger.values())
    table = pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA) if rows else LEDGER_SCHEMA.empty_table()
    pq.write_table(table, path)


def _read_ledger_snapshot(run: Path) -> dict[str, dict]:
    import pyarrow.parquet as pq

    path = run / "published_ledger.parquet"
    if not path.exists():
        return {}
    return {r["source_file"]: r for r in pq.read_table(path).to_pylist()}


# -- parse -------------------------------------------------------------------------------------------------
def parse_batch(batch_path: str, parser=None) -> str:
    """Parse one batch of files in a capped worker; every result goes into the parse cache (the run's
    parsed/*.jsonl keeps them too, with their timings, for the run's record).

    `parser`: an open etl.parse.isolation.IsolatedParser to use (and leave open), so an in-process run
    starts one worker per thread rather than one per batch; by default the batch has its own."""
    from contextlib import nullcontext

    from etl.parse.cache import ParseCache, cache_key
    from etl.parse.isolation import IsolatedParser

    batch = json.loads(storage.read_text(batch_path))
    landing, inputs = Path(batch["landing"]), batch.get("inputs")
    cache = ParseCache(batch["store"])
    name = PurePosixPath(batch_path).stem + ".jsonl"
    with storage.working_copy(batch["run_dir"], writes=(f"parsed/{name}",)) as run:
        out = run / "parsed" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".jsonl.tmp")
        # one capped worker process per batch, replaced when a file breaks a cap (etl.parse.isolation)
        own = nullcontext(parser) if parser is not None else IsolatedParser()
        with tmp.open("w", encoding="utf-8") as f, own as parser:
            for d in batch["files"]:
                src = SourceFile(**d)
                # {"report": …} or {"rejected": reason}, and parse_ms (observability, benchmarks)
                if inputs is None:
                    result = parser.parse(landing / src.path, src.file_format)
                else:  # a file extract shared through the storage root, read here with its sidecar
                    with storage.local_path(storage.join(inputs, src.sha256), "r") as folder:
                        result = parser.parse(folder / PurePosixPath(src.path).name, src.file_format)
                result.pop("traceback", None)
                cache.put(cache_key(src.sha256, src.file_format), result)
                f.write(json.dumps({"file": d, **result}, ensure_ascii=False) + "\n")
        tmp.replace(out)
    return storage.join(batch["run_dir"], "parsed", name)


def _run_info(run: Path) -> dict | None:
    """run.json (the run's landing and workdir); the manifest of runs made before it existed."""
    for name in ("run.json", "manifest.json"):
        if (run / name).exists():
            return _read_json(run / name)
    return None


def _run_settings(run: Path):
    """The settings a run was planned with: its workdir (and so the warehouse)."""
    info = _run_info(run)
    return load_settings(workdir=Path(info["workdir"]) if info else None)


def _iter_parsed(run_dir: Path):
    for path in sorted((run_dir / "parsed").glob("batch-*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def _partners(pages: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for att, page in pages.items():
        out.setdefault(att, []).append(page)
        out.setdefault(page, []).append(att)
    return out


# -- transform ---------------------------------------------------------------------------------------------
def transform(run_dir: str, parsed_paths: list[str] | None = None) -> str:
    """Staging for the run's delta and every published member of the issuer-year slots it falls into
    (etl.incremental), read from the parse cache. `parsed_paths` (the parse tasks' outputs) are in the
    cache already; the argument keeps the DAG's data dependency explicit."""
    from etl.corrections import load_corrections
    from etl.incremental import slot_members, slot_of
    from etl.parse.cache import ParseCache, cache_key
    from etl.transform import report_id, reset_staging, write_facts

    with storage.working_copy(
        run_dir,
        reads=("run.json", "manifest.json", "published_ledger.parquet"),
        writes=("staging", "staged.json"),
    ) as run:
        manifest = _read_json(run / "manifest.json")
        settings = _run_settings(run)
        corrections = load_corrections(settings.corrections_file)
        cache = ParseCache(manifest["store"])
        files = {f["path"]: f for f in manifest["files"]}
        plan = manifest["plan"]
        ledger = _read_ledger_snapshot(run)

        def source(path: str) -> SourceFile:
            if path in files:
                return SourceFile(**files[path])
            row = ledger[path]  # a published file no longer in the landing area: what the ledger knows of it
            return SourceFile(path=path, sha256=row["sha256"], size=0, file_format=row["file_format"])

        def record(src: SourceFile) -> dict:
            rec = cache.get(cache_key(src.sha256, src.file_format))
            if rec is None:
                raise LedgerError(
                    f"{src.path}: no parse result in the cache {cache.root} (store lost?): run with rebuild, "
                    "or retract the file if it is gone from the landing area"
                )
            return rec

        # Records are read twice (slots first, facts second) rather than held: at 150,000 reports the parsed
        # records of a run would take gigabytes; staging is written a batch at a time.
        staged: list[str] = []
        rejected: dict[str, str] = {}
        slots = set()
        for path in plan["delta"]:
            src = source(path)
            rec = record(src)
            staged.append(path)
            if "report" in rec:
                meta = rec["report"]["meta"]
                slots.add(slot_of(meta["issuer"], meta["year"], report_id(src.sha256)))
            else:
                rejected[path] = rec["rejected"]
        for path in plan["retract"]:
            row = ledger[path]
            if row["report_id"]:
                slots.add(slot_of(row["issuer"], row["year"], row["report_id"]))
        gone = set(plan["retract"]) | set(plan["renamed"]) | set(manifest["duplicates"])
        partners = _partners(fetched_pages(manifest["files"]))
        staged += slot_members(slots, ledger, exclude=set(staged) | gone, partners=partners)
        staging = run / "staging"
        reset_staging(staging)
        size = settings.batch_size
        reports = [p for p in staged if p not in rejected]
        fingerprints: list[tuple[str, bytes]] = []
        for i in range(0, len(reports), size):
            chunk = []
            for path in reports[i : i + size]:
                src = source(path)
                rec = record(src)
                if "report" in rec:
                    chunk.append((src, ParsedReport.from_dict(rec["report"])))
                    fingerprints.append(
                        (report_id(src.sha256), Candidate.fingerprint(rec["report"]["cells"]))
                    )
                else:  # a slot member published as rejected cannot be: slot_members takes parsed reports only
                    rejected[path] = rec["rejected"]
            write_facts(chunk, staging, part=f"stage-{i // size:04d}", corrections=corrections)
        _write_fingerprints(staging / "fingerprints.parquet", fingerprints)
        _write_json(
            run / "staged.json",
            {
                "paths": staged,
                "rejected": rejected,
                "missing_sources": {p: source(p).to_dict() for p in staged if p not in files},
            },
        )
    return storage.join(run_dir, "staging")


# -- validate ----------------------------------------------------------------------------------------------
def validate(run_dir: str) -> dict:
    """Template suites per chunk of staging, the cross-year suite against last year's reports (this run's
    staging, else the published warehouse) and the run's Data Docs; see etl.validate.stage."""
    reads, writes = ("run.json", "staging"), ("validation", "data_docs")
    with storage.working_copy(run_dir, reads=reads, writes=writes) as run:
        if not any((run / "staging" / "reports").rglob("*.parquet")):
            result = _nothing_to_validate(run)
        else:
            from etl.validate.stage import validate_staging

            result = validate_staging(run, _run_settings(run).warehouse_path)
    # where the files are for whoever reads them next (the run folder's own, when it is remote)
    result["failures"] = storage.join(run_dir, "validation", "failures.parquet")
    if "data_docs" in result:
        result["data_docs"] = storage.join(run_dir, "data_docs", "index.html")
    return result


def _nothing_to_validate(run: Path) -> dict:
    """A run that staged no report (a sweep that found nothing new, a retraction): no rule has a row to
    judge, so the failures are empty and Great Expectations (~3 s to import) is not started."""
    import pandas as pd

    from etl.validate import FAILURE_COLUMNS

    out = run / "validation" / "failures.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({c: pd.Series(dtype="string") for c in FAILURE_COLUMNS}).to_parquet(out, index=False)
    return {
        "failures": str(out),
        "n_failures": 0,
        "n_reports_failing": 0,
        "n_warnings": 0,
        "n_reports_warned": 0,
    }


def suite_version() -> str:
    """Content hash of the committed suites: which rules judged a run."""
    import hashlib

    from etl.config import PROJECT_ROOT

    h = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "expectations").glob("*.json")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


# -- load --------------------------------------------------------------------------------------------------
# what load reads of its run folder (copied to the worker when the run folder is remote)
_LOAD_READS = (
    "run.json",
    "manifest.json",
    "published_ledger.parquet",
    "staged.json",
    "staging",
    "validation/failures.parquet",
    "batches",
)


def _staged_outcomes(run: Path, manifest: dict, staged: dict, failures) -> tuple[list[Outcome], dict]:
    """Loaded / quarantined / duplicate / rejected for the reports this run staged (etl.outcomes)."""
    import pyarrow.dataset as ds

    blocking = (
        failures[failures["severity"] == "blocking"]
        .groupby("report_id")["rule_id"]
        .agg(lambda s: tuple(dict.fromkeys(s)))
    )
    fmt = {f["path"]: f for f in manifest["files"]} | staged["missing_sources"]
    outcomes = []
    for path, reason in staged["rejected"].items():
        f = fmt[path]
        outcomes.append(Outcome(path, f["sha256"], f["file_format"], "rejected", reason))
    candidates = []
    reports_dir = run / "staging" / "reports"
    fingerprints = _read_fingerprints(run / "staging" / "fingerprints.parquet")
    if any(reports_dir.rglob("*.parquet")):
        cols = ["source_file", "sha256", "file_format", "report_id", "issuer", "year", "n_unresolved"]
        table = ds.dataset(reports_dir, partitioning="hive").to_table(columns=cols).to_pylist()
        for r in table:
            candidates.append(
                Candidate(
                    r["source_file"],
                    r["sha256"],
                    r["file_format"],
                    r["report_id"],
                    r["issuer"],
                    r["year"],
                    r["n_unresolved"],
                    blocking.get(r["report_id"], ()),
                    fingerprints.get(r["report_id"]),
                )
            )
    pages = fetched_pages(manifest["files"])
    outcomes += decide(candidates, pages)
    by_id = {c.report_id: c for c in candidates}
    return counted_with_partner(outcomes, pages), by_id


def _write_fingerprints(path: Path, rows: list[tuple[str, bytes]]) -> None:
    """report_id -> Candidate.fingerprint of its parsed cells: what the dedupe compares (etl.outcomes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids, fps = zip(*rows, strict=True) if rows else ((), ())
    table = pa.table({"report_id": pa.array(ids, pa.string()), "fingerprint": pa.array(fps, pa.binary())})
    pq.write_table(table, path)


def _read_fingerprints(path: Path) -> dict[str, bytes]:
    import pyarrow.parquet as pq

    if not path.exists():
        return {}
    t = pq.read_table(path)
    return dict(zip(t["report_id"].to_pylist(), t["fingerprint"].to_pylist(), strict=True))


def _ledger(
    run: Path, manifest: dict, failures, old: dict[str, dict] | None = None
) -> tuple[dict[str, dict], list[Outcome]]:
    """The whole published ledger after this run (path -> row), and the outcomes of the snapshot's files.
    `old`: the run's ledger snapshot, when the caller has read it already."""
    staged = _read_json(run / "staged.json")
    outcomes, by_id = _staged_outcomes(run, manifest, staged, failures)
    old = _read_ledger_snapshot(run) if old is None else old
    keys, default_key = manifest["input_keys"], manifest.get("input_key")
    refused = manifest.get("refused", {})
    present = {f["path"] for f in manifest["files"]}
    fmt = {f["path"]: f for f in manifest["files"]}
    plan = manifest["plan"]
    ledger: dict[str, dict] = {}

    def add(o: Outcome, key: str | None, issuer=None, n_unresolved=None, rule_ids=None) -> None:
        ledger[o.source_file] = {
            **o.to_dict(),
            "issuer": issuer,
            "n_unresolved": n_unresolved,
            "rule_ids": rule_ids,
            "input_key": key,
            "present": o.source_file in present,
        }

    for o in outcomes:
        c = by_id.get(o.report_id) if o.report_id else None
        if o.source_file in fmt and o.source_file not in refused:
            key = keys.get(o.source_file, default_key)
        else:  # a published file gone from the landing area keeps the key that judged it
            key = (old.get(o.source_file) or {}).get("input_key")
        if c is None:
            add(o, key)
        else:
            add(o, key, c.issuer, c.n_unresolved, ",".join(c.rule_ids) or None)
    # reused and missing rows are the published rows themselves when their presence is unchanged: the
    # identity tells ledger_changes to skip them without comparing 150,000 rows field by field
    for path in plan["reuse"]:
        if path not in ledger:
            row = old[path]
            ledger[path] = row if row["present"] is True else {**row, "present": True}
    for path in plan["missing"]:
        if path not in ledger:
            row = old[path]
            ledger[path] = row if row["present"] is False else {**row, "present": False}
    for path, first in manifest["duplicates"].items():
        f = fmt[path]
        add(Outcome(path, f["sha256"], f["file_format"], "duplicate", f"same content as {first}"), None)
    for path, reason in manifest.get("refused", {}).items():  # met by extract, never parsed
        f = fmt[path]
        add(Outcome(path, f["sha256"], f["file_format"], "rejected", reason), None)
    fields = tuple(Outcome.__dataclass_fields__)
    snapshot = [Outcome(*map(row.__getitem__, fields)) for row in ledger.values() if row["present"]]
    return ledger, snapshot


def outcomes(run_dir: str) -> list[Outcome]:
    """Every present file's outcome after this run's validation (what `load` would publish), for tools that
    judge a run without publishing it (etl.judge)."""
    import pandas as pd

    with storage.working_copy(run_dir, reads=_LOAD_READS, writes=()) as run:
        manifest = _read_json(run / "manifest.json")
        failures = pd.read_parquet(run / "validation" / "failures.parquet")
        return _ledger(run, manifest, failures)[1]


def load(run_dir: str) -> dict:
    """Publish the run's delta (etl.load.load_run); a run that changed nothing does not touch the warehouse
    (so it stays byte-identical), and says so."""
    import pandas as pd

    from etl.incremental import ledger_changes
    from etl.load import load_run

    with storage.working_copy(run_dir, reads=_LOAD_READS, writes=("outcome.json",)) as run:
        manifest = _read_json(run / "manifest.json")
        plan = manifest["plan"]
        failures = pd.read_parquet(run / "validation" / "failures.parquet")
        old = _read_ledger_snapshot(run)
        ledger, outcomes = _ledger(run, manifest, failures, old)
        if len(outcomes) != len(manifest["files"]):  # the accounting rule: no file is ever lost
            raise LedgerError(f"ledger has {len(outcomes)} outcomes for {len(manifest['files'])} files")
        upsert, delete = ledger_changes(ledger, old)
        staged = _read_json(run / "staged.json")["paths"]
        write = {r["source_file"]: r for r in upsert} | {p: ledger[p] for p in staged}
        counts = summary(outcomes)["counts"]
        published = bool(write or delete)

        def outcome_doc(years: list[int]) -> dict:
            return {
                "run_id": manifest["run_id"],
                "landing": manifest["landing"],
                "outcomes": [o.to_dict() for o in outcomes],
                **summary(outcomes),
                "published": published,
                "incremental": {
                    "parsed": sum(
                        len(_read_json(run / "batches" / PurePosixPath(b).name)["files"])
                        for b in manifest["batches"]
                    ),
                    "reused": len(plan["reuse"]),
                    "delta": len(plan["delta"]),
                    "restaged": len(staged),
                    "ledger_rows_written": len(write),
                    "retracted": plan["retract"],
                    "missing": plan["missing"],
                    "renamed": plan["renamed"],
                    "years": years,
                },
            }

        # The run's record is written before the publish and renamed into place after it: every write that
        # can fail (a full disk) happens before the commit, so a failed load has published nothing.
        pending = run / "outcome.json.pending"
        years = {r["year"] for r in write.values() if r.get("year")} | set(plan["rebuild_years"] or ())
        _write_json(pending, outcome_doc(sorted(years)))
        if not published:
            pending.replace(run / "outcome.json")
            return {"years": [], **counts, "warehouse": None, "published": False}
        try:
            result = load_run(
                _run_settings(run).warehouse_path,
                run / "staging",
                failures,
                list(write.values()),
                manifest["run_id"],
                suite_version(),
                counts=counts,
                gone=delete,
                stale_report_ids=plan["stale_report_ids"],
                replace_years=plan["rebuild_years"],
                retracted=[
                    {**old[p], "reason": manifest.get("retract_reason")} for p in plan["retract"] if p in old
                ],
            )
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
        pending.replace(run / "outcome.json")
        return {**result, "published": True}


# -- marts -------------------------------------------------------------------------------------------------
def build_marts(run_dir: str) -> dict:
    """Rebuild the marts and the dashboard after a publish; a run that published nothing leaves them (and
    the warehouse file) as they are."""
    from etl.dashboard import write_dashboard
    from etl.load import build_marts as _build
    from etl.warehouse.marts import marts_fresh

    with storage.working_copy(run_dir, reads=("run.json", "outcome.json")) as run:
        settings = _run_settings(run)
        outcome = run / "outcome.json"
        published = not outcome.exists() or _read_json(outcome).get("published", True)
        fetched = _last_fetch(run)
    dashboard = settings.workdir / "dashboard.html"
    if not published and dashboard.exists() and marts_fresh(settings.warehouse_path):
        return {"run_dir": run_dir, "skipped": "nothing published", "dashboard": str(dashboard)}
    result = _build(settings.warehouse_path)
    dashboard = write_dashboard(settings.warehouse_path, settings.workdir / "dashboard.html", fetched)
    return {"run_dir": run_dir, **result, "dashboard": str(dashboard)}


def _last_fetch(run: Path) -> dict | None:
    """The last web fetch into the run's landing folder (etl.fetch), if reports were fetched there."""
    from etl.fetch.store import last_summary

    info = _run_info(run)
    return last_summary(Path(info["landing"])) if info else None


def summarize(run_dir: str) -> dict:
    from etl.load import mart_rows

    with storage.working_copy(
        run_dir, reads=("run.json", "outcome.json", "validation/failures.parquet"), writes=()
    ) as run:
        outcome = _read_json(run / "outcome.json")
        settings = _run_settings(run)
        keep = ("loaded", "quarantined", "rejected", "duplicates", "counts", "published", "incremental")
        failures_path = run / "validation" / "failures.parquet"
        if failures_path.exists():
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            failures = pq.read_table(failures_path, columns=["report_id", "severity"])
            warned = failures.filter(pc.not_equal(failures["severity"], "blocking"))
            warnings = {
                "warnings": warned.num_rows,
                "reports_with_warnings": len(pc.unique(warned["report_id"])),
            }
        else:
            warnings = {}
        docs, dashboard = (
            storage.join(run_dir, "data_docs", "index.html"),
            settings.workdir / "dashboard.html",
        )
        links = {
            "data_docs": docs if storage.exists(docs) else None,
            "dashboard": str(dashboard) if dashboard.exists() else None,
        }
        fetched = _last_fetch(run)
        return {
            "run_id": outcome["run_id"],
            **{k: outcome[k] for k in keep if k in outcome},
            **warnings,
            **{k: v for k, v in links.items() if v},
            "mart": mart_rows(settings.warehouse_path),
            **({"fetch": {k: fetched[k] for k in ("finished_at", "totals", "hosts")}} if fetched else {}),
        }


def latest_run_dir(workdir: Path) -> str | None:
    """The run folder (a path, or a URL under a remote storage root) of the workdir's last finished run."""
    runs_root = load_settings(workdir=workdir).runs_root
    local = storage.local_dir(runs_root)
    if local is not None:
        runs = [p for p in local.glob("*") if (p / "outcome.json").exists()]
        return str(max(runs, key=lambda p: (p / "outcome.json").stat().st_mtime)) if runs else None
    done = storage.glob(storage.join(runs_root, "*", "outcome.json"))
    if not done:
        return None
    fs = storage.filesystem(runs_root)
    latest = max(done, key=lambda url: (fs.modified(url).timestamp(), url))
    return storage.join(runs_root, PurePosixPath(latest).parent.name)  # in the root's own spelling


def serve_validation() -> None:
    """The validation process of run() (`python -c`): import Great Expectations, then validate the run folder
    named on stdin and print the result as JSON."""
    import etl.validate.stage  # noqa: F401 - the import this process exists to do early

    run_dir = sys.stdin.readline().strip()
    if run_dir:
        print(json.dumps(validate(run_dir)))


@contextmanager
def _validator(runs_root: str) -> Iterator[Callable[[str], dict]]:
    """validate() for run(): in a process of its own, started now, so that Great Expectations' import
    (~3 s of one core, most of a small run's validation) happens while extract walks the landing folder on
    the other core. In-process instead when this process has GE loaded already (a test session, a second
    run in one process) or when the run folders live in this process's memory (a memory:// storage root).
    A plain subprocess, not multiprocessing: that would re-import the caller's __main__."""
    if "great_expectations" in sys.modules or runs_root.startswith("memory:"):
        yield validate
        return
    import subprocess

    import etl

    # the same etl package as this process: its folder goes first only when the child would find another
    origin = os.path.realpath(etl.__file__)
    parent = os.path.dirname(os.path.dirname(origin))
    code = (
        "import os, sys, importlib.util as u; s = u.find_spec('etl'); "
        f"(s is not None and os.path.realpath(s.origin) == {origin!r}) or sys.path.insert(0, {parent!r}); "
        "from etl.pipeline import serve_validation; serve_validation()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def validate_there(run_dir: str) -> dict:
        out, _ = proc.communicate(run_dir + "\n")
        if proc.returncode != 0:
            raise RuntimeError(
                f"validation of {run_dir} failed in its process (exit {proc.returncode}; see above)"
            )
        return json.loads(out.strip().splitlines()[-1])  # the last line: anything printed before is not ours

    try:
        yield validate_there
    finally:
        if proc.poll() is None:
            proc.communicate("")  # nothing to validate (an earlier stage failed): let it end


class _ParserPerThread:
    """parse_batch with one capped parser worker per thread, kept across batches (a worker's start-up, the
    parser's imports, costs about as much as parsing a hundred text reports) and renewed every
    RENEW_BATCHES batches so no worker's memory grows over a whole national run."""

    RENEW_BATCHES = 10

    def __init__(self) -> None:
        self._local = threading.local()
        self._open: list = []
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            for parser in self._open:
                parser.close()
            self._open.clear()

    def __call__(self, batch_path: str) -> str:
        from etl.parse.isolation import IsolatedParser

        local = self._local
        if getattr(local, "parser", None) is None or local.batches >= self.RENEW_BATCHES:
            if getattr(local, "parser", None) is not None:
                local.parser.close()
                with self._lock:
                    self._open.remove(local.parser)
            local.parser, local.batches = IsolatedParser(), 0
            with self._lock:
                self._open.append(local.parser)
        local.batches += 1
        return parse_batch(batch_path, parser=local.parser)


def run(
    landing: str | None = None,
    workdir: str | None = None,
    run_id: str | None = None,
    years: list[int] | None = None,
    rebuild: bool = False,
    retract: list[str] | None = None,
    retract_reason: str | None = None,
) -> dict:
    """Every stage in-process, same functions and files as the DAG; one run per workdir at a time. Parse
    batches run ETL_PARSE_WORKERS at a time (each in its own capped worker process)."""
    from concurrent.futures import ThreadPoolExecutor

    from etl.lock import workdir_lock

    run_id = run_id or new_run_id()
    settings = load_settings(Path(landing) if landing else None, Path(workdir) if workdir else None)
    with workdir_lock(settings.workdir, run_id, settings.run_lock_wait_s):
        with _validator(settings.runs_root) as validate_in:
            plan = extract(run_id, landing, workdir, years, rebuild, retract, retract_reason)
            with ThreadPoolExecutor(max_workers=settings.parse_workers) as pool, _ParserPerThread() as parse:
                parsed = list(pool.map(parse, plan["batches"]))
            transform(plan["run_dir"], parsed)
            validate_in(plan["run_dir"])
        load(plan["run_dir"])
        build_marts(plan["run_dir"])
        return summarize(plan["run_dir"])
