"""Rebuild: republish report years from the parse cache, one DAG run per report year.  Wiring only.

rebuild_conf -> republish (runs ``annual_reports`` with years=[report year], rebuild=True, and waits for it)

**Report year** = the run's logical date's year (Beijing time).  **Schedule**
(etl/orchestration/schedule.py): yearly, data interval 1 April Y to 1 April Y+1, so report year Y is rebuilt
once from scratch on 1 April of Y+1, after its filing season.  **Any range of years**: a backfill, one run per
year, each idempotent (the same landing area and parse cache publish the same partitions)::

    airflow backfill create --dag-id annual_reports_rebuild --from-date 2021-01-01 --to-date 2022-12-31
    airflow backfill create ... --reprocess-behavior completed   # again, over runs that already succeeded

The DAG must be unpaused for its backfill runs to start (unpausing also schedules the last completed year).
**Why a trigger** and not a copy of the ingest tasks: every run that plans against the published ledger and
publishes goes through ``annual_reports``, whose ``max_active_runs=1`` keeps them one at a time (a sweep and
two backfilled years queue there).  Its load then refreshes the marts through the facts asset.
**Params**: ``landing``, ``workdir`` as in ``annual_reports``; ``years`` names the report years instead of
the logical date's (a manual run).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag

from etl.orchestration import defaults, params, schedule, tasks


@dag(
    dag_id="annual_reports_rebuild",
    description="Annual reports: republish one report year (backfill a range of years)",
    schedule=schedule.yearly_rebuild(),
    start_date=pendulum.datetime(2019, 4, 1, 3, tz=defaults.TIMEZONE),  # report year 2019: the current form
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=13),
    default_args=defaults.DEFAULT_ARGS,
    tags=[*defaults.TAGS, "rebuild"],
    params={"landing": params.landing(), "workdir": params.workdir(), "years": params.years()},
    doc_md=__doc__,
)
def annual_reports_rebuild():
    tasks.republish(tasks.rebuild_conf())


annual_reports_rebuild()
