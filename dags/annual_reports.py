"""Airflow DAG for the annual-report ETL: a thin shell over ``etl.pipeline``.

fetch -> extract -> parse (mapped, one task per batch) -> transform -> validate -> load -> marts -> summary

Rules this file keeps (tests/test_dag.py checks them):

* It imports only ``airflow.sdk``, pendulum and the standard library.  ``etl.pipeline`` (pandas, Great
  Expectations, DuckDB, ...) is imported inside each task, so parsing this file stays fast and cheap for
  the DAG processor.
* Only paths and small dicts go through XCom; the data stays in files under the run directory.
* The Airflow run id, made filesystem-safe, is the pipeline run id: one run directory per DAG run.

Schedule: the landing area is a folder that reports are dropped into at any time, not a stream cut into
intervals, and every run processes what is in it (the pipeline dedupes by content hash).  So the DAG sweeps
it once a day (``@daily``, Beijing time) with ``catchup=False``: back-filling missed days would only process
the same folder again.  ``max_active_runs=1`` because the warehouse is one writer at a time (DuckDB file).
Trigger it by hand (or ``airflow dags test``) to process a fresh drop immediately.

Params (``airflow dags test annual_reports -c '{"landing": "/path"}'`` or the trigger form):
``landing`` and ``workdir`` override ETL_LANDING_DIR / ETL_WORKDIR; when empty, ``etl.config`` decides
(the environment, then the project defaults ``sample/landing`` and ``var``).  ``fetch_manifest`` (else
ETL_FETCH_MANIFEST) makes the head task fetch that URL manifest into the landing folder first; without one
the fetch task does nothing.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, RetryDecision, RetryPolicy, dag, get_current_context, task

log = logging.getLogger("annual_reports")

DAG_ID = "annual_reports"


class FailFastOnDeterministicErrors(RetryPolicy):
    """Fail at once on an error that fails the same way on every try; anything else gets the normal retries.

    Deterministic: a bug (TypeError, KeyError, ...), a bad value (ValueError, pyarrow's ArrowInvalid, ...),
    and the DB-API errors that mean the SQL or the data is wrong (ProgrammingError, DataError, ...: DuckDB's
    BinderException or CatalogException, say, after a warehouse schema change).  Retried: I/O, a locked
    warehouse file (DuckDB's IOException is an OperationalError), a killed worker, anything unknown.
    DB-API classes are matched by name so that parsing this file imports no database driver.
    """

    BUILTIN = (
        ImportError,
        SyntaxError,
        TypeError,
        ValueError,
        LookupError,
        AttributeError,
        AssertionError,
        NotImplementedError,
    )
    DBAPI = frozenset({"ProgrammingError", "DataError", "IntegrityError", "NotSupportedError"})
    # the pipeline's own deterministic failures (a ledger that does not add up, a failed warehouse audit)
    PIPELINE = frozenset({"LedgerError", "AuditError", "CorrectionsError", "SchemaMismatch"})

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        if isinstance(exception, self.BUILTIN) or any(
            (cls.__name__ in self.DBAPI and cls.__module__ != "builtins")
            or (cls.__name__ in self.PIPELINE and cls.__module__.startswith("etl."))
            for cls in type(exception).__mro__
        ):
            return RetryDecision.fail(f"{type(exception).__name__} fails the same way on every try")
        return RetryDecision.default()


DEFAULT_ARGS = {
    "owner": "data-eng",
    "depends_on_past": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "retry_policy": FailFastOnDeterministicErrors(),
    "execution_timeout": timedelta(hours=2),
}


def _opt(value: object) -> str | None:
    """A param left empty means: let etl.config decide (environment, then project default)."""
    return str(value) if value not in (None, "") else None


@dag(
    dag_id=DAG_ID,
    description="Government information-disclosure annual reports: landing -> warehouse -> marts",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=DEFAULT_ARGS,
    tags=["etl", "annual-reports"],
    params={
        "landing": Param(
            None,
            type=["null", "string"],
            description="Landing folder to scan; empty: ETL_LANDING_DIR or <project>/sample/landing",
        ),
        "workdir": Param(
            None,
            type=["null", "string"],
            description="Work folder (runs/, warehouse.duckdb); empty: ETL_WORKDIR or <project>/var",
        ),
        "fetch_manifest": Param(
            None,
            type=["null", "string"],
            description="URL manifest (CSV/JSONL) to fetch into the landing folder first; empty: ETL_FETCH_MANIFEST or none",
        ),
    },
    doc_md=__doc__,
)
def annual_reports():
    @task
    def fetch(params: dict | None = None) -> dict:
        """Reports from the web into the landing folder, when a manifest is configured (else a no-op)."""
        from etl.fetch.run import dag_task

        return dag_task(params)

    @task
    def extract(params: dict | None = None, run_id: str | None = None, ti=None) -> list[str]:
        """Returns the batch paths (what ``parse`` maps over); run_dir, run_id and n_files go to their own XComs.

        (Airflow maps only over a task's return value, not over one key of a returned dict.)
        """
        from etl import pipeline

        params = params or {}
        result = pipeline.extract(
            run_id or "manual",  # made a safe folder name by the pipeline
            landing=_opt(params.get("landing")),
            workdir=_opt(params.get("workdir")),
        )
        log.info(
            "run %s: %d files in %d batches, run dir %s",
            result["run_id"],
            result["n_files"],
            len(result["batches"]),
            result["run_dir"],
        )
        for key in ("run_id", "run_dir", "n_files"):
            ti.xcom_push(key=key, value=result[key])
        return list(result["batches"])

    @task(map_index_template="{{ batch_name }}")
    def parse(batch_path: str) -> str:
        from etl import pipeline

        # Names the mapped task instance after its batch in the UI and logs (instead of 0, 1, 2, ...).
        get_current_context()["batch_name"] = os.path.basename(batch_path)
        return pipeline.parse_batch(batch_path)

    # An empty landing area maps parse over no batch, which skips it: transform still runs (on no parsed
    # output) so the run ends with a summary instead of a row of skipped tasks.
    @task(trigger_rule="none_failed")
    def transform(run_dir: str, parsed_paths: list[str]) -> str:
        from etl import pipeline

        # A slice fetches all mapped results in one request (iterating probes one past the end).
        return pipeline.transform(run_dir, list(parsed_paths[:]) if parsed_paths else [])

    @task(multiple_outputs=False)
    def validate(run_dir: str) -> dict:
        from etl import pipeline

        return pipeline.validate(run_dir)

    @task(multiple_outputs=False)
    def load(run_dir: str) -> dict:
        from etl import pipeline

        return pipeline.load(run_dir)

    @task(multiple_outputs=False)
    def marts(run_dir: str) -> dict:
        from etl import pipeline

        return pipeline.build_marts(run_dir)

    @task(multiple_outputs=False)
    def summary(run_dir: str) -> dict:
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
        # XCom keeps the counts only: the full summary (file lists, mart rows) stays in the run dir.
        return {"run_dir": run_dir, "counts": counts}

    batches = extract()
    fetch() >> batches
    run_dir = batches["run_dir"]  # the XCom extract pushed under that key
    parsed = parse.expand(batch_path=batches)
    staged = transform(run_dir, parsed)
    validated = validate(run_dir)
    loaded = load(run_dir)
    built = marts(run_dir)
    summarized = summary(run_dir)
    staged >> validated >> loaded >> built >> summarized


annual_reports()
