"""The GE validation stage: rule catalogue, committed suites, and failures mapped back to reports."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, TEMPLATES, codes, t3_outcome_rows, t3_rows
from etl.validate import FAILURE_COLUMNS, build_suite, load_suite, rules, validate_frame, validate_reports
from etl.validate.suites import suite_json, suite_path

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "real"
APPLICANTS = [c for c in APPLICANT_COLUMNS if c != "total"]


def consistent_report(template: str, seed: int) -> dict[str, float]:
    """A report that satisfies every rule, with every count >= 1 so tests can decrement any cell."""
    rnd = random.Random(seed)
    cells: dict[str, float] = {c: float(rnd.randint(1, 300)) for c in codes(template) if c.startswith("t2.")}
    if template == "2021":
        cells["t2.fees.amount"] = 7730.28
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


def frame(template: str, reports: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = [{"report_id": rid, **{c: cells[c] for c in codes(template)}} for rid, cells in reports.items()]
    return pd.DataFrame(rows).astype({c: "float64" for c in codes(template)})


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
    assert len(ids) == len(set(ids)) == n_rows + 7 + 7 + 3 + len(families)
    assert {"t3.row_total.granted", "t3.col_outcomes.natural_person", "t3.col_balance.total"} <= set(ids)
    assert {f"t4.block_total.{b}" for b in T4_BLOCKS} <= set(ids)
    assert all(r.severity == "blocking" for r in rs)
    assert all(set(r.cells) <= set(codes(template)) for r in rs)
    cell_rules = {r.rule_id: r.cells for r in rs if not r.is_sum}
    assert set(cell_rules) == families
    # every cell in exactly one family
    assert sorted(c for cs in cell_rules.values() for c in cs) == sorted(codes(template))
    amount = "t2.fees.amount" if template == "2021" else "t2.procurement.amount"
    assert cell_rules["cell.non_negative"] == (amount,)
    if template == "2019":
        assert all(c.endswith(".items_change") for c in cell_rules["cell.integer"])
        assert len(cell_rules["cell.integer"]) == 5


@pytest.mark.parametrize("template", TEMPLATES)
def test_committed_suite_equals_generated(template: str) -> None:
    # Regenerate with `python -m etl.validate.suites` after changing the rules.
    generated = build_suite(template)
    assert json.loads(suite_path(template).read_text(encoding="utf-8")) == json.loads(suite_json(generated))
    assert load_suite(template) == generated


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_expectation_names_its_rule(template: str) -> None:
    suite = load_suite(template)
    by_rule = {r.rule_id: r for r in rules(template)}
    seen = set()
    for e in suite.expectations:
        rule = by_rule[e.meta["rule_id"]]
        assert e.meta["severity"] == rule.severity
        assert e.meta["cells"] == list(rule.cells)
        seen.add(rule.rule_id)
    assert seen == set(by_rule)
    assert set(suite.meta["pre_step"]["derived_columns"]) >= {
        "neg(t3.total.total)",
        "min(cell.non_negative_integer)",
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
    # b: its granted row and natural_person column are unresolved, but the 总计 column still adds up wrong
    assert failed(failures) == {("b", "t3.col_outcomes.total")}


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


def real_frame(stems: list[str]) -> tuple[str, pd.DataFrame]:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} not present")
    labels = {s: json.loads((REAL / f"{s}.expected.json").read_text(encoding="utf-8")) for s in stems}
    (template,) = {label["format"] for label in labels.values()}
    reports = {}
    for stem, label in labels.items():
        cells = {c: float(label["cells"][c]) for c in codes(template)}
        # The parser must return null for cells the source text does not determine.
        cells.update({c: math.nan for c in label.get("unresolvable_cells") or []})
        reports[stem] = cells
    return template, frame(template, reports)


def test_real_reports_2021() -> None:
    clean = ["suichang-2021", "fj-pingtan-2021", "js-huaian-city-2024"]
    template, df = real_frame(["js-huaian-hongze-2023", *clean])
    failures = validate_frame(df, template)
    assert failed(failures) == {
        ("js-huaian-hongze-2023", "t4.block_total.review"),
        ("js-huaian-hongze-2023", "t4.block_total.litigation_after_review"),
    }
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
    }
    hit = row(failures, "fj-pingtan-2020", "t3.col_outcomes.natural_person")
    assert (hit["expected"], hit["found"]) == ("26", "20")
    hit = row(failures, "fj-pingtan-2020", "t3.col_outcomes.total")
    assert (hit["expected"], hit["found"]) == ("27", "21")
