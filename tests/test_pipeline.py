"""`python -m etl run`: every file accounted for, the seed in the warehouse, re-runs change nothing."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT, SEED

TABLES = ("dim_report", "fact_cell", "quarantine", "quarantine_cell", "file_outcome", "mart_province_year")


def _landing(root: Path) -> Path:
    landing = root / "landing"
    (landing / "zz-archive").mkdir(parents=True)
    shutil.copy(SEED, landing / "suichang-2021.txt")
    shutil.copy(SEED, landing / "zz-archive" / "suichang-2021.txt")  # same bytes, later path: a duplicate
    (landing / "empty.txt").write_bytes(b"")
    (landing / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (landing / "note.txt").write_text("会议通知：明天开会。", encoding="utf-8")
    # another county's report (the seed, renamed) with one 表三 total changed: breaks the rules -> quarantined
    broken = (
        SEED.read_text(encoding="utf-8")
        .replace("遂昌", "松阳")
        .replace(
            "(一)予以公开 | 25 | 0 | 0 | 0 | 0 | 0 | 25 |", "(一)予以公开 | 25 | 0 | 0 | 0 | 0 | 0 | 26 |"
        )
    )
    assert broken != SEED.read_text(encoding="utf-8")
    (landing / "broken.txt").write_text(broken, encoding="utf-8")
    # the seed re-encoded in GBK: a different file, the same issuer-year -> duplicate of the seed
    (landing / "zz-seed-gbk.txt").write_bytes(SEED.read_text(encoding="utf-8").encode("gb18030"))
    return landing


def _run(landing: Path, workdir: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _checksums(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in TABLES:
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] != "run_id"]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    landing = _landing(root)
    result = _run(landing, root / "work")
    return landing, root / "work", result


def test_every_file_has_one_outcome(first_run):
    landing, _, result = first_run
    files = sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file())
    named = sorted([*result["loaded"], *result["quarantined"], *result["rejected"], *result["duplicates"]])
    assert named == files


def test_outcomes(first_run):
    _, _, result = first_run
    assert result["loaded"] == ["suichang-2021.txt"]
    assert sorted(result["duplicates"]) == ["zz-archive/suichang-2021.txt", "zz-seed-gbk.txt"]
    assert set(result["rejected"]) == {"empty.txt", "blob.bin", "note.txt"}
    assert all(isinstance(r, str) and r for r in result["rejected"].values())
    assert "t3.row_total.granted" in result["quarantined"]["broken.txt"]


def test_warehouse_contents(first_run):
    _, work, _ = first_run
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT province, year, issuer, template FROM dim_report").fetchall() == [
            ("浙江省", 2021, "遂昌县人民政府", "2021")
        ]
        assert con.execute("SELECT count(*) FROM fact_cell").fetchone()[0] == 200
        value = con.execute(
            "SELECT value FROM fact_cell WHERE code = 't3.granted.natural_person'"
        ).fetchone()[0]
        assert value == 25
        mart = con.execute(
            "SELECT province, year, reports, applications, handled, granted, partially_granted, "
            "disclosure_rate, administrative_reviews, lawsuits FROM mart_province_year"
        ).fetchall()
        assert mart == [("浙江省", 2021, 1, 44, 44, 25, 7, round(32 / 44, 4), 2, 4)]
        q = con.execute("SELECT DISTINCT source_file FROM quarantine").fetchall()
        assert q == [("broken.txt",)]
        assert con.execute("SELECT count(*) FROM quarantine_cell").fetchone()[0] == 200
        counts = con.execute(
            "SELECT files_seen, loaded, quarantined, rejected, duplicates FROM run_log"
        ).fetchall()
        assert counts == [(7, 1, 1, 3, 2)]
    finally:
        con.close()


def test_rerun_is_idempotent(first_run):
    landing, work, result = first_run
    before = _checksums(work / "warehouse.duckdb")
    again = _run(landing, work)
    assert again == result
    assert _checksums(work / "warehouse.duckdb") == before


def test_reviewed_correction_loads_a_quarantined_report(tmp_path, monkeypatch):
    landing = _landing(tmp_path)
    work = tmp_path / "work"
    first = _run(landing, work)
    assert "broken.txt" in first["quarantined"]
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    rid = con.execute(
        "SELECT DISTINCT report_id FROM quarantine WHERE source_file = 'broken.txt'"
    ).fetchone()[0]
    con.close()
    corrections = tmp_path / "corrections.csv"
    corrections.write_text(
        "report_id,cell,corrected_value,reviewer,reason,date\n"
        f"{rid},t3.granted.total,25,李审核,row total misprinted: 25 + 0s,2026-11-27\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ETL_CORRECTIONS_FILE", str(corrections))
    second = _run(landing, work)
    assert "broken.txt" in second["loaded"] and second["quarantined"] == {}
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(
            "SELECT value, printed_value, correction FROM fact_cell "
            "WHERE report_id = ? AND code = 't3.granted.total'",
            [rid],
        ).fetchone()
        assert row[0] == 25 and row[1] == 26 and "李审核" in row[2]
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    finally:
        con.close()


def test_run_id_is_one_safe_path_component():
    from etl.pipeline import safe_run_id

    assert (
        safe_run_id("manual__2026-11-27T20:02:57.524065+00:00") == "manual__2026-11-27T20-02-57.524065-00-00"
    )
    for raw in ("scheduled__2026-11-26T16:00:00+00:00", "../../etc/passwd", "a b/c\\\\d:e", "..", ""):
        safe = safe_run_id(raw)
        assert re.fullmatch(r"[A-Za-z0-9._-]+", safe), safe
        assert safe not in (".", "..") and not safe.startswith(".")


def test_run_validates_in_a_process_of_its_own_with_the_same_result(tmp_path, monkeypatch):
    """A one-shot `etl run` validates in a process started before extract (Great Expectations' import then
    overlaps the landing walk): the same failures as in this process, and a failure there is an error here."""
    import pandas as pd

    from etl import pipeline

    landing = _landing(tmp_path)
    pipeline.run(landing=str(landing), workdir=str(tmp_path / "w"))
    run_dir = pipeline.latest_run_dir(tmp_path / "w")
    here = pd.read_parquet(Path(run_dir) / "validation" / "failures.parquet")
    assert len(here) > 0  # broken.txt breaks a rule

    copy = tmp_path / "copy-run"  # the run's staging without its validation: the other process writes it anew
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("validation", "data_docs"))
    monkeypatch.delitem(sys.modules, "great_expectations", raising=False)  # as in a fresh `python -m etl run`
    with pipeline._validator(str(tmp_path / "w" / "runs")) as validate:
        assert validate is not pipeline.validate
        result = validate(str(copy))
    assert Path(result["failures"]).is_relative_to(copy)
    there = pd.read_parquet(result["failures"])
    pd.testing.assert_frame_equal(
        there.sort_values(list(there.columns)).reset_index(drop=True),
        here.sort_values(list(here.columns)).reset_index(drop=True),
    )
    broken = tmp_path / "broken-run"
    shutil.copytree(run_dir, broken)
    for part in (broken / "staging" / "reports").rglob("*.parquet"):
        part.write_bytes(b"not parquet")
    with (
        pytest.raises(RuntimeError, match="failed in its process"),
        pipeline._validator(str(tmp_path / "w" / "runs")) as validate,
    ):
        validate(str(broken))
