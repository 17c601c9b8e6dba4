"""Ingest: the landing area into the warehouse facts.  Wiring only; the tasks are in etl.orchestration.

fetch -> extract -> parse (mapped, one task per batch) -> transform -> validate -> load

**Schedule** (etl/orchestration/schedule.py): reports for a year are due by 31 January of the next, so the
landing area is swept daily from January to March and weekly (Mondays) from April to December, at 02:00
Beijing time.  A sweep processes whatever the landing area holds that the warehouse does not (new or changed
files only: the parse cache is keyed by content and parser version), so ``catchup=False``: a missed sweep
is covered by the next.  Trigger it by hand (or ``airflow dags test``) to process a fresh drop at once.

**Assets**: a load that published something records an event on the ``annual_reports_facts`` asset; the
``annual_reports_warehouse`` DAG is scheduled on it and rebuilds the marts and the dashboard.  **Pool**: load
(and marts) run in the one-slot ``warehouse`` pool: one writer at a time, across all DAGs.  **Failures**:
``<workdir>/alerts.jsonl``, an ``ALERT`` log line, ``ETL_ALERT_WEBHOOK_URL``.  **Notes**: load's note is the
run's ledger (with ``ETL_AIRFLOW_API_URL``).

**Params** (``airflow dags test annual_reports -c '{"landing": "/path"}'`` or the trigger form):
``landing`` and ``workdir`` override ETL_LANDING_DIR / ETL_WORKDIR; ``fetch_manifest`` (else
ETL_FETCH_MANIFEST) makes the head task fetch that URL manifest into the landing folder first;
``rebuild`` republishes the report ``years`` named (all years when none) even when nothing changed.  To
rebuild a range of years, backfill ``annual_reports_rebuild`` (one run per year, each a run of this DAG);
this DAG itself refuses backfills.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag

from etl.orchestration import defaults, params, schedule, tasks


@dag(
    dag_id="annual_reports",
    description="Government information-disclosure annual reports: landing -> warehouse facts",
    schedule=schedule.sweep(),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,  # one run at a time plans against the published ledger and publishes
    # Sweeps are not backfilled (each covers the whole landing area); a range of report years is rebuilt by
    # backfilling annual_reports_rebuild, whose runs trigger runs here (operator_triggered) that queue.
    allowed_run_types=["scheduled", "manual", "operator_triggered"],
    dagrun_timeout=timedelta(hours=6),
    default_args=defaults.DEFAULT_ARGS,
    tags=defaults.TAGS,
    params={
        "landing": params.landing(),
        "workdir": params.workdir(),
        "fetch_manifest": params.fetch_manifest(),
        "years": params.years(),
        "rebuild": params.rebuild(),
    },
    doc_md=__doc__,
)
def annual_reports():
    batches = tasks.extract()
    tasks.fetch() >> batches
    run_dir = batches["run_dir"]  # the XCom extract pushed under that key
    parsed = tasks.parse.expand(batch_path=batches)
    staged = tasks.transform(run_dir, parsed)
    staged >> tasks.validate(run_dir) >> tasks.load(run_dir)


annual_reports()
