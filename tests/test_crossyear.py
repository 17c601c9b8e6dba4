"""Cross-year checks: a report against the same issuer's report of the year before (warnings only)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from etl.spec import APPLICANT_COLUMNS
from etl.validate.crossyear import CODES, KEYS, pair_frame, validate_crossyear, validate_pairs
from etl.validate.rules import PREV, crossyear_rules
from tests.conftest import REAL, SEED

PINGTAN = [f"fj-pingtan-{y}" for y in (2019, 2020, 2021, 2022)]


def from_label(stem: str, report_id: str | None = None) -> dict:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} not present")
    label = json.loads((REAL / f"{stem}.expected.json").read_text(encoding="utf-8"))
    cells = {c: float(label["cells"][c]) if c in label["cells"] else math.nan for c in CODES}
    keys = {
        "report_id": report_id or stem,
        "issuer": label["issuer"],
        "year": label["year"],
        "template": label["format"],
    }
    return keys | cells


def reports(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=[*KEYS, *CODES])


def failed(failures: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(failures["report_id"], failures["rule_id"], strict=True))


def row(failures: pd.DataFrame, report_id: str, rule_id: str) -> pd.Series:
    hit = failures[(failures["report_id"] == report_id) & (failures["rule_id"] == rule_id)]
    assert len(hit) == 1, (report_id, rule_id, failures)
    return hit.iloc[0]


def test_rules_are_warnings_over_this_and_last_year() -> None:
    rs = crossyear_rules()
    assert {r.rule_id for r in rs} == {
        *(f"xyear.carry_over.{c}" for c in APPLICANT_COLUMNS),
        "xyear.in_force.regulation",
        "xyear.in_force.normative_document",
        "xyear.new_received_jump",
    }
    assert all(r.severity == "warning" for r in rs)
    assert all(not c.startswith(PREV) for r in rs for c in r.cells)  # cells name this report's own codes


# --- the real 平潭 series: silent ------------------------------------------------------------------------------


def test_real_pingtan_series_is_silent() -> None:
    series = reports(*(from_label(s) for s in PINGTAN))
    pairs = pair_frame(series, series)
    assert list(pairs["report_id"]) == PINGTAN[1:]  # 2019 has no previous year
    by = pairs.set_index("report_id")
    # 2020 (2019 template) -> 2021 (2021 template): 二 上年结转 is still compared with 四 结转下年度
    assert by.loc["fj-pingtan-2021", f"{PREV}t3.carried_forward.total"] == 0
    assert (
        by.loc["fj-pingtan-2022", "t3.carried_over.total"]
        == by.loc["fj-pingtan-2022", f"{PREV}t3.carried_forward.total"]
        == 1
    )
    # 现行有效 only between two 2021-template reports: 665 + 88 - 55 = 698
    assert math.isnan(by.loc["fj-pingtan-2021", f"{PREV}t2.normative_document.in_force"])
    assert by.loc["fj-pingtan-2022", f"{PREV}t2.normative_document.in_force"] == 665
    runs: list = []
    failures = validate_pairs(pairs, runs)
    assert failures.empty, failures
    assert len(runs) == 1 and runs[0].result.success  # one GE run for the whole batch


# --- a generated series with a broken carry-over: fires ------------------------------------------------------


def seed_series() -> tuple[dict, dict]:
    """遂昌 2021 (its label) and a consistent 2022 made from it."""
    y2021 = from_label("suichang-2021", "sc-2021") | {
        "t3.carried_forward.natural_person": 2.0,
        "t3.carried_forward.total": 2.0,
    }
    y2022 = dict(y2021, report_id="sc-2022", year=2022)
    y2022 |= {
        "t3.carried_over.natural_person": 2.0,
        "t3.carried_over.total": 2.0,
        "t2.normative_document.issued": 10.0,
        "t2.normative_document.repealed": 2.0,
        "t2.normative_document.in_force": 336.0 + 10 - 2,
        "t3.new_received.total": 44.0 * 4.9,
    }
    return y2021, y2022


def test_consistent_generated_series_is_silent() -> None:
    y2021, y2022 = seed_series()
    series = reports(y2021, y2022)
    assert validate_crossyear(series, series, None).empty


def test_broken_generated_series_fires() -> None:
    y2021, y2022 = seed_series()
    broken = dict(
        y2022,
        **{
            "t3.carried_over.natural_person": 5.0,
            "t3.carried_over.total": 5.0,
            "t2.normative_document.in_force": 400.0,
            "t3.new_received.total": 44.0 * 6,
        },
    )
    series = reports(y2021, broken)
    failures = validate_crossyear(series, series, None)
    assert failed(failures) == {
        ("sc-2022", "xyear.carry_over.natural_person"),
        ("sc-2022", "xyear.carry_over.total"),
        ("sc-2022", "xyear.in_force.normative_document"),
        ("sc-2022", "xyear.new_received_jump"),
    }
    assert set(failures["severity"]) == {"warning"}
    hit = row(failures, "sc-2022", "xyear.carry_over.natural_person")
    assert (hit["expected"], hit["found"]) == ("2", "5")
    assert json.loads(hit["cells"]) == ["t3.carried_over.natural_person"]
    assert "last year: report sc-2021, 2021" in hit["message"]
    hit = row(failures, "sc-2022", "xyear.in_force.normative_document")
    assert (hit["expected"], hit["found"]) == ("346", "402")  # 336 + 10 vs 400 + 2
    hit = row(failures, "sc-2022", "xyear.new_received_jump")
    assert (hit["found"], hit["expected"]) == ("264", "×0.2 … ×5 of last year's 44")


def test_jumps_under_twenty_and_other_issuers_are_not_judged() -> None:
    y2021, y2022 = seed_series()
    small = dict(y2021, **{"t3.new_received.total": 3.0})
    big = dict(y2022, **{"t3.new_received.total": 300.0})
    other = dict(y2022, report_id="other", issuer="松阳县人民政府", **{"t3.carried_over.total": 9.0})
    series = reports(small, big, other)
    assert validate_crossyear(series, series, None).empty


# --- last year's report from the published warehouse ----------------------------------------------------------


def publish(db: Path, report: dict) -> None:
    """A minimal published report: its dim_report row and the cells the cross-year rules read."""
    from etl.warehouse import Target, connect

    wh = connect(Target(duckdb_path=db))
    try:
        wh.execute(
            "INSERT INTO dim_report (report_id, sha256, source_file, issuer, year, template, file_format, "
            "parser_version, n_blank, n_unresolved, run_id) VALUES (?, ?, ?, ?, ?, ?, 'text', '0', 0, 0, 'r0')",
            [
                report["report_id"],
                report["report_id"],
                f"{report['report_id']}.txt",
                report["issuer"],
                report["year"],
                report["template"],
            ],
        )
        for code in CODES:
            value = report[code]
            wh.execute(
                "INSERT INTO fact_cell (report_id, year, code, value, is_blank, derived) "
                "VALUES (?, ?, ?, ?, false, false)",
                [report["report_id"], report["year"], code, None if math.isnan(value) else value],
            )
    finally:
        wh.close()


def test_previous_year_from_the_warehouse(tmp_path: Path) -> None:
    y2021, y2022 = seed_series()
    db = tmp_path / "warehouse.duckdb"
    assert validate_crossyear(reports(y2022), reports(), db).empty  # no warehouse yet: nothing to compare
    publish(db, y2021)
    broken = dict(y2022, **{"t3.carried_over.natural_person": 5.0, "t3.carried_over.total": 5.0})
    failures = validate_crossyear(reports(broken), reports(), db)
    assert failed(failures) == {
        ("sc-2022", "xyear.carry_over.natural_person"),
        ("sc-2022", "xyear.carry_over.total"),
    }
    # this run's own 2021 report (the one the loader keeps) wins over the published one
    restaged = dict(
        y2021,
        report_id="sc-2021-v2",
        **{"t3.carried_forward.natural_person": 5.0, "t3.carried_forward.total": 5.0},
    )
    assert validate_crossyear(reports(broken, restaged), reports(restaged), db).empty


def test_pipeline_warns_on_carry_over_against_the_published_year(tmp_path: Path) -> None:
    """Run 1 publishes the seed (2021); run 2 brings its 2022 report, whose 上年结转 was not carried."""
    import duckdb

    from etl import pipeline

    seed = SEED.read_text(encoding="utf-8")
    first, second = tmp_path / "landing-2021", tmp_path / "landing-2022"
    first.mkdir()
    second.mkdir()
    (first / "suichang-2021.txt").write_text(seed, encoding="utf-8")
    y2022 = (
        seed.replace("2021年", "2022年")
        .replace(
            "二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
            "二、上年结转政府信息公开申请数量 | 3 | 0 | 0 | 0 | 0 | 0 | 3 |",
        )
        .replace(
            "四、结转下年度继续办理 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
            "四、结转下年度继续办理 | 3 | 0 | 0 | 0 | 0 | 0 | 3 |",
        )
    )
    # 现行有效 carried on from 2021: 336 + 41 - 1
    y2022 = y2022.replace("行政规范性文件 | 41 | 1 | 336 |", "行政规范性文件 | 41 | 1 | 376 |")
    (second / "suichang-2022.txt").write_text(y2022, encoding="utf-8")
    work = tmp_path / "work"
    assert pipeline.run(str(first), str(work))["loaded"] == ["suichang-2021.txt"]
    assert pipeline.run(str(second), str(work))["loaded"] == ["suichang-2022.txt"]  # warnings do not block
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        warnings = con.execute(
            "SELECT year, rule_id, expected, found, message FROM report_warning ORDER BY rule_id"
        ).fetchall()
    finally:
        con.close()
    assert [(w[0], w[1], w[2], w[3]) for w in warnings] == [
        (2022, "xyear.carry_over.natural_person", "0", "3"),
        (2022, "xyear.carry_over.total", "0", "3"),
    ]
    assert all("2021)" in w[4] for w in warnings)
    docs = sorted((work / "runs").glob("*/data_docs/validations/annual_report_crossyear/*/*/*.html"))
    assert len(docs) == 1
