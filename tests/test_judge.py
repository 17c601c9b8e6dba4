"""`make accuracy` on unlabelled reports: per file outcome, rules or reason, identity cells passing, totals."""

from __future__ import annotations

import re
import shutil

from etl import accuracy, judge
from tests.conftest import labelled_reports, load_label


def _table(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] not in ("file", "---") and not cells[0].startswith("**"):
            rows[cells[0]] = cells
    return rows


def test_unlabelled_real_reports_are_judged(shared_corpus, tmp_path, capsys):
    reports = labelled_reports()
    for report in reports:  # copies without their labels: a batch nobody has labelled yet
        shutil.copyfile(report, tmp_path / report.name)
    (tmp_path / "notes.txt").write_text("会议纪要：本周工作安排。\n", encoding="utf-8")
    assert judge.unlabelled(tmp_path) == sorted(tmp_path.iterdir())
    assert accuracy.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = _table(out)
    assert set(rows) == {r.name for r in reports} | {"notes.txt"}
    assert rows["notes.txt"][1:3] == ["rejected", "not a government information-disclosure annual report"]
    for report in reports:
        label = load_label(report)
        file, status, detail, share = rows[report.name][:4]
        if status == "duplicate":
            assert detail.startswith("same issuer-year as")
            continue
        assert rows[report.name][5] == str(label["year"]) and rows[report.name][4] == label["format"]
        passing, total = map(int, share.split("/"))
        # a report whose printed tables break an identity (labelled source errors) is quarantined under
        # those rules, unless the break is a blank total the pipeline derives; every other cell passes
        if status == "quarantined":
            assert label.get("source_errors"), file
            assert all(re.match(r"^t[34]\.(col_|row_|block_)", r) for r in detail.split(","))
            assert passing < total
        else:
            assert status == "loaded" and detail == "–" and passing == total, file
    total = next(line for line in out.splitlines() if line.startswith("| **total**"))
    n = len(reports) + 1
    assert f"{n} files" in total and "1 rejected" in total
    assert re.search(r"\| \d+/\d+ \(\d+\.\d%\) \|", total)


def test_identity_share_counts_cells_in_broken_or_unread_identities():
    from etl.spec import codes

    cells = dict.fromkeys(codes("2021"), 0)
    ok, n = judge.identity_share("2021", cells)
    assert ok == n and n == sum(c.startswith(("t3.", "t4.")) for c in cells)
    cells["t4.review.upheld"] = 3  # breaks 表四 review: its five cells fail
    assert judge.identity_share("2021", cells)[0] == n - 5
    cells["t4.review.upheld"] = None  # unread: the block's identity cannot pass either
    assert judge.identity_share("2021", cells)[0] == n - 5
