"""Incremental runs: what a run must (re)do, given the landing snapshot and the published ledger.

The published ledger is the warehouse's `file_outcome`: one row per file the warehouse accounts for, with
what decided its outcome (content hash, format, issuer-year slot, blocking rules) and the `input_key` of
what judged it (parser version, suite version, the reviewed corrections of its report). A run compares the
landing snapshot with it, file by file:

    reuse    same path, same content, same input key: nothing to do (its published rows stay as they are)
    delta    new, changed, judged by other inputs, or in a year being rebuilt: read (parse cache first),
             validated and republished
    missing  published but no longer in the landing area: reported, and its facts stay until an explicit
             `python -m etl retract` removes them (audited in `retraction_log`)
    renamed  published under a path that is gone while its content is in the landing under another path

Republishing works on issuer-year slots, the unit the loader decides in (etl.outcomes.decide): every
published member of a slot that a delta report falls into is re-read from the parse cache and decided again
with it, so the slot's rows are exactly those a run from scratch would write (tests/test_incremental.py
checks that against a from-scratch build). Nothing else in the warehouse is touched; a run with no delta and
no ledger change does not open the warehouse for writing at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from etl import config
from etl.model import SourceFile
from etl.parse.cache import cache_key

LEDGER_COLUMNS = (
    "source_file",
    "sha256",
    "file_format",
    "status",
    "detail",
    "report_id",
    "year",
    "issuer",
    "n_unresolved",
    "rule_ids",
    "input_key",
    "present",
)
PARSED_STATUSES = ("loaded", "quarantined", "duplicate")  # with a report_id: a parsed report's slot


def corrections_digest(corrections: dict) -> str:
    """What the reviewed corrections of one report say, as a short hash ('' when it has none)."""
    if not corrections:
        return ""
    text = "|".join(
        f"{c}={corrections[c].corrected_value}:{corrections[c].audit()}" for c in sorted(corrections)
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def input_key(suite_version: str, corrections: str, parser_version: str | None = None) -> str:
    """What judged a file besides its bytes: a change of any of them makes the file a delta again."""
    version = parser_version or config.PARSER_VERSION
    return hashlib.sha256(f"{version}|{suite_version}|{corrections}".encode()).hexdigest()[:16]


@dataclass
class Plan:
    """The extract stage's decision for one run (serialised into the run's manifest)."""

    unique: list[SourceFile]  # the snapshot's files, one per content (the first path in scan order)
    duplicates: dict[str, str]  # path -> the path with the same content (this snapshot or published)
    delta: list[str] = field(default_factory=list)  # paths to read and republish
    reuse: list[str] = field(default_factory=list)  # paths whose published rows stay
    missing: list[str] = field(default_factory=list)  # published, gone from the landing, kept
    renamed: dict[str, str] = field(default_factory=dict)  # old published path -> its path now
    retract: list[str] = field(default_factory=list)  # published paths removed by this run (audited)
    stale_report_ids: list[str] = field(default_factory=list)  # published reports of delta/renamed/retracted
    rebuild_years: list[int] | None = None  # whole year partitions replaced (None: none)

    def to_dict(self) -> dict:
        return {
            "delta": self.delta,
            "reuse": self.reuse,
            "missing": self.missing,
            "renamed": self.renamed,
            "retract": self.retract,
            "stale_report_ids": self.stale_report_ids,
            "rebuild_years": self.rebuild_years,
        }


class RetractError(ValueError):
    """A retraction that cannot be done as asked (the file is unknown, or still in the landing area)."""


def plan(
    files: Iterable[SourceFile],
    ledger: dict[str, dict],
    keys: dict[str, str],
    *,
    rebuild_years: list[int] | None = None,
    rebuild_all: bool = False,
    retract: Iterable[str] = (),
    refused: Iterable[str] = (),
) -> Plan:
    """Decide every snapshot file and every published row (pure).

    `keys`: path -> the input key the file would be judged with now (see input_key); `refused`: the
    snapshot's entries that cannot be read (they are in the landing area, but never parsed)."""
    files = list(files)
    rebuild = set(rebuild_years or ())
    snapshot = {f.path for f in files} | set(refused)
    retract = list(dict.fromkeys(retract))
    for path in retract:
        if path not in ledger:
            raise RetractError(f"{path}: not in the warehouse's ledger")
        if path in snapshot:
            raise RetractError(f"{path}: still in the landing area (remove it from there first)")
    first_by_sha: dict[str, str] = {}
    unique, duplicates = [], {}
    for f in files:
        if f.sha256 in first_by_sha:
            duplicates[f.path] = first_by_sha[f.sha256]
        else:
            first_by_sha[f.sha256] = f.path
            unique.append(f)
    out = Plan(unique=unique, duplicates=duplicates, retract=retract)
    out.rebuild_years = sorted(rebuild) if rebuild else None
    stale: set[str] = set()
    for f in unique:
        row = ledger.get(f.path)
        same = (
            row is not None
            and row["sha256"] == f.sha256
            and row["file_format"] == f.file_format
            and row["input_key"] == keys[f.path]
            and not (row["status"] == "duplicate" and row["report_id"] is None)  # was a copy, now the first
        )
        rebuilt = row is not None and (rebuild_all or (row["year"] is not None and row["year"] in rebuild))
        if same and not rebuilt:
            out.reuse.append(f.path)
            continue
        out.delta.append(f.path)
        if row is not None and row["report_id"]:
            stale.add(row["report_id"])
    for path, row in ledger.items():
        if path in snapshot:
            if path in duplicates and row["report_id"]:  # was a report, is now a copy of another path
                stale.add(row["report_id"])
            continue
        if path in out.retract:
            if row["report_id"]:
                stale.add(row["report_id"])
            continue
        now = first_by_sha.get(row["sha256"]) if row["sha256"] else None
        if now is not None:  # the same content under another path: a move, not a removal
            out.renamed[path] = now
            if row["report_id"]:
                stale.add(row["report_id"])
            if now in out.reuse:  # its slot is re-decided with the report under its new name
                out.reuse.remove(now)
                out.delta.append(now)
        else:
            out.missing.append(path)
    out.stale_report_ids = sorted(stale)
    return out


def slot_of(issuer: str | None, year: int | None, report_id: str) -> tuple:
    """The issuer-year a report competes in (etl.outcomes.decide); a report without an issuer is alone."""
    return (issuer, year) if issuer else ("report", report_id)


def slot_members(
    slots: set[tuple],
    ledger: dict[str, dict],
    exclude: set[str],
    partners: dict[str, list[str]] | None = None,
) -> list[str]:
    """Published parsed reports (present or missing) in one of `slots`, or partnered (a fetched page and its
    attachment) with a path in `exclude`, that are not in `exclude`: the rows a republish of those slots
    must decide again."""
    partners = partners or {}
    near = {p for path in exclude for p in partners.get(path, [])}
    out = []
    for path, row in ledger.items():
        if path in exclude or row["status"] not in PARSED_STATUSES or not row["report_id"]:
            continue
        if path in near or slot_of(row["issuer"], row["year"], row["report_id"]) in slots:
            out.append(path)
    return sorted(out)


def cache_key_of(f: SourceFile) -> str:
    return cache_key(f.sha256, f.file_format)


def ledger_changes(new: dict[str, dict], old: dict[str, dict]) -> tuple[list[dict], list[str]]:
    """(rows to write, paths to delete): the published ledger made equal to `new`."""
    upsert = []
    for path, row in new.items():
        was = old.get(path)
        if row is not was and _norm(was) != _norm(row):  # `is`: a published row carried over unchanged
            upsert.append(row)
    delete = sorted(set(old) - set(new))
    return upsert, delete


def _norm(row: dict | None):
    if row is None:
        return None
    return tuple(
        None if row.get(c) is None else (int(row[c]) if c in ("year", "n_unresolved") else row[c])
        for c in LEDGER_COLUMNS
    )


def read_ledger(target) -> dict[str, dict]:
    """The published ledger (source_file -> row), read-only; empty when there is no warehouse yet."""
    from etl.warehouse import connect

    if target.duckdb_path is not None and not target.duckdb_path.exists():
        return {}
    wh = connect(target, read_only=True)
    try:
        if "file_outcome" not in set(wh.tables()):
            return {}
        cols = {c for c in wh.columns("file_outcome")}
        if not set(LEDGER_COLUMNS) <= cols:  # made by an older schema: the load will refuse it clearly
            return {}
        rows = wh.fetch_dicts(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM file_outcome")
    finally:
        wh.close()
    return {r["source_file"]: r for r in rows}
