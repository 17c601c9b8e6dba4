"""Load: write-audit-publish into the warehouse, replacing exactly the year partitions a run brings.

Write: the run's staging Parquet and its ledger go into temporary staging tables. Audit: blocking checks run
on staging. Publish: one transaction deletes the affected partitions and inserts the new ones, so readers
see the old warehouse or the new one, never a half-load; a failed audit or a crash publishes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from etl import spec
from etl.config import PARSER_VERSION, PROJECT_ROOT
from etl.outcomes import Outcome

WAREHOUSE_SQL = PROJECT_ROOT / "warehouse"
PARTITIONED = ("dim_report", "fact_cell", "quarantine", "quarantine_cell", "report_warning")


class AuditError(RuntimeError):
    """A blocking check failed on staging: nothing was published."""


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    con.execute((WAREHOUSE_SQL / "schema.sql").read_text(encoding="utf-8"))
    return con


def _stage(con: duckdb.DuckDBPyConnection, staging: Path, failures: pd.DataFrame, ledger: pd.DataFrame) -> None:
    reports, cells = staging / "reports", staging / "cells"
    if any(reports.rglob("*.parquet")):
        con.execute(f"CREATE TEMP TABLE stg_report AS SELECT * FROM read_parquet('{reports}/*/*.parquet', hive_partitioning=true)")
        con.execute(f"CREATE TEMP TABLE stg_cell AS SELECT * FROM read_parquet('{cells}/*/*.parquet', hive_partitioning=true)")
    else:  # a run that parsed nothing still publishes its ledger
        con.execute("CREATE TEMP TABLE stg_report AS SELECT * EXCLUDE (run_id) FROM dim_report LIMIT 0")
        con.execute("CREATE TEMP TABLE stg_cell AS SELECT * FROM fact_cell LIMIT 0")
    con.register("failures_df", failures)
    con.execute("CREATE TEMP TABLE stg_failure AS SELECT * FROM failures_df")
    con.register("ledger_df", ledger)
    con.execute("CREATE TEMP TABLE stg_outcome AS SELECT * FROM ledger_df")


def _audit(con: duckdb.DuckDBPyConnection) -> None:
    n_cells = {t: len(spec.codes(t)) for t in spec.TEMPLATES}
    checks = {
        "every parsed report has an outcome": """
            SELECT count(*) FROM stg_report r LEFT JOIN stg_outcome o USING (report_id) WHERE o.report_id IS NULL""",
        "report ids are unique": "SELECT count(*) - count(DISTINCT report_id) FROM stg_report",
        "each issuer-year is loaded once": """
            SELECT count(*) FROM (SELECT r.issuer, r.year FROM stg_report r JOIN stg_outcome o USING (report_id)
                                  WHERE o.status = 'loaded' AND r.issuer IS NOT NULL
                                  GROUP BY 1, 2 HAVING count(*) > 1)""",
        "every report has all cells of its template": f"""
            SELECT count(*) FROM (SELECT r.report_id, r.template, count(c.code) AS n FROM stg_report r
                                  LEFT JOIN stg_cell c USING (report_id) GROUP BY 1, 2)
            WHERE n <> CASE template WHEN '2021' THEN {n_cells["2021"]} ELSE {n_cells["2019"]} END""",
        "no quarantined report is loaded": """
            SELECT count(*) FROM stg_outcome o JOIN stg_failure f USING (report_id)
            WHERE o.status = 'loaded' AND f.severity = 'blocking'""",
        "every file has exactly one outcome": "SELECT count(*) - count(DISTINCT source_file) FROM stg_outcome",
    }
    broken = [name for name, sql in checks.items() if con.execute(sql).fetchone()[0] != 0]
    if broken:
        raise AuditError("audit failed, nothing published: " + "; ".join(broken))


def _publish(con: duckdb.DuckDBPyConnection, run_id: str, counts: dict, suite_version: str) -> list[int]:
    years = [r[0] for r in con.execute(
        "SELECT DISTINCT year FROM stg_report UNION SELECT DISTINCT year FROM stg_outcome WHERE year IS NOT NULL ORDER BY 1"
    ).fetchall()]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE TEMP TABLE stg_years AS SELECT unnest(?::INTEGER[]) AS year", [years])
        for table in PARTITIONED:
            con.execute(f"DELETE FROM {table} WHERE year IN (SELECT year FROM stg_years)")
        con.execute("DELETE FROM dim_report WHERE report_id IN (SELECT report_id FROM stg_report)")
        con.execute("DELETE FROM fact_cell WHERE report_id IN (SELECT report_id FROM stg_report)")
        con.execute("""
            INSERT INTO dim_report BY NAME
            SELECT r.*, ? AS run_id FROM stg_report r JOIN stg_outcome o USING (report_id) WHERE o.status = 'loaded'
        """, [run_id])
        con.execute("""
            INSERT INTO fact_cell BY NAME
            SELECT c.* FROM stg_cell c JOIN stg_outcome o USING (report_id) WHERE o.status = 'loaded'
        """)
        con.execute("""
            INSERT INTO quarantine BY NAME
            SELECT f.report_id, o.year, o.source_file, f.rule_id, f.severity, f.cells, f.expected, f.found,
                   f.message, ? AS run_id
            FROM stg_failure f JOIN stg_outcome o USING (report_id)
            WHERE o.status = 'quarantined' AND f.severity = 'blocking'
        """, [run_id])
        con.execute("""
            INSERT INTO report_warning BY NAME
            SELECT f.report_id, o.year, o.source_file, f.rule_id, f.cells, f.expected, f.found, f.message,
                   ? AS run_id
            FROM stg_failure f JOIN stg_outcome o USING (report_id)
            WHERE o.status IN ('loaded', 'quarantined') AND f.severity <> 'blocking'
        """, [run_id])
        con.execute("""
            INSERT INTO quarantine_cell BY NAME
            SELECT c.* FROM stg_cell c JOIN stg_outcome o USING (report_id) WHERE o.status = 'quarantined'
        """)
        # the ledger describes the landing snapshot as a whole: replaced, not appended
        con.execute("DELETE FROM file_outcome")
        con.execute("INSERT INTO file_outcome BY NAME SELECT *, ? AS run_id FROM stg_outcome", [run_id])
        con.execute(
            "INSERT INTO run_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, datetime.now(UTC).replace(tzinfo=None), counts["files"], counts["loaded"],
             counts["quarantined"], counts["rejected"], counts["duplicate"], json.dumps(years),
             PARSER_VERSION, suite_version],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return years


def load_run(db_path: Path, staging: Path, failures: pd.DataFrame, outcomes: list[Outcome], run_id: str,
             suite_version: str) -> dict:
    ledger = pd.DataFrame([o.to_dict() for o in outcomes], columns=list(Outcome.__dataclass_fields__))
    ledger["year"] = ledger["year"].astype("Int32")
    counts = {"files": len(outcomes)} | {s: int((ledger["status"] == s).sum())
                                          for s in ("loaded", "quarantined", "rejected", "duplicate")}
    con = connect(db_path)
    try:
        _stage(con, staging, failures, ledger)
        _audit(con)
        years = _publish(con, run_id, counts, suite_version)
    finally:
        con.close()
    return {"years": years, **counts}


def build_marts(db_path: Path) -> dict:
    con = connect(db_path)
    try:
        con.execute((WAREHOUSE_SQL / "marts.sql").read_text(encoding="utf-8"))
        n = con.execute("SELECT count(*) FROM mart_province_year").fetchone()[0]
    finally:
        con.close()
    return {"mart_province_year_rows": n}


def mart_rows(db_path: Path) -> list[dict]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        df = con.execute("SELECT * FROM mart_province_year ORDER BY province, year").df()
    finally:
        con.close()
    return json.loads(df.to_json(orient="records", force_ascii=False))
