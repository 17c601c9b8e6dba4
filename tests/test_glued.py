"""Crawler text dumps whose table cells are glued together ("规范性文件898989") -> etl.parse.glued."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import spec
from etl.model import RejectedInput
from etl.parse.glued import looks_glued, read_glued
from etl.parse.rows import normalize

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real"
PINGTAN = [REAL / f"fj-pingtan-{year}.page.txt" for year in (2019, 2020, 2021, 2022)]
T4_CODES = [f"t4.{b}.{c}" for b in spec.T4_BLOCKS for c in spec.T4_COLUMNS]


def _dump(path: Path) -> str:
    if not path.exists():
        pytest.skip(f"shared corpus not found at {path}")
    return normalize(path.read_text(encoding="utf-8"))


def _label(path: Path) -> dict:
    return json.loads(path.with_name(path.name.split(".")[0] + ".expected.json").read_text(encoding="utf-8"))


# -- the labelled dumps -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PINGTAN, ids=[p.name for p in PINGTAN])
def test_pingtan_dump_reads_exactly(path):
    text, label = _dump(path), _label(path)
    assert looks_glued(text)
    got = read_glued(text, year=label["year"])
    assert got.template == label["format"]
    unresolvable = set(label["unresolvable_cells"])
    want = {c: (None if c in unresolvable else v) for c, v in label["cells"].items()}
    assert {c: (got.cells[c], v) for c, v in want.items() if got.cells[c] != v} == {}
    assert set(got.cells) == set(want)
    assert sorted(got.blank_cells) == sorted(label["blank_cells"])
    for code, unit in label.get("units", {}).items():
        assert got.units[code] == unit
    for code in unresolvable:
        assert code in got.unresolved


@pytest.mark.parametrize("path", PINGTAN, ids=[p.name for p in PINGTAN])
def test_pingtan_dump_is_fast(path):
    text = _dump(path)
    best = min(_timed(text) for _ in range(3))
    assert best < 0.05


def _timed(text: str) -> float:
    t0 = time.perf_counter()
    read_glued(text)
    return time.perf_counter() - t0


def test_source_error_leaves_outcome_identity_broken_but_reads_printed_rows():
    """fj-pingtan-2020: outcome rows add to 26, （七）总计 prints 20; every row is unique on its own."""
    got = read_glued(_dump(PINGTAN[1]), year=2020)
    assert got.cells["t3.total.natural_person"] == 20
    outcomes = spec.t3_outcome_rows("2019")
    assert sum(got.cells[f"t3.{r}.natural_person"] for r in outcomes) == 26


# -- synthetic glued reports ---------------------------------------------------------------------------------

_T3_HEAD = "三、收到和处理政府信息公开申请情况申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他"
_T4_HEAD = (
    "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计"
    "未经复议直接起诉复议后起诉结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计"
)
_T2_HEAD = {
    "2021": "二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数",
    "2019": "二、主动公开政府信息情况第二十条第（一）项信息内容本年新制作数量本年新公开数量对外公开总数量",
}
ZERO = "0000000"


def _row_labels(template: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in spec.cells(template):
        if c.table == "三":
            out.setdefault(c.row, c.row_label)
    return out


def _report(
    t3: dict[str, str], template: str = "2021", t2: str = "规章000", t4: str = "000000000000000", labels=None
) -> str:
    """A glued dump: the template's row labels each followed by its digits (rows not given are all zero;
    rows labelled None are not printed)."""
    labels = labels or _row_labels(template)
    rows = "".join(labels[r] + t3.get(r, ZERO) for r in spec.t3_rows(template) if labels[r] is not None)
    return normalize(f"{_T2_HEAD[template]}{t2}{_T3_HEAD}{rows}{_T4_HEAD}{t4}五、存在的主要问题及改进情况")


def _t3(got, row: str) -> tuple:
    return tuple(got.cells[f"t3.{row}.{c}"] for c in spec.APPLICANT_COLUMNS)


AMBIGUOUS = "110001012"  # (1,1,0,0,0,10,12), (1,10,0,0,1,0,12), (11,0,0,0,1,0,12): all fit 总计
SPACED = "1 1 0 0 0 10 12"  # the same values with the cell borders printed


def test_row_unique_on_its_own_is_read():
    got = read_glued(
        _report({"new_received": "23 0 00 0 023", "granted": "230 000023", "total": "2300000 23"})
    )
    assert _t3(got, "new_received") == (23, 0, 0, 0, 0, 0, 23)
    assert _t3(got, "granted") == (23, 0, 0, 0, 0, 0, 23)
    assert _t3(got, "total") == (23, 0, 0, 0, 0, 0, 23)
    assert got.provenance["t3.granted.natural_person"] == "segmented: 230 000023"


def test_ambiguous_row_decided_by_column_identities():
    got = read_glued(_report({"new_received": SPACED, "granted": AMBIGUOUS, "total": SPACED}))
    assert _t3(got, "granted") == (1, 1, 0, 0, 0, 10, 12)
    assert "column identities" in got.provenance["t3.granted.total"]
    assert not any(c.startswith("t3.") for c in got.unresolved)


def test_ambiguous_rows_left_unresolved_when_identities_allow_several():
    got = read_glued(_report({"new_received": AMBIGUOUS, "granted": AMBIGUOUS, "total": AMBIGUOUS}))
    for row in ("new_received", "granted", "total"):
        assert _t3(got, row) == (None,) * 7
        assert AMBIGUOUS in got.unresolved[f"t3.{row}.natural_person"]
    assert _t3(got, "carried_over") == (0,) * 7


def test_broken_identity_reads_unique_rows_and_leaves_the_ambiguous_one():
    # 部分公开 adds a 1 the totals do not have: no reading of 予以公开 can make the columns add up
    got = read_glued(
        _report(
            {"new_received": SPACED, "granted": AMBIGUOUS, "partially_granted": "1000001", "total": SPACED}
        )
    )
    assert _t3(got, "partially_granted") == (1, 0, 0, 0, 0, 0, 1)
    assert _t3(got, "total") == (1, 1, 0, 0, 0, 10, 12)
    assert _t3(got, "granted") == (None,) * 7
    assert AMBIGUOUS in got.unresolved["t3.granted.total"]
    assert any("source error" in n for n in got.notes)


def test_row_printed_against_its_own_identity_is_kept_as_printed():
    got = read_glued(_report({"granted": "5000006"}))  # 7 digits, 7 cells: one way to read it
    assert _t3(got, "granted") == (5, 0, 0, 0, 0, 0, 6)


def test_unrecognised_label_placed_by_row_order():
    labels = _row_labels("2021") | {"denied_state_secret": "(三)不予公开 1.属于国家级密件"}
    got = read_glued(
        _report(
            {"denied_state_secret": "1000001", "total": "1000001", "new_received": "1000001"}, labels=labels
        )
    )
    assert _t3(got, "denied_state_secret") == (1, 0, 0, 0, 0, 0, 1)
    assert any("placed by row order" in n for n in got.notes)


def test_2021_report_printing_the_old_single_other_row():
    # one （六）其他处理 row in the place of the three sub-rows: all zero, so are they
    labels = _row_labels("2021") | {
        "other_no_correction": "(六)其他处理",
        "other_no_fee": None,
        "other_other": None,
    }
    got = read_glued(_report({}, labels=labels))
    assert all(
        got.cells[f"t3.{r}.{c}"] == 0 for r in ("other_no_fee", "other_other") for c in spec.APPLICANT_COLUMNS
    )
    assert "single" in got.provenance["t3.other_other.total"]


def test_text_keeping_cell_borders_is_not_split():
    """Values on their own lines with empty cells dropped: which cells are empty is unknown, nothing is split."""
    got = read_glued(_report({"granted": "\n258\n12\n1\n1\n"}))
    assert _t3(got, "granted") == (None,) * 7
    got = read_glued(_report({"granted": "\n3\n0\n0\n0\n0\n0\n3\n"}))
    assert _t3(got, "granted") == (3, 0, 0, 0, 0, 0, 3)


def test_blank_marks_are_blank_cells():
    got = read_glued(_report({"granted": "3/////3"}))
    assert _t3(got, "granted") == (3, 0, 0, 0, 0, 0, 3)
    assert "t3.granted.commercial_enterprise" in got.blank_cells


def test_t2_glued_rows_2021():
    t2 = (
        "规章 000行政规范性文件693665第二十条第（五）项信息内容本年处理决定数量行政许可2293 "
        "第二十条第（六）项信息内容 本年处理决定数量行政处罚1282行政强制42"
        "第二十条第（八）项信息内容 本年收费金额（单位：万元）行政事业性收费24252.311082"
    )
    got = read_glued(_report({}, t2=t2))
    assert [got.cells[f"t2.regulation.{c}"] for c in ("issued", "repealed", "in_force")] == [0, 0, 0]
    for col in ("issued", "repealed", "in_force"):
        assert got.cells[f"t2.normative_document.{col}"] is None
        assert "693665" in got.unresolved[f"t2.normative_document.{col}"]
    assert got.cells["t2.licensing.decisions"] == 2293
    assert got.cells["t2.penalty.decisions"] == 1282
    assert got.cells["t2.coercion.decisions"] == 42
    assert got.cells["t2.fees.amount"] == 24252.311082
    assert got.units["t2.fees.amount"] == "万元"


def test_t2_glued_row_is_unresolved_whole():
    # "0643" is 0/6/43 or 0/64/3: ambiguous, so the whole row is left to a reader of the original page,
    # as the real labels do (fj-pingtan-2020 "2648-18538": no cell of the row is read)
    t2 = "规章 000行政规范性文件0643第二十条第（五）项信息内容本年处理决定数量行政许可2293 "
    got = read_glued(_report({}, t2=t2))
    for col in ("issued", "repealed", "in_force"):
        assert got.cells[f"t2.normative_document.{col}"] is None
        assert "0643" in got.unresolved[f"t2.normative_document.{col}"]


def test_t2_glued_rows_2019_signs_and_units():
    t2 = (
        "规章007规范性文件7777166第二十条第（五）项信息内容上一年项目数量本年增/减处理决定数量行政许可396442278"
        "其他对外管理服务事项107105第二十条第（六）项信息内容上一年项目数量本年增/减处理决定数量"
        "行政处罚2648-18538行政强制1262629第二十条第（八）项信息内容上一年项目数量本年增/减行政事业性收费35-15"
        "第二十条第（九）项信息内容采购项目数量采购总金额政府集中采购39573802895.90元"
    )
    got = read_glued(_report({}, template="2019", t2=t2))
    assert [got.cells[f"t2.regulation.{c}"] for c in ("produced", "published", "published_total")] == [
        0,
        0,
        7,
    ]
    assert (got.cells["t2.fees.items_last_year"], got.cells["t2.fees.items_change"]) == (35, -15)
    for row in (
        "normative_document",
        "licensing",
        "other_management_service",
        "penalty",
        "coercion",
        "procurement",
    ):
        codes = [c for c in got.cells if c.startswith(f"t2.{row}.")]
        assert all(got.cells[c] is None for c in codes), row
    assert got.units["t2.procurement.amount"] == "元"


def test_t2_dash_that_may_be_a_blank_or_a_minus_sign_is_undecided():
    # "50-2" splits one way if '-' is a blank mark (50 / - / 2), but it may be the sign of a count printed
    # negative (5 / 0 / -2, a source error): the row is undecided, not read as 50 / 0 / 2.
    t2 = (
        "规章007规范性文件000第二十条第（五）项信息内容上一年项目数量本年增/减处理决定数量行政许可50-2"
        "其他对外管理服务事项1203第二十条第（六）项信息内容"
    )
    got = read_glued(_report({}, template="2019", t2=t2))
    for col in ("items_last_year", "items_change", "decisions"):
        assert got.cells[f"t2.licensing.{col}"] is None
        assert "minus sign" in got.unresolved[f"t2.licensing.{col}"]
    assert got.cells["t2.regulation.published_total"] == 7


def test_t4_glued():
    got = read_glued(_report({}, t4="10203120001200000"))
    assert [got.cells[c] for c in T4_CODES] == [1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0]
    got = read_glued(_report({}, t4="0 1 1 0 2 1 0 0 0 1 0 0 0 0 0 "))
    assert [got.cells[c] for c in T4_CODES] == [0, 1, 1, 0, 2, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]


def test_t4_ambiguous_left_unresolved():
    got = read_glued(_report({}, t4="11001012" + "0" * 10))  # 1/1/0/10/12, 11/0/0/1/12, 1/10/0/1/12
    assert all(got.cells[c] is None for c in T4_CODES)
    assert "11001012" in got.unresolved["t4.review.total"]


def test_looks_glued_only_on_glued_text():
    assert looks_glued(_report({"granted": "270020130"}))
    rows = "\n".join(f"{label} | 0 | 0 | 0 | 0 | 0 | 0 | 0" for label in _row_labels("2021").values())
    assert not looks_glued(normalize(rows))


def test_text_without_t3_is_rejected():
    with pytest.raises(RejectedInput):
        read_glued("政府信息公开工作年度报告 二、主动公开政府信息情况 规章000")


# -- property: a consistent 表三, glued, is read back or left unresolved, never misread ---------------------

_VALUE = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 120), st.integers(100, 2500))


@st.composite
def glued_tables(draw) -> tuple[str, dict[str, tuple[int, ...]], list[int], str]:
    template = draw(st.sampled_from(spec.TEMPLATES))
    outcomes = spec.t3_outcome_rows(template)
    cols = range(len(spec.APPLICANT_COLUMNS) - 1)
    vals = {r: draw(st.lists(_VALUE, min_size=6, max_size=6)) for r in outcomes}
    vals["total"] = [sum(vals[r][c] for r in outcomes) for c in cols]
    vals["carried_forward"] = draw(st.lists(_VALUE, min_size=6, max_size=6))
    vals["carried_over"] = [draw(st.integers(0, vals["total"][c] + vals["carried_forward"][c])) for c in cols]
    vals["new_received"] = [
        vals["total"][c] + vals["carried_forward"][c] - vals["carried_over"][c] for c in cols
    ]
    rows = {r: (*v, sum(v)) for r, v in vals.items()}
    blocks = [draw(st.lists(_VALUE, min_size=4, max_size=4)) for _ in spec.T4_BLOCKS]
    t4 = [x for b in blocks for x in (*b, sum(b))]
    # a space printed at some cell borders (crawler &nbsp; padding), never inside a number
    spaced = draw(st.booleans())

    def glue(values) -> str:
        return "".join(f"{v}{' ' if spaced and draw(st.booleans()) else ''}" for v in values).strip()

    t3 = {r: glue(v) for r, v in rows.items()}
    return _report(t3, template=template, t4=glue(t4)), rows, t4, template


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glued_tables())
def test_glued_tables_are_read_back_or_left_unresolved(case):
    text, rows, t4, template = case
    got = read_glued(text, template=template)
    for row, values in rows.items():
        for col, want in zip(spec.APPLICANT_COLUMNS, values, strict=True):
            code = f"t3.{row}.{col}"
            assert got.cells[code] in (None, want), (code, got.provenance.get(code))
            assert (got.cells[code] is None) == (code in got.unresolved)
    for code, want in zip(T4_CODES, t4, strict=True):
        assert got.cells[code] in (None, want), code
