"""Incremental runs (issue 11 part 1): parse once per parser version, republish only what changed, remove
only by an explicit retraction; every incremental state equals a from-scratch build of the same inputs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from etl import pipeline
from etl.incremental import RetractError, input_key, ledger_changes, plan, slot_members
from etl.load import PARTITIONED
from etl.model import SourceFile
from tests.conftest import PROJECT, SEED

SAMPLE = PROJECT / "sample" / "landing" / "generated"
# the published tables whose contents a run decides (run_log / retraction_log / meta record history)
COMPARED = (*PARTITIONED, "file_outcome", "dim_agency", "agency_alias", "mart_province_year", "mart_report")


def _contents(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in COMPARED:
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] != "run_id"]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _gbk_copy(text: str) -> bytes:
    return text.encode("gb18030")


@pytest.fixture
def landing(tmp_path) -> Path:
    """The seed, a few generated reports of two provinces and years, a quarantined one, a non-report."""
    root = tmp_path / "landing"
    root.mkdir()
    shutil.copy(SEED, root / "suichang-2021.txt")
    picked = sorted(p for p in SAMPLE.rglob("*") if p.is_file() and p.suffix in (".txt", ".html", ".md"))[:12]
    assert len(picked) >= 8, "the bundled sample should hold text and HTML reports"
    for p in picked:
        dest = root / "generated" / p.relative_to(SAMPLE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dest)
    (root / "note.txt").write_text("会议通知：明天开会。", encoding="utf-8")
    return root


def _run(landing: Path, work: Path, **kw) -> dict:
    return pipeline.run(landing=str(landing), workdir=str(work), **kw)


def test_an_unchanged_landing_parses_nothing_and_leaves_the_warehouse_byte_identical(landing, tmp_path):
    work = tmp_path / "work"
    first = _run(landing, work)
    assert first["published"] and first["incremental"]["parsed"] == first["counts"]["files"]
    db = work / "warehouse.duckdb"
    before = _sha(db)
    second = _run(landing, work)
    assert _sha(db) == before
    assert not second["published"]
    assert second["incremental"]["parsed"] == 0 and second["incremental"]["delta"] == 0
    assert second["counts"] == first["counts"]
    assert {k: second[k] for k in ("loaded", "quarantined", "rejected", "duplicates")} == {
        k: first[k] for k in ("loaded", "quarantined", "rejected", "duplicates")
    }


def test_new_changed_and_competing_files_end_as_a_from_scratch_build(landing, tmp_path):
    work = tmp_path / "work"
    _run(landing, work)
    # a new report, a changed report (its 表三 total altered: it breaks a rule), and a GBK copy of the seed
    # (same issuer-year, other bytes: it competes for the seed's slot)
    extra = sorted(p for p in SAMPLE.rglob("*.txt"))[-1]
    shutil.copy(extra, landing / "new-report.txt")
    changed = landing / "suichang-2021.txt"
    text = SEED.read_text(encoding="utf-8")
    edited = text.replace(
        "(一)予以公开 | 25 | 0 | 0 | 0 | 0 | 0 | 25 |", "(一)予以公开 | 25 | 0 | 0 | 0 | 0 | 0 | 26 |"
    )
    assert edited != text
    changed.write_text(edited, encoding="utf-8")
    (landing / "zz-seed-gbk.txt").write_bytes(_gbk_copy(text))
    second = _run(landing, work)
    assert second["incremental"]["parsed"] == 3  # only the new and the changed files
    # one issuer-year, two different tables: a metadata conflict, both quarantined naming each other
    # (etl.outcomes.decide never merges reports whose tables differ)
    assert "meta.issuer_year_conflict" in second["quarantined"]["zz-seed-gbk.txt"]
    assert "meta.issuer_year_conflict" in second["quarantined"]["suichang-2021.txt"]

    scratch = tmp_path / "scratch"
    _run(landing, scratch)
    assert _contents(work / "warehouse.duckdb") == _contents(scratch / "warehouse.duckdb")


def test_agencies_are_normalized_again_when_their_rules_change(landing, tmp_path, monkeypatch):
    """dim_agency keeps its rows across publishes (only new issuers are normalized) until the rules behind
    them change: then every published issuer is normalized again."""
    import duckdb

    work = tmp_path / "work"
    _run(landing, work)
    db = work / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("UPDATE dim_agency SET agency_name = 'stale'")  # what rows made by older rules stand for
    con.close()
    shutil.copy(sorted(SAMPLE.rglob("*.txt"))[-1], landing / "new-report.txt")
    _run(landing, work)
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("SELECT count(*) FROM dim_agency WHERE agency_name = 'stale'").fetchone()[0]
    con.close()
    assert kept > 0  # same rules: rows kept, the new issuer's added

    monkeypatch.setattr("etl.load.AGENCY_RULES_VERSION", "changed")
    shutil.copy(sorted(SAMPLE.rglob("*.html"))[-1], landing / "another-report.html")
    _run(landing, work)
    scratch = tmp_path / "scratch"
    _run(landing, scratch)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'agency_rules_version'").fetchone() == ("changed",)
    con.close()
    assert _contents(db)["dim_agency"] == _contents(scratch / "warehouse.duckdb")["dim_agency"]


def test_a_removed_file_is_reported_and_kept_until_retracted(landing, tmp_path):
    work = tmp_path / "work"
    (landing / "zz-seed-gbk.txt").write_bytes(_gbk_copy(SEED.read_text(encoding="utf-8")))
    first = _run(landing, work)
    assert "suichang-2021.txt" in first["loaded"] and "zz-seed-gbk.txt" in first["duplicates"]
    (landing / "suichang-2021.txt").unlink()
    db = work / "warehouse.duckdb"
    second = _run(landing, work)
    assert second["incremental"]["missing"] == ["suichang-2021.txt"]
    assert "suichang-2021.txt" not in second["loaded"]  # not an input of this run any more
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("SELECT count(*) FROM dim_report WHERE source_file = 'suichang-2021.txt'").fetchone()
    present = con.execute(
        "SELECT present FROM file_outcome WHERE source_file = 'suichang-2021.txt'"
    ).fetchone()
    con.close()
    assert kept == (1,) and present == (False,)  # the sweep removed nothing

    with pytest.raises(RetractError, match="still in the landing area"):
        _run(landing, work, retract=["zz-seed-gbk.txt"], retract_reason="x")
    with pytest.raises(RetractError, match="not in the warehouse"):
        _run(landing, work, retract=["nowhere.txt"], retract_reason="x")
    third = _run(landing, work, retract=["suichang-2021.txt"], retract_reason="withdrawn by the agency")
    assert third["incremental"]["retracted"] == ["suichang-2021.txt"]
    assert "zz-seed-gbk.txt" in third["loaded"]  # its copy takes the slot
    con = duckdb.connect(str(db), read_only=True)
    log = con.execute("SELECT source_file, status, reason, retracted_by FROM retraction_log").fetchall()
    con.close()
    assert [r[:3] for r in log] == [("suichang-2021.txt", "loaded", "withdrawn by the agency")] and log[0][3]
    scratch = tmp_path / "scratch"
    _run(landing, scratch)
    assert _contents(db) == _contents(scratch / "warehouse.duckdb")


def test_a_renamed_file_is_not_parsed_again(landing, tmp_path):
    work = tmp_path / "work"
    _run(landing, work)
    (landing / "suichang-2021.txt").rename(landing / "renamed-2021.txt")
    second = _run(landing, work)
    assert second["incremental"]["parsed"] == 0
    assert second["incremental"]["renamed"] == {"suichang-2021.txt": "renamed-2021.txt"}
    assert "renamed-2021.txt" in second["loaded"] and not second["incremental"]["missing"]
    scratch = tmp_path / "scratch"
    _run(landing, scratch)
    assert _contents(work / "warehouse.duckdb") == _contents(scratch / "warehouse.duckdb")


def test_a_new_parser_version_parses_everything_again(landing, tmp_path, monkeypatch):
    work = tmp_path / "work"
    first = _run(landing, work)
    monkeypatch.setattr("etl.config.PARSER_VERSION", "test-next")
    second = _run(landing, work)
    assert second["incremental"]["parsed"] == first["counts"]["files"]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    versions = con.execute("SELECT DISTINCT input_key FROM file_outcome WHERE status = 'loaded'").fetchall()
    con.close()
    assert len(versions) == 1


def test_a_rebuild_of_some_years_republishes_them_identically(landing, tmp_path):
    work = tmp_path / "work"
    _run(landing, work)
    db = work / "warehouse.duckdb"
    before = _contents(db)
    con = duckdb.connect(str(db), read_only=True)
    years = [r[0] for r in con.execute("SELECT DISTINCT year FROM dim_report ORDER BY 1").fetchall()]
    con.close()
    assert len(years) >= 2
    rebuilt = _run(landing, work, rebuild=True, years=years[:2])
    assert rebuilt["published"] and rebuilt["incremental"]["parsed"] == 0
    assert rebuilt["incremental"]["years"] == years[:2]
    again = _run(landing, work, rebuild=True, years=years[:2])  # a backfill run twice
    assert again["published"]
    assert _contents(db) == before
    with pytest.raises(ValueError, match="rebuild"):
        _run(landing, work, years=years[:1])


# -- the plan itself (pure) -------------------------------------------------------------------------------
def _f(path: str, sha: str, fmt: str = "text") -> SourceFile:
    return SourceFile(path=path, sha256=sha, size=1, file_format=fmt)


def _row(path, sha, status="loaded", year=2021, issuer="甲县人民政府", key="k", fmt="text"):
    rid = sha[:20] if status != "rejected" else None
    return {
        "source_file": path,
        "sha256": sha,
        "file_format": fmt,
        "status": status,
        "detail": None,
        "report_id": rid,
        "year": year if rid else None,
        "issuer": issuer if rid else None,
        "n_unresolved": 0,
        "rule_ids": None,
        "input_key": key,
        "present": True,
    }


def test_plan_sorts_files_into_reuse_delta_missing_renamed():
    ledger = {
        "a.txt": _row("a.txt", "a" * 64),
        "b.txt": _row("b.txt", "b" * 64),
        "gone.txt": _row("gone.txt", "c" * 64),
        "old-name.txt": _row("old-name.txt", "d" * 64, year=2020),
        "judged.txt": _row("judged.txt", "e" * 64, key="old-rules"),
    }
    files = [
        _f("a.txt", "a" * 64),  # unchanged
        _f("b.txt", "f" * 64),  # changed content
        _f("new-name.txt", "d" * 64),  # moved
        _f("judged.txt", "e" * 64),  # same bytes, other rules
        _f("copy-of-a.txt", "a" * 64),  # same bytes as a.txt
        _f("new.txt", "0" * 64),
    ]
    keys = {f.path: "k" for f in files}
    p = plan(files, ledger, keys)
    assert p.reuse == ["a.txt"]
    assert sorted(p.delta) == ["b.txt", "judged.txt", "new-name.txt", "new.txt"]
    assert p.missing == ["gone.txt"] and p.renamed == {"old-name.txt": "new-name.txt"}
    assert p.duplicates == {"copy-of-a.txt": "a.txt"}
    assert set(p.stale_report_ids) == {"b" * 20, "d" * 20, "e" * 20}
    rebuilt = plan(files, ledger, keys, rebuild_years=[2021])
    assert "a.txt" in rebuilt.delta and rebuilt.rebuild_years == [2021]


def test_plan_refuses_a_retraction_of_a_file_still_landed_or_unknown():
    ledger = {"a.txt": _row("a.txt", "a" * 64)}
    with pytest.raises(RetractError, match="still in the landing"):
        plan([_f("a.txt", "a" * 64)], ledger, {"a.txt": "k"}, retract=["a.txt"])
    with pytest.raises(RetractError, match="not in the warehouse"):
        plan([], ledger, {}, retract=["b.txt"])
    p = plan([], ledger, {}, retract=["a.txt"])
    assert p.retract == ["a.txt"] and p.stale_report_ids == ["a" * 20] and not p.missing


def test_slot_members_are_the_published_reports_of_the_same_issuer_year():
    ledger = {
        "x.txt": _row("x.txt", "1" * 64),
        "y.html": _row("y.html", "2" * 64, status="duplicate"),
        "z.txt": _row("z.txt", "3" * 64, issuer="乙县人民政府"),
        "r.txt": _row("r.txt", "4" * 64, status="rejected"),
    }
    assert slot_members({("甲县人民政府", 2021)}, ledger, exclude={"x.txt"}) == ["y.html"]
    assert slot_members({("丙县人民政府", 2021)}, ledger, exclude=set(), partners={"z.txt": ["q"]}) == []


def test_input_key_changes_with_each_input():
    base = input_key("s1", "")
    assert base != input_key("s2", "") != input_key("s1", "c") != input_key("s1", "", parser_version="p2")


def test_ledger_changes_write_only_what_differs():
    old = {"a": _row("a", "a" * 64), "b": _row("b", "b" * 64)}
    new = {"a": dict(old["a"]), "c": _row("c", "c" * 64)}
    upsert, delete = ledger_changes(new, old)
    assert [r["source_file"] for r in upsert] == ["c"] and delete == ["b"]


def test_a_remote_storage_root_carries_the_run_and_gives_the_same_warehouse(landing, tmp_path, monkeypatch):
    """ETL_STORAGE_ROOT on an object store (fsspec's memory:// stands in for s3://): run folders, the files
    to parse and the parse cache go through it, and the warehouse is the one a local run builds."""
    import uuid

    import fsspec

    local = _run(landing, tmp_path / "local")
    root = f"memory://etl-run-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ETL_STORAGE_ROOT", root)
    fs = fsspec.filesystem("memory")
    try:
        remote = _run(landing, tmp_path / "remote")
        assert _contents(tmp_path / "remote" / "warehouse.duckdb") == _contents(
            tmp_path / "local" / "warehouse.duckdb"
        )
        assert remote["counts"] == local["counts"]
        base = fsspec.core.url_to_fs(root)[1]
        run_folder = f"{base}/runs/{remote['run_id']}"
        for name in ("manifest.json", "published_ledger.parquet", "staged.json", "outcome.json"):
            assert fs.exists(f"{run_folder}/{name}"), name
        assert fs.glob(f"{run_folder}/parsed/batch-*.jsonl") and fs.glob(
            f"{run_folder}/staging/reports/*/*.parquet"
        )
        assert fs.glob(f"{run_folder}/inputs/*/suichang-2021.txt"), "the files to parse are shared"
        assert fs.glob(f"{base}/store/parse/*/*/*.json"), "the parse cache is on the storage root"
        assert remote["data_docs"].startswith(root)
        assert not (tmp_path / "remote" / "runs").exists(), "nothing of the run is left on the local disk"
        again = _run(landing, tmp_path / "remote")
        assert again["incremental"]["parsed"] == 0 and not again["published"]
        assert pipeline.latest_run_dir(tmp_path / "remote") == f"{root}/runs/{again['run_id']}"
    finally:
        if fs.exists(fsspec.core.url_to_fs(root)[1]):
            fs.rm(fsspec.core.url_to_fs(root)[1], recursive=True)
