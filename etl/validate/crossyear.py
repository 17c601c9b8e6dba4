"""Cross-year checks: each report against the same issuer's report of the year before (all warnings).

Last year's report is looked for in this run's staging first (the report the loader will keep for that
issuer-year), then in the published warehouse (dim_report / fact_cell, opened read-only; it may not
exist yet). A report with no previous one is not judged. Both templates print 表三's 二 and 四 rows, so a
2019-template 2020 report still carries over into a 2021-template 2021 report; 现行有效 is compared only
between two 2021-template reports (the 2019 template has no such column).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl.spec import APPLICANT_COLUMNS
from etl.validate.failures import empty
from etl.validate.rules import PREV
from etl.validate.run import SuiteRun, checked_input, run_suite
from etl.validate.suites import CROSSYEAR, load_suite

IN_FORCE_ROWS = ("regulation", "normative_document")
# Last year's cells the rules read, and this year's.
PREV_CODES = (
    *(f"t3.carried_forward.{c}" for c in APPLICANT_COLUMNS),
    "t3.new_received.total",
    *(f"t2.{row}.in_force" for row in IN_FORCE_ROWS),
)
THIS_CODES = (
    *(f"t3.carried_over.{c}" for c in APPLICANT_COLUMNS),
    "t3.new_received.total",
    *(f"t2.{row}.{col}" for row in IN_FORCE_ROWS for col in ("issued", "repealed", "in_force")),
)
CODES = tuple(dict.fromkeys((*PREV_CODES, *THIS_CODES)))  # what to read of any report
KEYS = ["report_id", "issuer", "year", "template"]
MAX_NAMED_ISSUERS = 5000  # past this, warehouse_reports reads whole years (one scan beats a huge IN list)


def warehouse_reports(db: Path, wanted: pd.DataFrame) -> pd.DataFrame:
    """Published reports of the wanted (issuer, year) pairs: KEYS + CODES columns. Empty when there is no
    warehouse yet. The warehouse is etl.warehouse's (DuckDB at `db`, or PostgreSQL when configured), read-only."""
    from etl.warehouse import connect, resolve

    out = pd.DataFrame(columns=[*KEYS, *CODES])
    target = resolve(db)
    if wanted.empty or (target.duckdb_path is not None and not target.duckdb_path.exists()):
        return out
    wh = connect(target, read_only=True)
    try:
        if not {"dim_report", "fact_cell"} <= set(wh.tables()):
            return out
        years = sorted({int(y) for y in wanted["year"]})
        issuers = sorted(set(wanted["issuer"]))
        # an incremental run's few issuers are named in the query, so it reads their last year only, not a
        # whole year of the warehouse (150,000 reports); a run of many reads the years and filters below
        by_issuer = len(issuers) <= MAX_NAMED_ISSUERS
        named = f" AND r.issuer IN ({', '.join('?' * len(issuers))})" if by_issuer else ""
        rows = wh.fetchall(
            "SELECT r.report_id, r.issuer, r.year, r.template, c.code, c.value "
            "FROM dim_report r JOIN fact_cell c ON c.report_id = r.report_id "
            f"WHERE r.year IN ({', '.join('?' * len(years))}) AND c.code IN ({', '.join('?' * len(CODES))})"
            + named,
            [*years, *CODES, *(issuers if by_issuer else ())],
        )
    finally:
        wh.close()
    long = pd.DataFrame(rows, columns=[*KEYS, "code", "value"])
    keep = pd.MultiIndex.from_frame(long[["issuer", "year"]]).isin(
        pd.MultiIndex.from_frame(wanted[["issuer", "year"]].astype({"year": "int64"}))
    )
    long = long[keep].astype({"year": "int64", "value": "float64"})
    if long.empty:
        return out
    wide = long.pivot(index=KEYS, columns="code", values="value")
    return wide.reindex(columns=list(CODES)).reset_index().rename_axis(columns=None)


def pair_frame(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Each current report with its issuer's previous-year report, the latter's cells prefixed PREV.

    current / previous: KEYS + CODES columns; previous holds at most one report per issuer-year.
    Returns report_id, prev_report_id, prev_year, THIS_CODES, PREV + PREV_CODES: reports with a previous only.
    """
    if previous.duplicated(["issuer", "year"]).any():
        raise ValueError("previous reports: more than one per issuer-year")
    last = previous[[*KEYS, *PREV_CODES]].rename(columns={c: PREV + c for c in [*KEYS, *PREV_CODES]})
    this = current[[*KEYS, *THIS_CODES]].assign(**{f"{PREV}year": current["year"] - 1})
    pairs = this.dropna(subset=["issuer"]).merge(
        last, left_on=["issuer", f"{PREV}year"], right_on=[f"{PREV}issuer", f"{PREV}year"], how="inner"
    )
    both_2021 = (pairs["template"] == "2021") & (pairs[f"{PREV}template"] == "2021")
    for row in IN_FORCE_ROWS:  # the 2019 template has no 现行有效 column
        pairs.loc[~both_2021, f"{PREV}t2.{row}.in_force"] = float("nan")
    pairs = pairs.rename(columns={f"{PREV}report_id": "prev_report_id", f"{PREV}year": "prev_year"})
    return pairs[["report_id", "prev_report_id", "prev_year", *THIS_CODES, *(PREV + c for c in PREV_CODES)]]


def validate_pairs(pairs: pd.DataFrame, runs: list[SuiteRun] | None = None) -> pd.DataFrame:
    """Cross-year failures (FAILURE_COLUMNS), one GE run over all pairs; messages name last year's report."""
    if pairs.empty:
        return empty()
    data = checked_input(pairs, [*THIS_CODES, *(PREV + c for c in PREV_CODES)])
    failures = run_suite(data, load_suite(CROSSYEAR), runs, CROSSYEAR)
    if failures.empty:
        return failures
    prev = pairs.set_index("report_id").loc[failures["report_id"]]
    note = (
        " (last year: report "
        + prev["prev_report_id"].astype(str)
        + ", "
        + prev["prev_year"].astype(str)
        + ")"
    )
    failures["message"] = failures["message"] + note.to_numpy()
    return failures


def validate_crossyear(
    current: pd.DataFrame,
    previous_staged: pd.DataFrame,
    warehouse: Path | None,
    runs: list[SuiteRun] | None = None,
) -> pd.DataFrame:
    """current: this run's reports (KEYS + CODES); previous_staged: those the loader keeps (one per issuer-
    year). Last year's report comes from previous_staged, else from the warehouse."""
    wanted = current.dropna(subset=["issuer"]).assign(year=lambda d: d["year"] - 1)[["issuer", "year"]]
    published = warehouse_reports(warehouse, wanted) if warehouse else pd.DataFrame(columns=[*KEYS, *CODES])
    staged_keys = set(zip(previous_staged["issuer"], previous_staged["year"], strict=True))
    published = published[
        [k not in staged_keys for k in zip(published["issuer"], published["year"], strict=True)]
    ]
    frames = [f for f in (previous_staged, published) if not f.empty]
    previous = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEYS, *CODES])
    return validate_pairs(pair_frame(current, previous), runs)
