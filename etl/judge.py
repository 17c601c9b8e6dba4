"""Judge a batch of unlabelled reports: what the pipeline would do with each file, without labels.

`make accuracy CORPUS=dir` on a folder whose reports have no `*.expected.json` runs the pipeline's own
stages (extract, parse, transform, validate, the outcome decision) in a temporary workdir (the warehouse is
not touched) and prints, per file, loaded / quarantined (rule ids) / rejected (reason) / duplicate, and the
share of its identity cells (the cells the blocking 勾稽关系 rules read: 表三 and 表四) that are printed and
pass every identity they take part in, plus totals. A new batch of real reports can so be judged before it
is labelled: a low share or a quarantine points at a layout the reader does not know yet (or a source error).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from etl.validate.rules import holds, identities

LABEL_SUFFIX = ".expected.json"


@dataclass
class Judgement:
    file: str
    status: str  # loaded | quarantined | rejected | duplicate
    detail: str  # rule ids, reason, or the kept copy
    passing: int = 0  # identity cells printed and passing every identity they are in
    identity_cells: int = 0
    template: str | None = None
    year: int | None = None
    issuer: str | None = None


def unlabelled(corpus: Path) -> list[Path]:
    """Report files in the folder that no label names (labels name their report in "file")."""
    import json

    named = set()
    for label in corpus.rglob("*" + LABEL_SUFFIX):
        try:
            named.add(label.parent / json.loads(label.read_text(encoding="utf-8"))["file"])
        except (ValueError, KeyError):
            continue
    return sorted(
        p
        for p in corpus.rglob("*")
        if p.is_file() and not p.name.endswith(LABEL_SUFFIX) and not p.name.startswith(".") and p not in named
    )


def identity_share(template: str, cells: dict) -> tuple[int, int]:
    """(cells passing every blocking identity they are in, cells the identities read)."""
    sums = identities(template)
    failing = {c for r in sums if not holds(r, cells) for c in r.cells}  # a missing cell fails too
    involved = {c for r in sums for c in r.cells}
    ok = sum(1 for c in involved if c not in failing and cells.get(c) is not None)
    return ok, len(involved)


def judge(files: list[Path], root: Path) -> list[Judgement]:
    """Run the pipeline's stages up to the outcome decision over `files` (paths under `root`)."""
    from etl import pipeline
    from etl.transform import report_id

    with tempfile.TemporaryDirectory(prefix="etl-judge-") as tmp:
        landing = Path(tmp) / "landing"
        for f in files:  # a landing folder of exactly these files (labels and other files left out)
            dest = landing / f.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        plan = pipeline.extract("judge", str(landing), str(Path(tmp) / "work"))
        run = Path(plan["run_dir"])
        pipeline.transform(plan["run_dir"], [pipeline.parse_batch(b) for b in plan["batches"]])
        pipeline.validate(plan["run_dir"])
        manifest = pipeline._read_json(run / "manifest.json")
        outcomes = {o.source_file: o for o in pipeline.outcomes(plan["run_dir"])}
        parsed = {rec["file"]["path"]: rec.get("report") for rec in pipeline._iter_parsed(run)}
        staged = _staged_cells(run / "staging" / "cells")
    out = []
    for path, o in sorted(outcomes.items()):
        j = Judgement(path, o.status, o.detail or "")
        if rep := parsed.get(path):
            # the values validation judged (blank totals derived, reviewed corrections applied)
            cells = staged.get(report_id(_sha(manifest, path)), rep["cells"])
            j.passing, j.identity_cells = identity_share(rep["template"], cells)
            j.template, j.year, j.issuer = rep["template"], rep["meta"]["year"], rep["meta"]["issuer"]
        out.append(j)
    return out


def _sha(manifest: dict, path: str) -> str:
    return next(f["sha256"] for f in manifest["files"] if f["path"] == path)


def _staged_cells(cells_dir: Path) -> dict[str, dict]:
    """report_id -> {code: value} from the run's staging cells (NaN -> None)."""
    import pyarrow.dataset as ds

    if not cells_dir.exists():
        return {}
    table = ds.dataset(cells_dir, format="parquet", partitioning="hive").to_table(
        columns=["report_id", "code", "value"]
    )
    out: dict[str, dict] = {}
    for rid, code, value in zip(*(table[c].to_pylist() for c in ("report_id", "code", "value")), strict=True):
        out.setdefault(str(rid), {})[str(code)] = None if value is None or value != value else value
    return out


def render(judged: list[Judgement]) -> str:
    head = (
        "| file | outcome | rules / reason | identity cells passing | template | year | issuer |\n"
        "|---|---|---|---|---|---|---|"
    )
    rows = []
    for j in judged:
        share = f"{j.passing}/{j.identity_cells}" if j.identity_cells else "–"
        detail = j.detail.replace("|", "/")
        rows.append(
            f"| {j.file} | {j.status} | {detail or '–'} | {share} | {j.template or '–'} | {j.year or '–'} | "
            f"{j.issuer or '–'} |"
        )
    counts = {
        s: sum(j.status == s for j in judged) for s in ("loaded", "quarantined", "rejected", "duplicate")
    }
    passing = sum(j.passing for j in judged)
    cells = sum(j.identity_cells for j in judged)
    pct = f" ({passing / cells:.1%})" if cells else ""
    total = (
        f"| **total** {len(judged)} files | "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f" | | {passing}/{cells}{pct} | | | |"
    )
    return "\n".join([head, *rows, total])
