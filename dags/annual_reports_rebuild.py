"""Rebuild: republish report years from the parse cache, one DAG run per report year.  Wiring only.

extract (years=[report year], rebuild=True) -> parse (mapped) -> transform -> validate -> load

**Report year** = the run's logical date's year (Beijing time).  **Schedule**
(etl/orchestration/schedule.py): yearly, data interval 1 April Y to 1 April Y+1, so report year Y is rebuilt
once from scratch on 1 April of Y+1, after its filing season.  **Any range of years**: a backfill, one run per
year, each idempotent (the same landing and parse cache publish the same partitions)::

    airflow backfill create --dag-id annual_reports_rebuild --from-date 2021-01-01 --to-date 2022-12-31
    airflow backfill create ... --reprocess-behavior completed   # again, over runs that already succeeded

The DAG must be unpaused for its backfill runs to start (unpausing also schedules the last completed year).
A load that published something records an event on the ``annual_reports_facts`` asset, which refreshes the
marts (``annual_reports_warehouse``).  **Params**: ``landing``, ``workdir`` as in ``annual_reports``;
``years`` (a manual run without a logical date) names the report years instead.
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
    dagrun_timeout=timedelta(hours=6),
    default_args=defaults.DEFAULT_ARGS,
    tags=[*defaults.TAGS, "rebuild"],
    params={"landing": params.landing(), "workdir": params.workdir(), "years": params.years()},
    doc_md=__doc__,
)
def annual_reports_rebuild():
    batches = tasks.extract_report_year()
    run_dir = batches["run_dir"]
    parsed = tasks.parse.expand(batch_path=batches)
    staged = tasks.transform(run_dir, parsed)
    staged >> tasks.validate(run_dir) >> tasks.load(run_dir)


annual_reports_rebuild()
