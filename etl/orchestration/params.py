"""The DAG params: a trigger (UI form, `airflow dags trigger -c`, `airflow dags test -c`) may set them.

Empty means: let etl.config decide (the environment, then the project defaults)."""

from __future__ import annotations

from airflow.sdk import Param


def landing() -> Param:
    return Param(
        None,
        type=["null", "string"],
        description="Landing folder to scan; empty: ETL_LANDING_DIR or <project>/sample/landing",
    )


def workdir() -> Param:
    return Param(
        None,
        type=["null", "string"],
        description="Work folder (runs/, store/, warehouse.duckdb, alerts.jsonl); empty: ETL_WORKDIR or <project>/var",
    )


def fetch_manifest() -> Param:
    return Param(
        None,
        type=["null", "string"],
        description="URL manifest (CSV/JSONL) to fetch into the landing folder first; empty: ETL_FETCH_MANIFEST or none",
    )


def years() -> Param:
    return Param(
        None,
        type=["null", "array"],
        items={"type": "integer", "minimum": 2000, "maximum": 2100},
        description="Report years to republish (with rebuild); empty: every year the landing area changes",
    )


def rebuild() -> Param:
    return Param(
        False,
        type="boolean",
        description="Republish the years (all years when none are named) even when nothing changed",
    )
