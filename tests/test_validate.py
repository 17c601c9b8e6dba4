"""The GE validation stage: rule catalogue, committed suites, and failures mapped back to reports."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from etl.spec import (
    APPLICANT_COLUMNS,
    T4_BLOCKS,
    T4_COLUMNS,
    TEMPLATES,
    cells,
    codes,
    t3_outcome_rows,
    t3_rows,
)
from etl.validate import (
    FAILURE_COLUMNS,
    build_suite,
    load_suite,
    rules,
    stated_figures,
    validate_frame,
    validate_reports,
)
from etl.validate.suites import SUITES, suite_json, suite_path, suite_rules

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real"
APPLICANTS = [c for c in APPLICANT_COLUMNS if c != "total"]


def consistent_report(template: str, seed: int) -> dict[str, float]:
    """A report that satisfies every rule, with every count >= 1 so tests can decrement any cell."""
    rnd = random.Random(seed)
    cells: dict[str, float] = {c: float(rnd.randint(1, 300)) for c in codes(template) if c.startswith("t2.")}
    if template == "2021":
        cells["t2.fees.amount"] = 7730.28
        for row in ("regulation", "normative_document"):  # 本年制发 <= 现行有效 + 本年废止
            cells[f"t2.{row}.in_force"] = cells[f"t2.{row}.issued"] + float(rnd.randint(0, 50))
    else:
        cells["t2.procurement.amount"] = 73802895.9
        cells["t2.penalty.items_change"] = -18.0
    outcomes = t3_outcome_rows(template)
    for a in APPLICANTS:
        for row in outcomes:
            cells[f"t3.{row}.{a}"] = float(rnd.randint(1, 4))
        cells[f"t3.total.{a}"] = sum(cells[f"t3.{row}.{a}"] for row in outcomes)
        cells[f"t3.carried_over.{a}"] = float(rnd.randint(1, 3))
        cells[f"t3.carried_forward.{a}"] = float(rnd.randint(1, 3))
        cells[f"t3.new_received.{a}"] = (
            cells[f"t3.total.{a}"] + cells[f"t3.carried_forward.{a}"] - cells[f"t3.carried_over.{a}"]
        )
    for row in t3_rows(template):
        cells[f"t3.{row}.total"] = sum(cells[f"t3.{row}.{a}"] for a in APPLICANTS)
    for block in T4_BLOCKS:
        parts = [f"t4.{block}.{c}" for c in T4_COLUMNS if c != "total"]
        for p in parts:
            cells[p] = float(rnd.randint(1, 5))
        cells[f"t4.{block}.total"] = sum(cells[p] for p in parts)
    assert set(cells) == set(codes(template))
    return cells


def frame(
    template: str, reports: dict[str, dict[str, float]], **report_columns: dict[str, object]
) -> pd.DataFrame:
    """report_id + the cells; report_columns: column -> {report_id: value} (unresolved, narrative, scope, adcode)."""
    rows = [{"report_id": rid, **{c: cells[c] for c in codes(template)}} for rid, cells in reports.items()]
    df = pd.DataFrame(rows).astype({c: "float64" for c in codes(template)})
    extra = {col: [values.get(rid) for rid in df["report_id"]] for col, values in report_columns.items()}
    return pd.concat([df, pd.DataFrame(extra, index=df.index, dtype=object)], axis=1)


def as_json(values: dict[str, dict]) -> dict[str, str]:
    return {rid: json.dumps(v, ensure_ascii=False) for rid, v in values.items()}


def failed(failures: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(failures["report_id"], failures["rule_id"], strict=True))


def row(failures: pd.DataFrame, report_id: str, rule_id: str) -> pd.Series:
    hit = failures[(failures["report_id"] == report_id) & (failures["rule_id"] == rule_id)]
    assert len(hit) == 1, (report_id, rule_id, failures)
    return hit.iloc[0]


# --- the catalogue and the committed suites -------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_rules_cover_the_spec(template: str) -> None:
    rs = rules(template)
    ids = [r.rule_id for r in rs]
    n_rows = len(t3_rows(template))
    families = {"cell.non_negative_integer", "cell.non_negative"} | (
        {"cell.integer"} if template == "2019" else set()
    )
    warnings = {"t2.unresolved", "t2.ocr_low_confidence", "t2.regulation.authority"} | {
        f"narrative.{k}"
        for k in ("received", "new_received", "carried_over", "carried_forward", "review", "litigation")
    }
    if template == "2021":
        warnings |= {
            "t2.fees.amount_unit",
            "t2.issued_vs_in_force.regulation",
            "t2.issued_vs_in_force.normative_document",
        }
    n_blocking = n_rows + 7 + 7 + 3 + len(families) + 1  # + report.complete
    assert len(ids) == len(set(ids)) == n_blocking + len(warnings)
    assert {"t3.row_total.granted", "t3.col_outcomes.natural_person", "t3.col_balance.total"} <= set(ids)
    assert {f"t4.block_total.{b}" for b in T4_BLOCKS} <= set(ids)
    assert {r.rule_id for r in rs if r.severity == "warning"} == warnings
    assert all(set(r.cells) <= set(codes(template)) for r in rs)
    complete = next(r for r in rs if r.rule_id == "report.complete")
    assert complete.cells == codes(template)
    assert complete.tolerated == tuple(c.code for c in cells(template) if c.table == "二")
    cell_rules = {r.rule_id: r.cells for r in rs if r.kind == "cells"}
    assert set(cell_rules) == families
    # every cell in exactly one family
    assert sorted(c for cs in cell_rules.values() for c in cs) == sorted(codes(template))
    amount = "t2.fees.amount" if template == "2021" else "t2.procurement.amount"
    assert cell_rules["cell.non_negative"] == (amount,)
    if template == "2019":
        assert all(c.endswith(".items_change") for c in cell_rules["cell.integer"])
        assert len(cell_rules["cell.integer"]) == 5


@pytest.mark.parametrize("key", SUITES)
def test_committed_suite_equals_generated(key: str) -> None:
    # Regenerate with `python -m etl.validate.suites` after changing the rules.
    generated = build_suite(key)
    assert json.loads(suite_path(key).read_text(encoding="utf-8")) == json.loads(suite_json(generated))
    assert load_suite(key) == generated


def test_suites_check_command_agrees() -> None:
    from etl.validate.suites import main

    assert main(["--check"]) == 0


@pytest.mark.parametrize("key", SUITES)
def test_every_expectation_names_its_rule(key: str) -> None:
    suite = load_suite(key)
    by_rule = {r.rule_id: r for r in suite_rules(key)}
    seen = set()
    for e in suite.expectations:
        rule = by_rule[e.meta["rule_id"]]
        assert e.meta["severity"] == rule.severity
        assert e.severity == {"blocking": "critical", "warning": "warning"}[rule.severity]
        assert e.meta["cells"] == list(rule.cells)
        assert e.description.startswith(f"[{rule.rule_id} · {rule.severity}]")  # shown in Data Docs
        seen.add(rule.rule_id)
    assert seen == set(by_rule)
    if key != "crossyear":
        assert set(suite.meta["pre_step"]["derived_columns"]) >= {
            "neg(t3.total.total)",
            "min(cell.non_negative_integer)",
            "count_missing(report.complete)",
            "regulation_power",
            "gap(narrative.received)",
        }


# --- synthetic reports ---------------------------------------------------------------------------


def break_2021() -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """A 2021 batch: clean reports and one report per broken rule class, with the rules each must fail."""
    reports = {f"r{i}": consistent_report("2021", i) for i in range(12)}
    expected: dict[str, set[str]] = {}

    reports["r1"]["t3.granted.total"] += 3  # row total; the 总计 column's outcome sum follows
    expected["r1"] = {"t3.row_total.granted", "t3.col_outcomes.total"}

    for c in (
        "t3.total.natural_person",
        "t3.total.total",
        "t3.new_received.natural_person",
        "t3.new_received.total",
    ):
        reports["r2"][c] += 1  # rows and balance still hold; only the outcome sums break
    expected["r2"] = {"t3.col_outcomes.natural_person", "t3.col_outcomes.total"}

    reports["r3"]["t3.carried_forward.other_org"] += 2
    reports["r3"]["t3.carried_forward.total"] += 2
    expected["r3"] = {"t3.col_balance.other_org", "t3.col_balance.total"}

    reports["r4"]["t4.litigation_direct.total"] = 0.0
    expected["r4"] = {"t4.block_total.litigation_direct"}

    reports["r5"]["t2.licensing.decisions"] = -3.0
    reports["r5"]["t2.penalty.decisions"] = 2.5
    expected["r5"] = {"cell.non_negative_integer"}

    reports["r6"]["t2.fees.amount"] = -1.5
    expected["r6"] = {"cell.non_negative"}

    reports["r7"]["t2.coercion.decisions"] = -2.5  # breaks both checks of its family: one failure, one cell
    expected["r7"] = {"cell.non_negative_integer"}
    return frame("2021", reports), expected


@pytest.fixture(scope="module")
def broken_2021() -> tuple[pd.DataFrame, dict[str, set[str]], pd.DataFrame]:
    df, expected = break_2021()
    return df, expected, validate_frame(df, "2021")


@pytest.mark.parametrize("template", TEMPLATES)
def test_consistent_reports_pass(template: str) -> None:
    failures = validate_frame(
        frame(template, {f"ok{i}": consistent_report(template, i) for i in range(3)}), template
    )
    assert list(failures.columns) == FAILURE_COLUMNS
    assert failures.empty


def test_each_rule_class_is_caught_on_the_right_report(broken_2021) -> None:
    _, expected, failures = broken_2021
    assert failed(failures) == {(rid, rule) for rid, rules_ in expected.items() for rule in rules_}
    assert list(failures.columns) == FAILURE_COLUMNS
    assert (failures["severity"] == "blocking").all()


def test_sum_failure_reports_expected_and_found(broken_2021) -> None:
    df, _, failures = broken_2021
    r1 = df.set_index("report_id").loc["r1"]
    hit = row(failures, "r1", "t3.row_total.granted")
    assert json.loads(hit["cells"]) == [f"t3.granted.{c}" for c in APPLICANT_COLUMNS]
    assert hit["expected"] == str(int(sum(r1[f"t3.granted.{a}"] for a in APPLICANTS)))
    assert hit["found"] == str(int(r1["t3.granted.total"]))
    assert hit["found"] in hit["message"] and hit["expected"] in hit["message"]

    hit = row(failures, "r3", "t3.col_balance.other_org")
    assert json.loads(hit["cells"]) == [
        "t3.new_received.other_org",
        "t3.carried_over.other_org",
        "t3.total.other_org",
        "t3.carried_forward.other_org",
    ]
    assert int(hit["found"]) - int(hit["expected"]) == 2

    hit = row(failures, "r4", "t4.block_total.litigation_direct")
    assert hit["found"] == "0" and int(hit["expected"]) > 0


def test_cell_failures_name_the_cells(broken_2021) -> None:
    _, _, failures = broken_2021
    hit = row(failures, "r5", "cell.non_negative_integer")
    assert json.loads(hit["cells"]) == ["t2.licensing.decisions", "t2.penalty.decisions"]
    assert hit["found"] == "t2.licensing.decisions=-3; t2.penalty.decisions=2.5"
    assert json.loads(row(failures, "r6", "cell.non_negative")["cells"]) == ["t2.fees.amount"]
    assert json.loads(row(failures, "r7", "cell.non_negative_integer")["cells"]) == ["t2.coercion.decisions"]


def test_nan_cells_are_not_evaluated() -> None:
    ok = consistent_report("2021", 0)
    nan_total = dict(ok, **{"t4.review.total": math.nan, "t4.review.upheld": ok["t4.review.upheld"] + 7})
    nan_part = dict(ok, **{"t3.granted.natural_person": math.nan, "t3.granted.total": 999.0})
    all_nan = {c: math.nan for c in ok}
    failures = validate_frame(frame("2021", {"a": nan_total, "b": nan_part, "c": all_nan}), "2021")
    # Sum and cell rules skip null cells; b: its granted row and natural_person column are unresolved, but
    # the 总计 column still adds up wrong. Null 表三/表四 cells are missing cells: report.complete blocks.
    assert failed(failures) == {
        ("a", "report.complete"),
        ("b", "report.complete"),
        ("b", "t3.col_outcomes.total"),
        ("c", "report.complete"),
    }


def test_2019_negatives_only_in_items_change() -> None:
    ok = consistent_report("2019", 0)
    reports = {
        "neg_change": dict(ok, **{c: -40.0 for c in codes("2019") if c.endswith(".items_change")}),
        "frac_change": dict(ok, **{"t2.fees.items_change": -1.5}),
        "neg_last_year": dict(ok, **{"t2.licensing.items_last_year": -1.0}),
        "neg_amount": dict(ok, **{"t2.procurement.amount": -0.5}),
    }
    failures = validate_frame(frame("2019", reports), "2019")
    assert failed(failures) == {
        ("frac_change", "cell.integer"),
        ("neg_last_year", "cell.non_negative_integer"),
        ("neg_amount", "cell.non_negative"),
    }
    assert json.loads(row(failures, "neg_last_year", "cell.non_negative_integer")["cells"]) == [
        "t2.licensing.items_last_year"
    ]


def test_validate_reports_runs_each_template_once(monkeypatch) -> None:
    import great_expectations as gx

    runs = []
    original = gx.ValidationDefinition.run

    def counting_run(self, **kwargs):
        runs.append(self.suite.name)
        return original(self, **kwargs)

    monkeypatch.setattr(gx.ValidationDefinition, "run", counting_run)
    bad_2019 = dict(consistent_report("2019", 1), **{"t4.review.total": 0.0})
    failures = validate_reports(
        {
            "2021": frame("2021", {"x": consistent_report("2021", 1), "y": consistent_report("2021", 2)}),
            "2019": frame("2019", {"z": bad_2019}),
        }
    )
    assert sorted(runs) == ["annual_report_2019", "annual_report_2021"]
    assert failed(failures) == {("z", "t4.block_total.review")}


def test_bad_input_is_rejected() -> None:
    df = frame("2021", {"a": consistent_report("2021", 0)})
    with pytest.raises(ValueError, match="missing columns"):
        validate_frame(df.drop(columns=["t4.review.total"]), "2021")
    with pytest.raises(ValueError, match="unique"):
        validate_frame(pd.concat([df, df]), "2021")
    assert validate_frame(df.iloc[:0], "2021").empty


def test_expectation_errors_are_not_passes(monkeypatch) -> None:
    from etl.validate import run

    derive = run.derive_columns

    def drop_a_derived_column(df: pd.DataFrame, meta: dict) -> pd.DataFrame:
        return derive(df, meta).drop(columns=["neg(t4.review.total)"])

    monkeypatch.setattr(run, "derive_columns", drop_a_derived_column)
    with pytest.raises(RuntimeError, match=r"t4\.block_total\.review.*does not exist"):
        validate_frame(frame("2021", {"a": consistent_report("2021", 0)}), "2021")


# --- the real corpus -----------------------------------------------------------------------------


def real_frame(
    stems: list[str], narrative: dict[str, dict[str, int]] | None = None
) -> tuple[str, pd.DataFrame]:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} not present")
    labels = {s: json.loads((REAL / f"{s}.expected.json").read_text(encoding="utf-8")) for s in stems}
    (template,) = {label["format"] for label in labels.values()}
    reports, unresolved = {}, {}
    for stem, label in labels.items():
        cells = {c: float(label["cells"][c]) for c in codes(template)}
        # The parser must return null for cells the source text does not determine (glued digits).
        lost = label.get("unresolvable_cells") or []
        cells.update({c: math.nan for c in lost})
        reports[stem] = cells
        unresolved[stem] = {c: "glued digits: cell boundaries lost" for c in lost}
    columns = {
        "unresolved": as_json(unresolved),
        "scope": {s: label.get("scope") for s, label in labels.items()},
        "adcode": {s: label.get("adcode") for s, label in labels.items()},
    }
    if narrative is not None:
        columns["narrative"] = as_json(narrative)
    return template, frame(template, reports, **columns)


def test_real_reports_2021() -> None:
    clean = ["suichang-2021", "fj-pingtan-2021", "js-huaian-city-2024"]
    template, df = real_frame(["js-huaian-hongze-2023", *clean])
    failures = validate_frame(df, template)
    assert failed(failures) == {
        ("js-huaian-hongze-2023", "t4.block_total.review"),
        ("js-huaian-hongze-2023", "t4.block_total.litigation_after_review"),
        ("fj-pingtan-2021", "t2.unresolved"),  # glued 行政规范性文件 digits: loads with those cells null
    }
    hit = row(failures, "fj-pingtan-2021", "t2.unresolved")
    assert hit["severity"] == "warning"
    assert json.loads(hit["cells"]) == [
        f"t2.normative_document.{c}" for c in ("issued", "repealed", "in_force")
    ]
    hit = row(failures, "js-huaian-hongze-2023", "t4.block_total.review")
    assert (hit["expected"], hit["found"]) == ("11", "0")
    hit = row(failures, "js-huaian-hongze-2023", "t4.block_total.litigation_after_review")
    assert (hit["expected"], hit["found"]) == ("5", "0")


def test_real_report_2019_outcome_sums() -> None:
    template, df = real_frame(["fj-pingtan-2020"])
    failures = validate_frame(df, template)
    # source_errors: 自然人 outcomes 26 vs （七）总计 20; 总计 column 27 vs 21. The negative 本年增/减
    # (-18, -15) and the 元 amount with decimals are fine.
    assert failed(failures) == {
        ("fj-pingtan-2020", "t3.col_outcomes.natural_person"),
        ("fj-pingtan-2020", "t3.col_outcomes.total"),
        ("fj-pingtan-2020", "t2.unresolved"),
    }
    hit = row(failures, "fj-pingtan-2020", "t3.col_outcomes.natural_person")
    assert (hit["expected"], hit["found"]) == ("26", "20")
    hit = row(failures, "fj-pingtan-2020", "t3.col_outcomes.total")
    assert (hit["expected"], hit["found"]) == ("27", "21")


# --- presence: missing cells block, 表二 cells unresolved on purpose warn ------------------------------------


def test_missing_cells_block_and_unresolved_t2_cells_warn() -> None:
    ok = consistent_report("2021", 3)
    t4 = [c for c in codes("2021") if c.startswith("t4.")]
    glued = [f"t2.normative_document.{c}" for c in ("issued", "repealed", "in_force")]
    other_rows = [f"t3.other_no_fee.{c}" for c in APPLICANT_COLUMNS]
    reports = {
        "ok": ok,
        "no_t4": dict(ok, **dict.fromkeys(t4, math.nan)),  # 表四 not found at all
        "glued_t2": dict(ok, **dict.fromkeys(glued, math.nan)),  # 表二 digits glued: left null on purpose
        "t2_not_found": dict(ok, **{"t2.fees.amount": math.nan}),
        "no_reason": dict(ok, **{"t2.licensing.decisions": math.nan}),
        "t3_on_purpose": dict(ok, **dict.fromkeys(other_rows, math.nan)),
    }
    unresolved = {
        "no_t4": dict.fromkeys(t4, "not found in the tables"),
        "glued_t2": dict.fromkeys(glued, "segmented: 693665 has 3 readings"),
        "t2_not_found": {"t2.fees.amount": "not found in the glued text"},
        "t3_on_purpose": dict.fromkeys(other_rows, "old single （六）其他处理 row cannot be split"),
    }
    failures = validate_frame(frame("2021", reports, unresolved=as_json(unresolved)), "2021")
    assert failed(failures) == {
        ("no_t4", "report.complete"),
        ("glued_t2", "t2.unresolved"),
        ("t2_not_found", "report.complete"),
        ("no_reason", "report.complete"),
        # only 表二 may be null: a 表三 row the parser could not split leaves the report incomplete
        ("t3_on_purpose", "report.complete"),
    }
    hit = row(failures, "no_t4", "report.complete")
    assert hit["severity"] == "blocking" and json.loads(hit["cells"]) == t4
    assert hit["found"].startswith("15 null: t4.review.upheld (not found in the tables)")
    hit = row(failures, "glued_t2", "t2.unresolved")
    assert hit["severity"] == "warning" and json.loads(hit["cells"]) == glued
    assert "segmented: 693665 has 3 readings" in hit["message"]
    assert "no reason given" in row(failures, "no_reason", "report.complete")["found"]


# --- 表二 sanity ---------------------------------------------------------------------------------------------


def test_fee_amount_that_looks_like_yuan_warns() -> None:
    ok = consistent_report("2021", 4)
    reports = {
        "yuan": dict(ok, **{"t2.fees.amount": 242523110.82}),  # 24252.311082 万元 typed in 元
        "wan": dict(ok, **{"t2.fees.amount": 24252.311082}),
        "edge": dict(ok, **{"t2.fees.amount": 1e6}),
    }
    failures = validate_frame(frame("2021", reports), "2021")
    assert failed(failures) == {("yuan", "t2.fees.amount_unit")}
    hit = row(failures, "yuan", "t2.fees.amount_unit")
    assert hit["severity"] == "warning" and hit["found"] == "t2.fees.amount=242523110.82"


def test_issued_above_in_force_plus_repealed_warns() -> None:
    ok = consistent_report("2021", 5)
    bad = dict(
        ok,
        **{
            "t2.normative_document.issued": 69.0,
            "t2.normative_document.repealed": 3.0,
            "t2.normative_document.in_force": 60.0,
        },
    )
    tight = dict(
        ok, **{"t2.regulation.issued": 5.0, "t2.regulation.repealed": 2.0, "t2.regulation.in_force": 3.0}
    )
    failures = validate_frame(frame("2021", {"bad": bad, "tight": tight, "ok": ok}), "2021")
    assert failed(failures) == {("bad", "t2.issued_vs_in_force.normative_document")}
    hit = row(failures, "bad", "t2.issued_vs_in_force.normative_document")
    assert (hit["expected"], hit["found"], hit["severity"]) == ("63", "69", "warning")


def test_regulations_made_by_an_issuer_without_the_power_warn() -> None:
    makes = dict(consistent_report("2021", 6), **{"t2.regulation.issued": 2.0, "t2.regulation.in_force": 9.0})
    issuers = {
        "department": ("agency", "330000"),  # 浙江省 某厅: an agency
        "county": ("government", "331123"),  # 遂昌县人民政府
        "prefecture_office": ("government", "652900"),  # 阿克苏地区行政公署
        "province": ("government", "330000"),
        "city": ("region", "320800"),  # 淮安市: 设区的市
        "no_scope": (None, "331123"),
        "no_adcode": ("government", None),
        "unknown_code": ("government", "999999"),
    }
    reports = {rid: makes for rid in issuers}
    reports["county_none_made"] = consistent_report("2021", 7) | {"t2.regulation.issued": 0.0}
    issuers["county_none_made"] = ("government", "331123")
    df = frame(
        "2021",
        reports,
        scope={k: v[0] for k, v in issuers.items()},
        adcode={k: v[1] for k, v in issuers.items()},
    )
    failures = validate_frame(df, "2021")
    assert failed(failures) == {
        (rid, "t2.regulation.authority") for rid in ("department", "county", "prefecture_office")
    }
    hit = row(failures, "department", "t2.regulation.authority")
    assert hit["severity"] == "warning" and hit["found"] == "t2.regulation.issued=2"
    assert "scope=agency, adcode=330000" in hit["message"]


def test_real_agency_reporting_regulations_warns() -> None:
    # 上海市人民政府办公厅 (scope agency) reports 13 规章 made in 2019: the municipal government's.
    template, df = real_frame(["sh-shanghai-govoffice-2019"])
    hit = row(validate_frame(df, template), "sh-shanghai-govoffice-2019", "t2.regulation.authority")
    assert (hit["severity"], hit["found"]) == ("warning", "t2.regulation.produced=13")


# --- narrative figures ---------------------------------------------------------------------------------------


def test_stated_figures_takes_only_clear_patterns() -> None:
    assert stated_figures(
        "2022年，全区收到政府信息公开申请75件，涉及自然人72件。全县共办理行政复议案件120件、行政诉讼案件31件。"
    ) == {"received": 75}  # the 复议/诉讼 sentence is the government's whole caseload, not about 信息公开
    assert stated_figures(
        "本年新收政府信息公开申请 1,203 件，上年结转申请 3 件，结转下年度继续办理 4 件。"
        "政府信息公开行政复议 2 件、行政诉讼 1 件。"
    ) == {"new_received": 1203, "carried_over": 3, "carried_forward": 4, "review": 2, "litigation": 1}
    assert stated_figures("本年度全区共收到70件申请,及时依法依规办结69件,1件结转下年度继续办理") == {
        "received": 70,
        "carried_forward": 1,
    }
    # never a guess: last year's figure, a part, a joint count, a number without 件, disagreeing mentions
    assert stated_figures("上年受理政府信息公开申请60件。其中网络申请16件。") == {}
    assert stated_figures("因政府信息公开被申请行政复议、提起行政诉讼案件共5件。") == {}
    assert stated_figures("涉政府信息公开行政复议案件3,行政诉讼1宗。") == {}
    assert stated_figures("共收到政府信息公开申请75件。全年受理政府信息公开申请80件。") == {}


def _narrative_text(path: Path) -> str:
    if path.suffix == ".html":
        import lxml.html

        return lxml.html.fromstring(path.read_bytes()).text_content()
    return path.read_text(encoding="utf-8")


REAL_NARRATIVES = {
    "fj-pingtan-2020": ("fj-pingtan-2020.page.txt", {"received": 21}),
    "fj-pingtan-2021": ("fj-pingtan-2021.page.txt", {"received": 70, "carried_forward": 1}),
    # 收到…申请75件 = 一 74 + 二 1: the 'received' reading that includes last year's carry-over
    "fj-pingtan-2022": ("fj-pingtan-2022.page.html", {"received": 75, "review": 2, "litigation": 1}),
    "sh-shanghai-govoffice-2019": (
        "sh-shanghai-govoffice-2019.html",
        {"received": 859, "carried_over": 18, "review": 7},
    ),
    "suichang-2021": ("suichang-2021.txt", {"received": 44}),
    "sh-stcsm-kewei-2024": ("sh-stcsm-kewei-2024.md", {"received": 34, "carried_over": 2}),
}


@pytest.mark.parametrize("stem", sorted(REAL_NARRATIVES))
def test_real_narratives_agree_with_their_tables(stem: str) -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} not present")
    source, expected = REAL_NARRATIVES[stem]
    figures = stated_figures(_narrative_text(REAL / source))
    assert figures == expected
    template, df = real_frame([stem], narrative={stem: figures})
    assert not [r for r in validate_frame(df, template)["rule_id"] if r.startswith("narrative.")]


def test_narrative_figures_that_differ_from_the_tables_warn() -> None:
    ok = consistent_report("2021", 8)
    new, carried = ok["t3.new_received.total"], ok["t3.carried_over.total"]
    lit = ok["t4.litigation_direct.total"] + ok["t4.litigation_after_review.total"]
    consistent = {
        "received": new + carried,
        "new_received": new,
        "carried_over": carried,
        "carried_forward": ok["t3.carried_forward.total"],
        "review": ok["t4.review.total"],
        "litigation": lit,
    }
    off = {
        "received": new + carried + 5,
        "new_received": new + 1,
        "review": ok["t4.review.total"] + 2,
        "litigation": 0,
        "carried_over": carried,
    }
    reports = {"consistent": ok, "received_is_new": ok, "off": ok, "silent": ok}
    narrative = as_json({"consistent": consistent, "received_is_new": {"received": new}, "off": off})
    failures = validate_frame(frame("2021", reports, narrative=narrative), "2021")
    assert failed(failures) == {
        ("off", "narrative.received"),
        ("off", "narrative.new_received"),
        ("off", "narrative.review"),
        ("off", "narrative.litigation"),
    }
    assert set(failures["severity"]) == {"warning"}
    hit = row(failures, "off", "narrative.received")
    assert (hit["found"], hit["expected"]) == (f"{new + carried + 5:g}", f"{new:g} or {new + carried:g}")
    hit = row(failures, "off", "narrative.litigation")
    assert (hit["found"], hit["expected"]) == ("0", f"{lit:g}")
    assert json.loads(hit["cells"]) == ["t4.litigation_direct.total", "t4.litigation_after_review.total"]


# --- severity routing through the pipeline, and the run's Data Docs ------------------------------------------


@pytest.fixture(scope="module")
def routed(tmp_path_factory):
    """A run over the seed, a warning-only variant and a variant missing 表四, stage by stage."""
    from etl import pipeline
    from tests.conftest import SEED

    root = tmp_path_factory.mktemp("routing")
    landing = root / "landing"
    landing.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    (landing / "suichang-2021.txt").write_text(seed, encoding="utf-8")
    # a county government reporting 规章, and a 表二 row with a value missing (left unresolved): warnings only
    warned = seed.replace("遂昌", "松阳").replace("规章 | 0 | 0 | 0 |", "规章 | 1 | 0 | 3 |")
    warned = warned.replace("行政规范性文件 | 41 | 1 | 336 |", "行政规范性文件 | 41 | 1 |")
    (landing / "songyang-2021.txt").write_text(warned, encoding="utf-8")
    # 表四's only data row gone: its 15 cells are not found -> blocking
    lines = [
        ln for ln in seed.replace("遂昌", "云和").splitlines() if not ln.startswith("2 | 0 | 0 | 0 | 2 | 3 |")
    ]
    (landing / "yunhe-2021.txt").write_text("\n".join(lines), encoding="utf-8")
    plan = pipeline.extract("routing", str(landing), str(root / "work"))
    pipeline.transform(plan["run_dir"], [pipeline.parse_batch(b) for b in plan["batches"]])
    validated = pipeline.validate(plan["run_dir"])
    pipeline.load(plan["run_dir"])
    outcome = json.loads((Path(plan["run_dir"]) / "outcome.json").read_text(encoding="utf-8"))
    return root / "work", Path(plan["run_dir"]), validated, outcome


def test_warnings_load_and_missing_tables_quarantine(routed) -> None:
    import duckdb

    work, _, validated, outcome = routed
    assert sorted(outcome["loaded"]) == ["songyang-2021.txt", "suichang-2021.txt"]
    assert outcome["quarantined"] == {"yunhe-2021.txt": ["report.complete"]}
    assert validated["n_reports_failing"] == 1 and validated["n_reports_warned"] == 1
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        warnings = con.execute("SELECT source_file, rule_id FROM report_warning ORDER BY ALL").fetchall()
        assert warnings == [
            ("songyang-2021.txt", "t2.regulation.authority"),
            ("songyang-2021.txt", "t2.unresolved"),
        ]
        nulls = con.execute("""
            SELECT c.code FROM fact_cell c JOIN dim_report r USING (report_id)
            WHERE r.source_file = 'songyang-2021.txt' AND c.value IS NULL ORDER BY c.code""").fetchall()
        assert nulls == [(f"t2.normative_document.{c}",) for c in ("in_force", "issued", "repealed")]
        quarantined = con.execute("SELECT source_file, rule_id, severity FROM quarantine").fetchall()
        assert quarantined == [("yunhe-2021.txt", "report.complete", "blocking")]
    finally:
        con.close()


def test_data_docs_are_built_and_readable_offline(routed) -> None:
    import re

    _, run_dir, validated, _ = routed
    index = Path(validated["data_docs"])
    assert index == run_dir / "data_docs" / "index.html" and index.is_file()
    pages = list(index.parent.rglob("*.html"))
    assert any("validations" in p.parts for p in pages) and any("expectations" in p.parts for p in pages)
    remote = re.compile(
        r"<link\b[^>]*href=\"https?:|<script\b[^>]*src=\"https?:|@import\s+url\(\"?https?:", re.I
    )
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not remote.search(text), page
        for href in re.findall(r"<link\b[^>]*rel=\"stylesheet\"[^>]*href=\"([^\"]+)\"", text):
            assert (page.parent / href).resolve().is_file(), (page, href)  # the vendored stylesheet
    text = index.read_text(encoding="utf-8")
    for href in re.findall(r"<a href=\"([^\"]+)\"", text):
        assert (index.parent / href).is_file(), href
    # the index names the failing rules with their severity, readable without JavaScript
    assert "report.complete" in text and "t2.regulation.authority" in text and "<script" not in text
