"""Transform: blank totals derived from printed parts (never the other way), reviewed corrections."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import spec
from etl.corrections import CorrectionsError, load_corrections
from etl.model import Metadata, ParsedReport, SourceFile
from etl.transform import cell_columns, derive_blank_totals, report_id

APPLICANTS = [c for c in spec.APPLICANT_COLUMNS if c != "total"]


def _zeros(template: str = "2021") -> dict[str, float | None]:
    return dict.fromkeys(spec.codes(template), 0.0)


def test_blank_row_total_is_derived_from_printed_parts():
    values = _zeros()
    values["t3.granted.natural_person"], values["t3.granted.commercial_enterprise"] = 258.0, 12.0
    blank = {"t3.granted.total", "t3.granted.research_institution"}
    derived = derive_blank_totals("2021", values, blank)
    assert values["t3.granted.total"] == 270
    assert "t3.granted.total" in derived
    assert "t3.granted.research_institution" not in derived  # a blank part is never invented


def test_total_with_all_parts_blank_stays_as_printed():
    values = _zeros()
    blank = {f"t3.granted.{c}" for c in spec.APPLICANT_COLUMNS}
    assert derive_blank_totals("2021", values, blank) == set()


def test_total_with_unknown_part_is_not_derived():
    values = _zeros()
    values["t3.granted.natural_person"] = None
    values["t3.granted.commercial_enterprise"] = 3.0
    assert derive_blank_totals("2021", values, {"t3.granted.total"}) == set()
    assert values["t3.granted.total"] == 0


def test_printed_total_is_never_overwritten():
    values = _zeros()
    values["t3.granted.natural_person"] = 5.0  # total printed 0: a rule break for validation to catch
    assert derive_blank_totals("2021", values, set()) == set()
    assert values["t3.granted.total"] == 0


def test_table4_and_seventh_row_derivation():
    values = _zeros("2019")
    values["t4.review.upheld"], values["t4.review.pending"] = 5.0, 2.0
    values["t3.granted.natural_person"] = values["t3.granted.total"] = 4.0
    values["t3.total.natural_person"] = 4.0
    blank = {"t4.review.total", "t3.total.total"}
    derived = derive_blank_totals("2019", values, blank)
    assert values["t4.review.total"] == 7 and values["t3.total.total"] == 4
    assert derived == blank


def _report(cells: dict, blank: list[str]) -> tuple[SourceFile, ParsedReport]:
    src = SourceFile("a.txt", "ab" * 32, 10, "text")
    rep = ParsedReport("2021", "text", Metadata(issuer="x", year=2021), cells, blank_cells=blank)
    return src, rep


def test_corrections_keep_the_printed_value(tmp_path: Path):
    cells = {c: 0 for c in spec.codes("2021")}
    cells["t4.review.upheld"] = 10
    src, rep = _report(cells, [])
    rid = report_id(src.sha256)
    csv = tmp_path / "c.csv"
    csv.write_text(
        "report_id,cell,corrected_value,reviewer,reason,date\n"
        f"{rid},t4.review.total,10,王审核,narrative says 行政复议10件,2026-11-27\n",
        encoding="utf-8",
    )
    corr = load_corrections(csv)[rid]
    cols = cell_columns(src, rep, corr)
    i = cols["code"].index("t4.review.total")
    assert cols["value"][i] == 10 and cols["printed_value"][i] == 0
    assert "王审核" in cols["correction"][i]
    assert not cols["derived"][i]


@pytest.mark.parametrize(
    "row",
    [
        "x,t9.bogus,1,a,b,2026-01-01",
        "x,t4.review.total,ten,a,b,2026-01-01",
        "x,t4.review.total,1,,b,2026-01-01",
        "x,t4.review.total,1,a,b,yesterday",
    ],
)
def test_malformed_corrections_fail_loudly(tmp_path: Path, row: str):
    csv = tmp_path / "c.csv"
    csv.write_text("report_id,cell,corrected_value,reviewer,reason,date\n" + row + "\n", encoding="utf-8")
    with pytest.raises(CorrectionsError):
        load_corrections(csv)


def test_missing_corrections_file_means_none(tmp_path: Path):
    assert load_corrections(tmp_path / "nope.csv") == {}
