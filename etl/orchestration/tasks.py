"""Every task of the project's DAGs: thin calls into etl.pipeline.

Each body imports etl.pipeline (pandas, Great Expectations, DuckDB, ...) when it runs, never at import, so
the DAG files that import this module parse fast.  Only paths and small dicts go through XCom; the data
stays in files under the run directory.  The Airflow run id, made filesystem-safe by the pipeline, is the
pipeline run id: one run directory per DAG run.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from typing import Any

from airflow.sdk import get_current_context, task

from etl.orchestration.assets import FACTS, FACTS_CHANGES, MARTS
from etl.orchestration.defaults import WAREHOUSE_POOL
from etl.orchestration.notes import counts_note, set_note, summary_note
from etl.orchestration.schedule import report_year

log = logging.getLogger("annual_reports")

INGEST_DAG_ID = "annual_reports"


def _opt(value: object) -> str | None:
    """A param left empty means: let etl.config decide (environment, then project default)."""
    return str(value) if value not in (None, "") else None


def rebuild_kwargs(years: Any = None, rebuild: Any = False) -> dict[str, Any]:
    """extract()'s partition arguments, only those that are set: unset, extract keeps its own defaults."""
    kwargs: dict[str, Any] = {}
    if years:
        kwargs["years"] = sorted({int(y) for y in years})
    if rebuild:
        kwargs["rebuild"] = True
    return kwargs


def _plan(params: dict, run_id: str | None, ti, **partitions: Any) -> list[str]:
    """Extract; returns the batch paths (what parse maps over); run_dir, run_id and n_files go to their own
    XComs (Airflow maps only over a task's return value, not over one key of a returned dict)."""
    from etl import pipeline

    result = pipeline.extract(
        run_id or "manual",  # made a safe folder name by the pipeline
        landing=_opt(params.get("landing")),
        workdir=_opt(params.get("workdir")),
        **partitions,
    )
    log.info(
        "run %s: %d files in %d batches, run dir %s%s",
        result["run_id"],
        result["n_files"],
        len(result["batches"]),
        result["run_dir"],
        f", rebuilding {partitions}" if partitions else "",
    )
    for key in ("run_id", "run_dir", "n_files"):
        ti.xcom_push(key=key, value=result[key])
    return list(result["batches"])


# -- ingest and rebuild ---------------------------------------------------------------------------------


@task
def fetch(params: dict | None = None) -> dict:
    """Reports from the web into the landing folder, when a manifest is configured (else a no-op)."""
    from etl.fetch.run import dag_task

    return dag_task(params)


@task
def extract(params: dict | None = None, run_id: str | None = None, ti=None) -> list[str]:
    """The sweep: everything new or changed in the landing area (and the `years`/`rebuild` params)."""
    params = params or {}
    return _plan(params, run_id, ti, **rebuild_kwargs(params.get("years"), params.get("rebuild")))


@task
def rebuild_conf(params: dict | None = None, logical_date=None) -> dict:
    """A rebuild run's order to the ingest DAG: republish its report year (the logical date's year, or the
    years the `years` param names), from the same landing area into the same workdir."""
    params = params or {}
    years = params.get("years") or ([report_year(logical_date)] if logical_date else None)
    if not years:
        raise ValueError("a rebuild run names its report years: give it a logical date or the years param")
    conf: dict[str, Any] = rebuild_kwargs(years, rebuild=True)
    conf.update({k: params[k] for k in ("landing", "workdir") if _opt(params.get(k))})
    return conf


def republish(conf) -> Any:
    """Run the ingest DAG with `conf` and wait for it.  Rebuilds go through the ingest DAG, not a copy of
    its tasks: its max_active_runs=1 is what keeps two runs from planning against the same published ledger
    at once (a sweep, a backfill of several years, a manual rebuild all queue there, one at a time)."""
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    return TriggerDagRunOperator(
        task_id="republish",
        trigger_dag_id=INGEST_DAG_ID,
        conf=conf,
        wait_for_completion=True,
        poke_interval=10,
        allowed_states=["success"],
        failed_states=["failed"],
        # a run of a big year takes hours: the default 2 h timeout would fail a rebuild that is on its way
        execution_timeout=timedelta(hours=12),
    )


@task(map_index_template="{{ batch_name }}")
def parse(batch_path: str) -> str:
    from etl import pipeline

    # Names the mapped task instance after its batch in the UI and logs (instead of 0, 1, 2, ...).
    get_current_context()["batch_name"] = os.path.basename(batch_path)
    return pipeline.parse_batch(batch_path)


# An empty landing area (or a sweep with nothing new) maps parse over no batch, which skips it: transform
# still runs, on the parse cache, so the run ends in a ledger instead of a row of skipped tasks.
@task(trigger_rule="none_failed")
def transform(run_dir: str, parsed_paths: list[str]) -> str:
    from etl import pipeline

    # A slice fetches all mapped results in one request (iterating probes one past the end).
    return pipeline.transform(run_dir, list(parsed_paths[:]) if parsed_paths else [])


@task(multiple_outputs=False)
def validate(run_dir: str) -> dict:
    from etl import pipeline

    return pipeline.validate(run_dir)


@task(multiple_outputs=False, pool=WAREHOUSE_POOL, outlets=[FACTS_CHANGES])
def load(run_dir: str, ti=None, outlet_events=None) -> dict:
    """Publish into the warehouse; when the publish changed it, an event on the FACTS asset (its extra names
    the run) schedules the warehouse DAG.  A run that published nothing triggers nothing."""
    from etl import pipeline

    result = pipeline.load(run_dir)
    if result.get("published", True):
        outlet_events[FACTS_CHANGES].add(
            FACTS, extra={"run_dir": run_dir, "years": result.get("years") or []}
        )
    set_note(ti, counts_note(result))
    return result


# -- warehouse ------------------------------------------------------------------------------------------


def _latest_fed_run(triggering_asset_events, params: dict) -> str:
    """The run directory whose publish triggered this run (the newest, when several queued up); a manual
    run (`airflow dags test`, the UI) takes the workdir's last run."""
    events = []
    if triggering_asset_events:
        try:
            events = list(triggering_asset_events[FACTS])
        except KeyError:
            events = []
    fed = [e for e in events if (e.extra or {}).get("run_dir")]
    if fed:
        return str(max(fed, key=lambda e: e.timestamp).extra["run_dir"])
    from pathlib import Path

    from etl import pipeline
    from etl.config import load_settings

    workdir = _opt(params.get("workdir"))
    settings = load_settings(workdir=Path(workdir) if workdir else None)
    run = pipeline.latest_run_dir(settings.workdir)
    if run is None:
        raise FileNotFoundError(f"no published run under {settings.workdir}: run the ingest DAG first")
    return str(run)


@task(multiple_outputs=False, pool=WAREHOUSE_POOL, outlets=[MARTS])
def marts(params: dict | None = None, ti=None, triggering_asset_events=None) -> dict:
    """Rebuild the marts and the dashboard from the warehouse facts; run_dir goes to its own XCom."""
    from etl import pipeline

    run_dir = _latest_fed_run(triggering_asset_events, params or {})
    ti.xcom_push(key="run_dir", value=run_dir)
    return pipeline.build_marts(run_dir)


@task(multiple_outputs=False)
def summary(run_dir: str, ti=None) -> dict:
    from etl import pipeline

    result = pipeline.summarize(run_dir)
    counts = result.get("counts", {})
    log.info("run summary counts: %s", json.dumps(counts, ensure_ascii=False, sort_keys=True))
    for name in ("quarantined", "rejected"):
        for file, why in sorted((result.get(name) or {}).items()):
            log.info("%s: %s (%s)", name, file, why)
    for file in result.get("duplicates") or []:
        log.info("duplicate: %s", file)
    for row in result.get("mart") or []:
        log.info("mart: %s", json.dumps(row, ensure_ascii=False, default=str))
    set_note(ti, summary_note(result))
    # XCom keeps the counts only: the full summary (file lists, mart rows) stays in the run dir.
    return {"run_dir": run_dir, "counts": counts}
