"""Warehouse: the marts and the dashboard, rebuilt when the facts change.  Wiring only.

marts -> summary

**Schedule**: the ``annual_reports_facts`` asset.  A load (ingest or rebuild DAG) that published something
records an event on it, and this DAG runs after it: BI refreshes follow data, not clocks.  Several events
that queue up while a run is busy make one run.  The marts task runs in the one-slot ``warehouse`` pool and
updates the ``annual_reports_marts`` asset (a BI extract DAG can be scheduled on that).

**Summary**: of the run whose publish triggered this one (a manual run: the workdir's last run); it is the
summary task's note (with ``ETL_AIRFLOW_API_URL``) and its log.  ``make run`` runs this DAG right after the
ingest DAG with ``airflow dags test``, where no scheduler turns asset events into runs.

**Params**: ``workdir`` (a manual run: whose last run to summarize; else ETL_WORKDIR).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag

from etl.orchestration import assets, defaults, params, tasks


@dag(
    dag_id="annual_reports_warehouse",
    description="Annual-reports marts and dashboard, refreshed when the warehouse facts change",
    schedule=[assets.FACTS],
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=defaults.DEFAULT_ARGS,
    tags=[*defaults.TAGS, "warehouse"],
    params={"workdir": params.workdir()},
    doc_md=__doc__,
)
def annual_reports_warehouse():
    built = tasks.marts()
    tasks.summary(built["run_dir"])  # the XCom marts pushed under that key


annual_reports_warehouse()
