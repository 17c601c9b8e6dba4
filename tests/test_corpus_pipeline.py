"""The labelled corpus through the whole pipeline: the two reports with printed errors are quarantined under
the right rules, everything else loads (or is a duplicate of a loaded copy), and the warehouse holds the
printed numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import PROJECT, labelled_reports, load_label

EXPECTED_QUARANTINE = {
    "js-huaian-hongze-2023.pdf": {"t4.block_total.review", "t4.block_total.litigation_after_review"},
    "fj-pingtan-2020.page.txt": {"t3.col_outcomes.natural_person", "t3.col_outcomes.total"},
}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, request):
    reports = labelled_reports()
    if not reports:
        request.getfixturevalue("shared_corpus")  # fails under CI, skips elsewhere
    root = tmp_path_factory.mktemp("corpus")
    landing = root / "landing"
    landing.mkdir()
    for p in reports:
        shutil.copy(p, landing / p.name)
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(root / "work")],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return reports, root / "work", json.loads(proc.stdout.strip().splitlines()[-1])


def test_quarantine_is_exactly_the_printed_errors(corpus_run):
    _, _, result = corpus_run
    got = {f: set(rules) for f, rules in result["quarantined"].items()}
    assert got == EXPECTED_QUARANTINE


def test_everything_else_loads_once(corpus_run):
    reports, _, result = corpus_run
    assert result["rejected"] == {}
    # 平潭 2022 arrives as a text dump and as its HTML page: one issuer-year, counted once (the HTML)
    assert result["duplicates"] == ["fj-pingtan-2022.page.txt"]
    assert sorted([*result["loaded"], *result["quarantined"], *result["duplicates"]]) == sorted(
        p.name for p in reports
    )


def test_warehouse_holds_the_printed_numbers(corpus_run):
    reports, work, result = corpus_run
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        for report in reports:
            if report.name in result["duplicates"]:
                continue
            label = load_label(report)
            table = "quarantine_cell" if report.name in result["quarantined"] else "fact_cell"
            rows = con.execute(
                f"SELECT c.code, c.printed_value FROM {table} c JOIN file_outcome o USING (report_id) "
                "WHERE o.source_file = ?",
                [report.name],
            ).fetchall()
            got = dict(rows)
            skip = set(label.get("uncertain_cells", []))
            unresolvable = set(label.get("unresolvable_cells", []))
            wrong = {
                c: (got.get(c), v)
                for c, v in label["cells"].items()
                if c not in skip and got.get(c) != (None if c in unresolvable else v)
            }
            assert wrong == {}, report.name
    finally:
        con.close()
