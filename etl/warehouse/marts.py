"""Rebuild the marts (warehouse/marts.sql) in one transaction, and read them back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.warehouse import Target, connect, resolve

MART_TABLES = ("mart_report", "mart_reconciliation", "mart_province_year", "mart_agency_year")
BI_VIEWS = ("bi_province_year", "bi_agency_year", "bi_reconciliation", "bi_report")


def build_marts(db_path: Path | str | Target) -> dict:
    """Drop and recreate every mart and BI view; readers see the old marts or the new ones. The meta row
    `marts_after_run` names the last publishing run the marts include (see marts_fresh)."""
    with connect(resolve(db_path)) as wh:
        with wh.transaction():
            wh.run_script("marts.sql")
            wh.execute("DELETE FROM meta WHERE key = 'marts_after_run'")
            wh.execute(
                "INSERT INTO meta (key, value) SELECT 'marts_after_run', run_id FROM run_log "
                "ORDER BY finished_at DESC, run_id DESC LIMIT 1"
            )
        counts = {t: wh.fetchall(f"SELECT count(*) FROM {t}")[0][0] for t in MART_TABLES}
    return {
        "mart_province_year_rows": counts["mart_province_year"],
        **{f"{t}_rows": n for t, n in counts.items() if t != "mart_province_year"},
    }


def marts_fresh(db_path: Path | str | Target) -> bool:
    """The marts were built after the last publish (a run that failed between its publish and its marts,
    e.g. on a full disk, leaves them stale: the next run rebuilds them even when it publishes nothing)."""
    target = resolve(db_path)
    if target.duckdb_path is not None and not target.duckdb_path.exists():
        return False
    with connect(target, read_only=True) as wh:
        if not {"meta", "run_log"} <= set(wh.tables()):
            return False
        last = wh.fetchone("SELECT run_id FROM run_log ORDER BY finished_at DESC, run_id DESC LIMIT 1")
        built = wh.fetchone("SELECT value FROM meta WHERE key = 'marts_after_run'")
    return last is not None and built is not None and built[0] == last[0]


def _sort_key(row: dict[str, Any], keys: tuple[str, ...]) -> tuple:
    # sorted here, not in SQL: DuckDB and PostgreSQL collate Chinese text differently
    return tuple((row[k] is None, row[k] if row[k] is not None else 0) for k in keys)


def mart_rows(
    db_path: Path | str | Target,
    table: str = "mart_province_year",
    order: tuple[str, ...] = ("province", "year"),
) -> list[dict[str, Any]]:
    """A mart's rows as plain dicts (JSON-ready), ordered by code point of `order`'s columns."""
    if table not in (*MART_TABLES, *BI_VIEWS):
        raise ValueError(f"not a mart: {table}")
    with connect(resolve(db_path), read_only=True) as wh:
        rows = wh.fetch_dicts(f"SELECT * FROM {table}")
    return sorted(rows, key=lambda r: _sort_key(r, order))
