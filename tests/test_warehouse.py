"""The province-level warehouse: marts on hand-computed figures, dimensions, DuckDB == PostgreSQL, crash safety.

The landing folder is built from the seed's layout with other places and figures (generated below), so every
expected number here is worked out by hand from the tables written into the reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from etl import pipeline, regions
from etl.load import AuditError, load_run, mart_rows
from etl.outcomes import Outcome
from etl.transform import report_id
from etl.warehouse import Target, connect
from etl.warehouse.dims import normalize_agency
from tests.conftest import PROJECT, SEED

PG_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# -- reports in the seed's flattened-text layout -------------------------------------------------------------
T3_2021 = [
    ("一、本年新收政府信息公开申请数量", "new_received"),
    ("二、上年结转政府信息公开申请数量", "carried_over"),
    ("三、本年度办理结果 | (一)予以公开", "granted"),
    ("(二)部分公开(区分处理的,只计这一情形,不计其他情形)", "partially_granted"),
    ("(三)不予公开 | 1.属于国家秘密", "denied_state_secret"),
    ("2.其他法律行政法规禁止公开", "denied_prohibited_by_law"),
    ("3.危及“三安全一稳定”", "denied_three_security_one_stability"),
    ("4.保护第三方合法权益", "denied_third_party_rights"),
    ("5.属于三类内部事务信息", "denied_internal_affairs"),
    ("6.属于四类过程性信息", "denied_process_information"),
    ("7.属于行政执法案卷", "denied_enforcement_file"),
    ("8.属于行政查询事项", "denied_administrative_query"),
    ("(四)无法提供 | 1.本机关不掌握相关政府信息", "unable_not_held"),
    ("2.没有现成信息需要另行制作", "unable_needs_creation"),
    ("3.补正后申请内容仍不明确", "unable_still_unclear"),
    ("(五)不予处理 | 1.信访举报投诉类申请", "not_processed_petition"),
    ("2.重复申请", "not_processed_duplicate"),
    ("3.要求提供公开出版物", "not_processed_publication"),
    ("4.无正当理由大量反复申请", "not_processed_mass_repeated"),
    ("5.要求行政机关确认或重新出具已获取信息", "not_processed_confirm_existing"),
    (
        "(六)其他处理 | 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "other_no_correction",
    ),
    ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "other_no_fee"),
    ("3.其他", "other_other"),
    ("(七)总计", "total"),
    ("四、结转下年度继续办理", "carried_forward"),
]
T3_2019 = [
    *[r for r in T3_2021 if not r[1].startswith("other_")][:-2],
    ("(六)其他处理", "other"),
    *T3_2021[-2:],
]
T2_2021 = """第二十条第(一)项 |
信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |
规章 | 0 | 0 | 0 |
行政规范性文件 | 1 | 0 | 3 |
第二十条第(五)项 |
信息内容 | 本年处理决定数量 |
行政许可 | {licensing} |
第二十条第(六)项 |
信息内容 | 本年处理决定数量 |
行政处罚 | {penalty} |
行政强制 | {coercion} |
第二十条第(八)项 |
信息内容 | 本年收费金额(单位:万元) |
行政事业性收费 | {fees} |"""
T2_2019 = """第二十条第(一)项 |
信息内容 | 本年新制作数量 | 本年新公开数量 | 对外公开总数量 |
规章 | 0 | 0 | 0 |
规范性文件 | 1 | 1 | 3 |
第二十条第(五)项 |
信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |
行政许可 | 3 | 0 | {licensing} |
其他对外管理服务事项 | 0 | 0 | 0 |
第二十条第(六)项 |
信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |
行政处罚 | 2 | 0 | {penalty} |
行政强制 | 1 | 0 | {coercion} |
第二十条第(八)项 |
信息内容 | 上一年项目数量 | 本年增/减 |
行政事业性收费 | 4 | -1 |
第二十条第(九)项 |
信息内容 | 采购项目数量 | 采购总金额 |
政府集中采购 | 2 | 30 |"""
T4_HEAD = """四、政府信息公开行政复议、行政诉讼情况
行政复议 | 行政诉讼 |
结果维持 | 结果 纠正 | 其他 结果 | 尚未 审结 | 总计 | 未经复议直接起诉 | 复议后起诉 |
结果 维持 | 结果 纠正 | 其他 结果 | 尚未 审结 | 总计 | 结果 维持 | 结果 纠正 | 其他 结果 | 尚未 审结 | 总计 |"""


def report_text(
    title: str,
    year: int,
    t3: dict[str, int],
    review=(0, 0, 0, 0),
    direct=(0, 0, 0, 0),
    after=(0, 0, 0, 0),
    t2: dict | None = None,
    sentence: str = "",
    template: str = "2021",
) -> str:
    """A report in the seed's layout: every applicant column 0 but 自然人, so 总计 = the 自然人 figure.
    t3: 自然人 per row (omitted rows 0; 总计 and 结转下年度 computed); t4 blocks: (维持, 纠正, 其他, 未结)."""
    rows = T3_2021 if template == "2021" else T3_2019
    t3 = dict(t3)
    t3["total"] = sum(t3.get(k, 0) for _, k in rows[2:-2])
    t3["carried_forward"] = t3.get("new_received", 0) + t3.get("carried_over", 0) - t3["total"]
    t2 = {"licensing": 0, "penalty": 0, "coercion": 0, "fees": 0, **(t2 or {})}
    lines = [
        title,
        f"本报告所列数据的统计期限为{year}年1月1日至{year}年12月31日。",
        "一、总体情况",
        sentence or "本年度政务公开工作平稳推进。",
        "二、主动公开政府信息情况",
        (T2_2021 if template == "2021" else T2_2019).format(**t2),
        "三、收到和处理政府信息公开申请情况",
        "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和) | 申请人情况 |",
        "自然人 | 法人或其他组织 | 总计 |",
        "商业 企业 | 科研 机构 | 社会公益组织 | 法律服务机构 | 其他 |",
    ]
    lines += [f"{label} | {t3.get(key, 0)} | 0 | 0 | 0 | 0 | 0 | {t3.get(key, 0)} |" for label, key in rows]
    t4 = [*review, sum(review), *direct, sum(direct), *after, sum(after)]
    lines += [T4_HEAD, " | ".join(str(v) for v in t4) + " |", "五、存在的主要问题及改进情况", "无。"]
    return "\n".join(lines) + "\n"


def _title(name: str, year: int) -> str:
    return f"{name}{year}年政府信息公开工作年度报告"


def build_landing(landing: Path) -> Path:
    """Three provinces: 浙江 (counties, a township, a quarantined report, a 2019-template year), 江苏 (淮安市's
    whole-city region report with two districts and a department of its own, 玄武区 printed two ways), 福建
    (平潭综合实验区's zone-wide report and one of its departments, 鼓楼区 outside the zone)."""
    landing.mkdir(parents=True)
    shutil.copy(SEED, landing / "zj-suichang-2021.txt")
    reports = {
        "zj-songyang-2021.txt": report_text(
            _title("松阳县", 2021),
            2021,
            {
                "new_received": 10,
                "carried_over": 2,
                "granted": 5,
                "partially_granted": 2,
                "denied_state_secret": 1,
                "unable_not_held": 1,
                "not_processed_duplicate": 1,
            },
            review=(1, 1, 0, 0),
            direct=(0, 1, 0, 0),
            after=(1, 0, 1, 0),
            t2={"licensing": 100, "penalty": 50, "coercion": 5, "fees": 2.5},
        ),
        "zj-miaogao-2021.txt": report_text(
            _title("遂昌县妙高街道办事处", 2021),
            2021,
            {"new_received": 3, "granted": 2, "other_other": 1},
            t2={"licensing": 7},
        ),
        "zj-songyang-2019.txt": report_text(
            _title("松阳县", 2019),
            2019,
            {
                "new_received": 10,
                "carried_over": 2,
                "granted": 5,
                "partially_granted": 2,
                "unable_not_held": 1,
                "other": 3,
            },
            review=(1, 1, 0, 0),
            direct=(1, 0, 0, 0),
            t2={"licensing": 5, "penalty": 7},
            template="2019",
        ),
        "js-huaian-2021.txt": report_text(
            _title("淮安市", 2021),
            2021,
            {
                "new_received": 100,
                "carried_over": 5,
                "granted": 60,
                "partially_granted": 20,
                "denied_third_party_rights": 5,
                "unable_needs_creation": 12,
                "not_processed_petition": 3,
            },
            review=(4, 2, 1, 1),
            direct=(3, 1, 0, 1),
            after=(1, 1, 0, 0),
            t2={"licensing": 1000, "penalty": 2000, "coercion": 120, "fees": 10},
            sentence="2021年,全市共受理政府信息公开申请105件。",
        ),
        "js-qingjiangpu-2021.txt": report_text(
            _title("淮安市清江浦区", 2021),
            2021,
            {"new_received": 30, "granted": 20, "partially_granted": 5, "unable_not_held": 5},
            review=(1, 1, 0, 0),
            t2={"licensing": 300, "penalty": 500, "coercion": 100, "fees": 3},
        ),
        "js-huaiyin-2021.txt": report_text(
            _title("淮安市淮阴区", 2021),
            2021,
            {
                "new_received": 20,
                "carried_over": 5,
                "granted": 15,
                "partially_granted": 5,
                "denied_process_information": 2,
                "not_processed_petition": 3,
            },
            direct=(1, 0, 0, 0),
            t2={"licensing": 200, "penalty": 400, "coercion": 50, "fees": 2},
        ),
        "js-huaian-czj-2021.txt": report_text(
            _title("淮安市财政局", 2021),
            2021,
            {"new_received": 10, "granted": 8, "other_no_correction": 2},
            t2={"penalty": 10},
        ),
        "js-xuanwu-2021.txt": report_text(
            _title("南京市玄武区", 2021),
            2021,
            {"new_received": 40, "granted": 30, "partially_granted": 6, "denied_internal_affairs": 4},
            review=(2, 0, 0, 0),
            after=(0, 1, 0, 0),
            t2={"licensing": 400, "penalty": 600, "coercion": 60, "fees": 4},
        ),
        "fj-pingtan-2021.txt": report_text(
            _title("平潭综合实验区", 2021),
            2021,
            {"new_received": 20, "granted": 10, "partially_granted": 5, "unable_not_held": 5},
            sentence="2021年,全区共受理政府信息公开申请20件。",
        ),
        "fj-pingtan-czj-2021.txt": report_text(
            _title("平潭综合实验区财政金融局", 2021), 2021, {"new_received": 4, "granted": 4}
        ),
        "fj-gulou-2021.txt": report_text(
            _title("福州市鼓楼区", 2021),
            2021,
            {"new_received": 6, "granted": 3, "partially_granted": 1, "denied_state_secret": 2},
        ),
    }
    # the same 玄武区 report under a shorter title: another issuer string, the same agency
    reports["js-xuanwu-copy-2021.txt"] = reports["js-xuanwu-2021.txt"].replace("南京市玄武区", "玄武区", 1)
    # 庆元县: 予以公开's 总计 misprinted -> quarantined
    broken = report_text(_title("庆元县", 2021), 2021, {"new_received": 5, "granted": 5})
    reports["zj-qingyuan-2021.txt"] = broken.replace(
        "(一)予以公开 | 5 | 0 | 0 | 0 | 0 | 0 | 5 |", "(一)予以公开 | 5 | 0 | 0 | 0 | 0 | 0 | 6 |"
    )
    for name, text in reports.items():
        (landing / name).write_text(text, encoding="utf-8")
    return landing


def rid(path: Path) -> str:
    return report_id(hashlib.sha256(path.read_bytes()).hexdigest())


def stage_run(landing: Path, workdir: Path, run_id: str) -> str:
    """extract -> parse -> transform -> validate in-process; returns the run folder."""
    plan = pipeline.extract(run_id, str(landing), str(workdir))
    parsed = [pipeline.parse_batch(b) for b in plan["batches"]]
    pipeline.transform(plan["run_dir"], parsed)
    pipeline.validate(plan["run_dir"])
    return plan["run_dir"]


def add_warning(run_dir: str, report: str) -> None:
    """A non-blocking finding for one report (the suites may have none yet): it loads, and is counted."""
    path = Path(run_dir) / "validation" / "failures.parquet"
    failures = pd.read_parquet(path)
    extra = pd.DataFrame(
        [
            {
                "report_id": report,
                "rule_id": "test.warning",
                "severity": "warning",
                "cells": '["t3.granted.total"]',
                "expected": "5",
                "found": "5",
                "message": "injected",
            }
        ]
    )
    pd.concat([failures, extra.astype(failures.dtypes.to_dict())], ignore_index=True).to_parquet(
        path, index=False
    )


@contextmanager
def warehouse_env(target: Target):
    """Select the backend the way a deployment does: through ETL_WAREHOUSE_URL / ETL_WAREHOUSE_SCHEMA."""
    with pytest.MonkeyPatch.context() as mp:
        if target.pg_url:
            mp.setenv("ETL_WAREHOUSE_URL", target.pg_url)
            mp.setenv("ETL_WAREHOUSE_SCHEMA", target.pg_schema)
        else:
            mp.delenv("ETL_WAREHOUSE_URL", raising=False)
        yield


def publish(run_dir: str, target: Target) -> None:
    with warehouse_env(target):
        pipeline.load(run_dir)
        pipeline.build_marts(run_dir)


def checksums(target: Target) -> dict[str, str]:
    """One hash per table (all but run_log; run_id columns left out), rows in a backend-independent order."""
    out = {}
    with connect(target, read_only=True) as wh:
        for table in wh.tables():
            if table == "run_log":
                continue
            cols = [c for c in wh.columns(table) if c != "run_id"]
            where = " WHERE key <> 'marts_after_run'" if table == "meta" else ""  # names a run id
            rows = sorted(wh.fetchall(f"SELECT {', '.join(cols)} FROM {table}{where}"), key=repr)
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def pg_url() -> str:
    import psycopg

    try:
        psycopg.connect(PG_URL, connect_timeout=5).close()
    except psycopg.Error as e:
        if in_ci():
            pytest.fail(f"CI: PostgreSQL must be reachable at {PG_URL} (ETL_TEST_PG_URL): {e}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set ETL_TEST_PG_URL): {e}")
    return PG_URL


@pytest.fixture
def pg_targets(pg_url):
    """Factory of throwaway PostgreSQL warehouses (one schema each), dropped after the test."""
    import psycopg

    made: list[str] = []

    def make() -> Target:
        made.append(f"test_wh_{os.getpid()}_{uuid.uuid4().hex[:8]}")
        return Target(pg_url=pg_url, pg_schema=made[-1])

    yield make
    with psycopg.connect(pg_url, autocommit=True) as con:
        for schema in made:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The landing folder published into DuckDB: (workdir, run_dir, landing)."""
    root = tmp_path_factory.mktemp("warehouse")
    landing = build_landing(root / "landing")
    run_dir = stage_run(landing, root / "work", "run-marts")
    add_warning(run_dir, rid(landing / "zj-songyang-2021.txt"))
    publish(run_dir, Target(duckdb_path=root / "work" / "warehouse.duckdb"))
    return root / "work", run_dir, landing


@pytest.fixture(scope="module")
def duck(built) -> Target:
    return Target(duckdb_path=built[0] / "warehouse.duckdb")


def _province_year(duck: Target) -> dict[tuple[str, int], dict]:
    return {(r["province"], r["year"]): r for r in mart_rows(duck)}


# -- marts -----------------------------------------------------------------------------------------------
def test_outcomes_of_the_landing(built):
    _, run_dir, _ = built
    outcome = json.loads((Path(run_dir) / "outcome.json").read_text(encoding="utf-8"))
    assert list(outcome["quarantined"]) == ["zj-qingyuan-2021.txt"]
    assert outcome["counts"]["loaded"] == 13 and outcome["counts"]["rejected"] == 0


def test_province_mart_zhejiang(duck):
    zj = _province_year(duck)[("浙江省", 2021)]
    # 遂昌 (the seed) + 松阳 + 妙高街道: no region report, all three counted
    expected = {
        "reports": 3,
        "reports_loaded": 3,
        "reports_covered": 0,
        "reports_duplicate_agency": 0,
        "region_reports": 0,
        "reports_county_level": 2,
        "reports_township_level": 1,
        "reports_city_level": 0,
        "agencies_county_level": 2,
        "agencies_township_level": 1,
        "applications": 44 + 12 + 3,
        "new_received": 44 + 10 + 3,
        "carried_over": 2,
        "handled": 44 + 10 + 3,
        "granted": 25 + 5 + 2,
        "partially_granted": 7 + 2,
        "denied": 3 + 1,
        "denied_state_secret": 1,
        "denied_enforcement_file": 1,
        "denied_administrative_query": 2,
        "unable": 8 + 1,
        "not_processed": 1,
        "other_processing": 1 + 1,
        "carried_forward": 2,
        "disclosure_rate": round(41 / 57, 4),
        "granted_share": round(32 / 57, 4),
        "unable_share": round(9 / 57, 4),
        "administrative_reviews": 2 + 2,
        "review_upheld": 3,
        "review_corrected": 1,
        "review_other": 0,
        "review_pending": 0,
        "review_correction_rate": 0.25,
        "lawsuits": 4 + 3,
        "lawsuit_upheld": 3 + 1,
        "lawsuit_corrected": 1,
        "lawsuit_other": 1,
        "lawsuit_pending": 1,
        "lawsuit_correction_rate": round(1 / 6, 4),
        "fees_amount": 1303.5,
        "licensing_decisions": 22255 + 100 + 7,
        "penalty_decisions": 121578 + 50,
        "coercion_decisions": 2207 + 5,
        "reports_quarantined": 1,
        "blocking_pass_rate": 0.75,
        "warnings": 1,
        "reports_with_warnings": 1,
        "unresolved_cells": 0,
        "regions_reconciled": 0,
        "reconciliation_warnings": 0,
    }
    assert {k: zj[k] for k in expected} == expected


def test_province_mart_2019_template(duck):
    zj = _province_year(duck)[("浙江省", 2019)]
    # one 2019-template report: a single (六)其他处理 row, 表二 without a fee amount
    expected = {
        "reports": 1,
        "applications": 12,
        "handled": 11,
        "granted": 5,
        "partially_granted": 2,
        "unable": 1,
        "other_processing": 3,
        "carried_forward": 1,
        "disclosure_rate": round(7 / 11, 4),
        "fees_amount": None,
        "licensing_decisions": 5,
        "penalty_decisions": 7,
        "coercion_decisions": 0,
        "administrative_reviews": 2,
        "review_correction_rate": 0.5,
        "lawsuits": 1,
        "lawsuit_correction_rate": 0.0,
        "reports_quarantined": 0,
        "blocking_pass_rate": 1.0,
    }
    assert {k: zj[k] for k in expected} == expected


def test_province_mart_jiangsu_counts_each_unit_once(duck):
    js = _province_year(duck)[("江苏省", 2021)]
    # counted: 淮安市's whole-city report (not its two districts and its 财政局) + 玄武区 once (printed two ways)
    expected = {
        "reports": 2,
        "reports_loaded": 6,
        "reports_covered": 3,
        "reports_duplicate_agency": 1,
        "region_reports": 1,
        "reports_city_level": 2,
        "reports_county_level": 4,
        "agencies_city_level": 2,
        "agencies_county_level": 3,
        "applications": 105 + 40,
        "handled": 100 + 40,
        "granted": 60 + 30,
        "partially_granted": 20 + 6,
        "denied": 5 + 4,
        "unable": 12,
        "not_processed": 3,
        "other_processing": 0,
        "carried_forward": 5,
        "disclosure_rate": round(116 / 140, 4),
        "administrative_reviews": 8 + 2,
        "review_correction_rate": round(2 / 9, 4),
        "lawsuits": 7 + 1,
        "lawsuit_correction_rate": round(3 / 7, 4),
        "fees_amount": 14.0,
        "licensing_decisions": 1400,
        "penalty_decisions": 2600,
        "coercion_decisions": 180,
        "reports_quarantined": 0,
        "blocking_pass_rate": 1.0,
        "warnings": 0,
        "regions_reconciled": 1,
        "reconciliation_warnings": 14,
    }
    assert {k: js[k] for k in expected} == expected


def test_zone_report_covers_its_own_agencies_only(duck):
    fj = _province_year(duck)[("福建省", 2021)]
    # 平潭's zone-wide report covers its 财政金融局, not 福州市鼓楼区
    assert {
        k: fj[k]
        for k in (
            "reports",
            "reports_covered",
            "applications",
            "handled",
            "granted",
            "partially_granted",
            "disclosure_rate",
        )
    } == {
        "reports": 2,
        "reports_covered": 1,
        "applications": 26,
        "handled": 26,
        "granted": 13,
        "partially_granted": 6,
        "disclosure_rate": round(19 / 26, 4),
    }


def test_reconciliation_region_vs_children(duck, built):
    landing = built[2]
    rows = [
        r
        for r in mart_rows(duck, "mart_reconciliation", ("region_report_id", "figure_order"))
        if r["region_report_id"] == rid(landing / "js-huaian-2021.txt")
    ]
    by = {r["figure"]: r for r in rows}
    assert len(rows) == 15 and {r["n_children"] for r in rows} == {3}
    assert rows[0]["children"] == "淮安市淮阴区人民政府, 淮安市清江浦区人民政府, 淮安市财政局"
    pick = ("region_value", "children_sum", "difference", "status", "warning")
    assert {k: by["applications"][k] for k in pick} == {
        "region_value": 105,
        "children_sum": 30 + 25 + 10,
        "difference": -40,
        "status": "region_exceeds_children",
        "warning": True,
    }
    assert {k: by["not_processed"][k] for k in pick} == {
        "region_value": 3,
        "children_sum": 3,
        "difference": 0,
        "status": "match",
        "warning": False,
    }
    assert {k: by["coercion_decisions"][k] for k in pick} == {
        "region_value": 120,
        "children_sum": 150,
        "difference": 30,
        "status": "children_exceed_region",
        "warning": True,
    }
    assert by["fees_amount"]["children_sum"] == 5.0 and by["reviews"]["children_sum"] == 2


def test_mart_report_records_why_a_report_is_left_out(duck, built):
    landing = built[2]
    rows = {r["report_id"]: r for r in mart_rows(duck, "mart_report", ("report_id",))}
    huaian = rid(landing / "js-huaian-2021.txt")
    for name in ("js-qingjiangpu-2021.txt", "js-huaiyin-2021.txt", "js-huaian-czj-2021.txt"):
        r = rows[rid(landing / name)]
        assert (r["counted"], r["parent_report_id"], r["top_report_id"], r["excluded_reason"]) == (
            False,
            huaian,
            huaian,
            "covered by region report",
        )
    twins = [rows[rid(landing / n)] for n in ("js-xuanwu-2021.txt", "js-xuanwu-copy-2021.txt")]
    assert twins[0]["agency_id"] == twins[1]["agency_id"]
    assert sorted(r["excluded_reason"] or "" for r in twins) == ["", "duplicate agency-year"]


def test_agency_year_drill_down(duck):
    rows = mart_rows(duck, "mart_agency_year", ("agency_name", "year"))
    xuanwu = [r for r in rows if r["agency_name"] == "南京市玄武区人民政府"]
    assert len(xuanwu) == 1 and xuanwu[0]["agency_reports"] == 2 and xuanwu[0]["counted"]
    assert (xuanwu[0]["applications"], xuanwu[0]["disclosure_rate"]) == (40, 0.9)
    czj = next(r for r in rows if r["agency_name"] == "淮安市财政局")
    assert (czj["agency_kind"], czj["agency_level"], czj["counted"]) == ("department", "city", False)
    assert len(rows) == len({(r["agency_id"], r["year"]) for r in rows}) == 12


def test_bi_views(duck):
    with connect(duck, read_only=True) as wh:
        views = set(wh.tables("VIEW"))
        assert {"bi_province_year", "bi_agency_year", "bi_reconciliation", "bi_report"} <= views
        assert wh.fetchall("SELECT count(*) FROM bi_province_year")[0][0] == len(mart_rows(duck))
        ev = wh.fetchall(
            "SELECT scope, scope_evidence FROM bi_report WHERE source_file = 'js-huaian-2021.txt'"
        )
    assert ev[0][0] == "region" and "全市共受理" in ev[0][1]


# -- dimensions ------------------------------------------------------------------------------------------
def test_dim_region_and_its_version(duck):
    with connect(duck, read_only=True) as wh:
        assert wh.fetchall("SELECT value FROM meta WHERE key = 'region_data_version'") == [
            (regions.DATA_VERSION,)
        ]
        n, versions = wh.fetchall("SELECT count(*), count(DISTINCT data_version) FROM dim_region")[0]
        assert n > 3000 and versions == 1
        assert wh.fetchall(
            "SELECT name, level, parent_adcode, city_adcode, province_adcode FROM dim_region "
            "WHERE adcode = '320812'"
        ) == [("清江浦区", "county", "320800", "320800", "320000")]


def test_dim_agency_kinds_and_levels(duck):
    with connect(duck, read_only=True) as wh:
        rows = {r[0]: r[1:] for r in wh.fetchall("SELECT agency_name, kind, level, zone FROM dim_agency")}
    assert rows["淮安市人民政府"] == ("government", "city", None)
    assert rows["丽水市遂昌县妙高街道办事处"] == ("township", "township", None)
    assert rows["平潭综合实验区管理委员会"] == ("zone", "county", "平潭综合实验区")
    assert rows["平潭综合实验区财政金融局"] == ("department", "county", "平潭综合实验区")
    assert len(rows) == 11  # 13 loaded reports: 玄武区 printed twice, 松阳县 in 2019 and 2021


@pytest.mark.parametrize(
    ("issuer", "adcode", "name", "kind", "level"),
    [
        ("沐阳县人民政府", "321322", "宿迁市沭阳县人民政府", "government", "county"),  # OCR variant of 沭阳
        ("洪泽区政府办", "320813", "淮安市洪泽区人民政府办公室", "government_office", "county"),
        ("江苏省淮安市财政局", "320800", "淮安市财政局", "department", "city"),
        ("遂昌县城关镇政府", "331123", "丽水市遂昌县城关镇人民政府", "township", "township"),
        ("苏州工业园区管委会", "320500", "苏州工业园区管理委员会", "zone", "city"),
        ("上海市人民政府办公厅", "310000", "上海市人民政府办公厅", "government_office", "province"),
    ],
)
def test_normalize_agency(issuer, adcode, name, kind, level):
    row, how = normalize_agency(issuer, adcode)
    assert (row["agency_name"], row["kind"], row["level"], row["region_adcode"]) == (
        name,
        kind,
        level,
        adcode,
    )
    assert (how == "as printed") == (issuer == name)


# -- write-audit-publish ---------------------------------------------------------------------------------
def test_failed_audit_publishes_nothing(built, tmp_path):
    work, run_dir, _ = built
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(work / "warehouse.duckdb", db)
    before = checksums(Target(duckdb_path=db))
    outcome = json.loads((Path(run_dir) / "outcome.json").read_text(encoding="utf-8"))
    outcomes = [Outcome(**o) for o in outcome["outcomes"] if o["source_file"] != "js-huaiyin-2021.txt"]
    failures = pd.read_parquet(Path(run_dir) / "validation" / "failures.parquet")
    with pytest.raises(AuditError, match="every parsed report has an outcome"):
        load_run(Target(duckdb_path=db), Path(run_dir) / "staging", failures, outcomes, "run-bad", "x")
    assert checksums(Target(duckdb_path=db)) == before


@pytest.mark.postgres
def test_duckdb_and_postgres_marts_identical(built, duck, pg_targets):
    _, run_dir, _ = built
    pg = pg_targets()
    publish(run_dir, pg)
    with connect(duck, read_only=True) as d, connect(pg, read_only=True) as p:
        tables = d.tables()
        assert tables == p.tables()
        assert d.tables("VIEW") == p.tables("VIEW")
        for table in [t for t in tables if t != "run_log"] + d.tables("VIEW"):
            cols = d.columns(table)
            assert cols == p.columns(table), table
            select = f"SELECT {', '.join(cols)} FROM {table}"
            rows_d, rows_p = (sorted(w.fetchall(select), key=repr) for w in (d, p))
            assert len(rows_d) == len(rows_p), table
            for a, b in zip(rows_d, rows_p, strict=True):
                assert a == b, f"{table}: {a} != {b}"
    assert mart_rows(pg) == mart_rows(duck)


# -- crash safety: SIGKILL between staging and commit ------------------------------------------------------
def _load_killed_before_commit(run_dir: str, target: Target, tmp: Path) -> None:
    marker = tmp / f"paused-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "GX_ANALYTICS_ENABLED": "False",
        "ETL_TEST_PAUSE_AT": "before_commit",
        "ETL_TEST_PAUSE_FILE": str(marker),
    }
    env.pop("ETL_WAREHOUSE_URL", None)
    if target.pg_url:
        env |= {"ETL_WAREHOUSE_URL": target.pg_url, "ETL_WAREHOUSE_SCHEMA": target.pg_schema}
    code = "import sys\nfrom etl.pipeline import load\nload(sys.argv[1])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, run_dir],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the loader exited before the pause point: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the loader never reached the pause point")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # everything written, nothing committed
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_load_leaves_previous_warehouse_and_rerun_converges(backend, tmp_path, request):
    root = tmp_path
    work = root / "work"
    if backend == "duckdb":
        target = Target(duckdb_path=work / "warehouse.duckdb")
    else:
        make = request.getfixturevalue("pg_targets")
        target, reference = make(), make()
    landing_a = root / "landing-a"
    landing_a.mkdir()
    shutil.copy(SEED, landing_a / "zj-suichang-2021.txt")
    landing_b = build_landing(root / "landing-b")  # replaces the 2021 partition, adds 2019
    run_a = stage_run(landing_a, work, "run-a")
    run_b = stage_run(landing_b, work, "run-b")

    publish(run_a, target)
    before = checksums(target)
    if backend == "duckdb":
        shutil.copy(work / "warehouse.duckdb", root / "a.duckdb")

    _load_killed_before_commit(run_b, target, root)
    assert checksums(target) == before  # the previous warehouse, intact

    publish(run_b, target)  # the rerun
    after = checksums(target)
    assert after != before

    # the same two loads without a crash give the same warehouse
    if backend == "duckdb":
        shutil.copy(root / "a.duckdb", work / "warehouse.duckdb")
        publish(run_b, target)
        assert checksums(target) == after
    else:
        publish(run_a, reference)
        publish(run_b, reference)
        assert checksums(reference) == after
