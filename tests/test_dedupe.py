"""A dedupe never merges two reports whose tables differ (etl.outcomes.decide, issue 10 part 3).

Same issuer-year and the same cells: one report, the others duplicates (as before). Same issuer-year and
different cells: a metadata conflict (a township read as its county, two units read as one), reported on
every competing report as quarantined with meta.issuer_year_conflict naming the others, never a copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from etl.outcomes import CONFLICT_RULE, Candidate, cells_fingerprint, decide, same_cells, summary
from etl.parse import parse_file
from tests.conftest import REAL, SEED

CELLS = {"t3.new_received.total": 5, "t3.granted.total": 2, "t2.regulation.issued": 0, "t4.review.total": 1}


def _cand(
    name: str, cells: dict | None, fmt: str = "text", issuer: str = "遂昌县人民政府", rules=()
) -> Candidate:
    fp = None if cells is None else Candidate.fingerprint(cells)
    return Candidate(name, name * 2, fmt, name, issuer, 2021, 0, tuple(rules), fp)


def _by_file(outcomes) -> dict:
    return {o.source_file: o for o in outcomes}


def test_same_cells_are_a_duplicate():
    out = _by_file(decide([_cand("a.html", CELLS, "html"), _cand("b.txt", dict(CELLS))]))
    assert out["a.html"].status == "loaded"
    assert out["b.txt"].status == "duplicate" and "same issuer-year as a.html" in out["b.txt"].detail


def test_different_cells_are_a_conflict_on_both():
    other = {**CELLS, "t3.granted.total": 3}
    out = _by_file(decide([_cand("a.html", CELLS, "html"), _cand("b.txt", other)]))
    for me, them in (("a.html", "b.txt"), ("b.txt", "a.html")):
        o = out[me]
        assert o.status == "quarantined"
        assert o.detail.split("; ")[0].split(",")[0] == CONFLICT_RULE
        assert them in o.detail and "different cells" in o.detail
    s = summary(list(out.values()))
    assert s["quarantined"] == {"a.html": [CONFLICT_RULE], "b.txt": [CONFLICT_RULE]}
    assert s["counts"]["loaded"] == 0 and s["counts"]["duplicate"] == 0


def test_conflict_keeps_each_reports_own_rules_and_copies_stay_duplicates():
    other = {**CELLS, "t4.review.total": 2}
    out = _by_file(
        decide(
            [
                _cand("a.html", CELLS, "html"),
                _cand("a.txt", CELLS),  # a copy of a.html
                _cand("b.pdf", other, "pdf", rules=("t3.row_sum",)),
            ]
        )
    )
    assert out["a.html"].status == out["b.pdf"].status == "quarantined"
    assert out["a.txt"].status == "duplicate" and "a.html" in out["a.txt"].detail
    assert summary(list(out.values()))["quarantined"]["b.pdf"] == [CONFLICT_RULE, "t3.row_sum"]
    assert "a.txt" not in out["b.pdf"].detail  # it names the competing report, not its copies


def test_a_cell_one_report_leaves_undetermined_is_no_difference():
    """A glued dump leaves 表二 cells null where its page prints them: the same report, not a conflict."""
    dump = {**CELLS, "t2.regulation.issued": None}
    assert same_cells(cells_fingerprint(CELLS), cells_fingerprint(dump))
    assert not same_cells(cells_fingerprint(CELLS), cells_fingerprint({**CELLS, "t2.regulation.issued": 4}))
    assert not same_cells(cells_fingerprint(CELLS), cells_fingerprint({**CELLS, "t3.granted.total": 0}))
    out = _by_file(decide([_cand("page.html", CELLS, "html"), _cand("dump.page.txt", dump)]))
    assert (out["page.html"].status, out["dump.page.txt"].status) == ("loaded", "duplicate")


def test_unknown_fingerprint_competes_as_before():
    """Candidates built without cells (the validate stage's kept-report mask) dedupe as they always did."""
    out = _by_file(decide([_cand("a.html", None, "html"), _cand("b.txt", {**CELLS, "t3.granted.total": 9})]))
    assert (out["a.html"].status, out["b.txt"].status) == ("loaded", "duplicate")


def test_page_and_attachment_with_the_same_cells_are_one_report():
    out = _by_file(
        decide(
            [_cand("p.html", CELLS, "html", issuer="X"), _cand("a.pdf", CELLS, "pdf", issuer=None)],
            pages={"a.pdf": "p.html"},
        )
    )
    assert out["p.html"].status == "loaded"
    assert out["a.pdf"].status == "duplicate" and "a report page and its attachment" in out["a.pdf"].detail


def test_fingerprint_is_small_and_stable():
    fp = cells_fingerprint(CELLS)
    assert fp == cells_fingerprint(dict(reversed(CELLS.items())))
    assert fp == cells_fingerprint({k: float(v) for k, v in CELLS.items()})  # 3 and 3.0 print the same
    assert len(fp) < 100


@pytest.mark.skipif(not REAL.is_dir(), reason="no labelled corpus")
def test_real_pair_text_dump_and_html_page_is_one_report():
    """平潭 2022 as its crawler text dump (表二 digits glued: null) and as its HTML page: the same cells."""
    dump = parse_file(REAL / "fj-pingtan-2022.page.txt")
    page = parse_file(REAL / "fj-pingtan-2022.page.html")
    assert dump.cells != page.cells  # the dump leaves cells null
    assert same_cells(Candidate.fingerprint(dump.cells), Candidate.fingerprint(page.cells))


def test_run_quarantines_both_reports_of_a_conflicting_issuer_year(tmp_path: Path):
    """Two files read as one issuer-year whose tables differ: neither is dropped as a duplicate, both are
    quarantined naming each other, the ledger accounts for both and the warehouse audit holds."""
    from etl.pipeline import run

    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(SEED, landing / "a.txt")
    text = SEED.read_text(encoding="utf-8")
    # the same heading, another table (one count changed: the report may break a rule, it is still another table)
    changed = text.replace("本年新收政府信息公开申请数量 | 44 |", "本年新收政府信息公开申请数量 | 45 |", 1)
    assert changed != text
    (landing / "b.txt").write_text(changed, encoding="utf-8")
    result = run(landing=str(landing), workdir=str(tmp_path / "work"))
    q = result["quarantined"]
    assert set(q) == {"a.txt", "b.txt"} and all(CONFLICT_RULE in rules for rules in q.values())
    assert result["duplicates"] == [] and result["loaded"] == []
    outcome = json.loads(
        next((tmp_path / "work" / "runs").glob("*/outcome.json")).read_text(encoding="utf-8")
    )
    details = {o["source_file"]: o["detail"] for o in outcome["outcomes"]}
    assert "b.txt" in details["a.txt"] and "a.txt" in details["b.txt"]
