"""The Airflow DAG: integrity, policy, and one real end-to-end run.

Everything that imports Airflow runs in a subprocess with its own AIRFLOW_HOME (Airflow configures logging
and its ORM on import, which must not leak into this pytest process or into ~/airflow).  The Airflow settings
come from etc/airflow.env, the same file the Makefile exports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT_ROOT / "dags"
DAG_FILE = DAGS_FOLDER / "annual_reports.py"
ENV_FILE = PROJECT_ROOT / "etc" / "airflow.env"
SEED = PROJECT_ROOT / "sample" / "landing" / "suichang-2021.txt"
DAG_ID = "annual_reports"

HEAVY_MODULES = ("pandas", "great_expectations", "duckdb", "pyarrow")
PIPELINE_CHAIN = ["fetch", "extract", "parse", "transform", "validate", "load", "marts", "summary"]
E2E_TIMEOUT = 900  # seconds; a run takes ~15 s here, a transient retry waits 5 min


def airflow_env(airflow_home: Path, **extra: str) -> dict[str, str]:
    """This environment minus inherited Airflow/ETL settings, plus etc/airflow.env with our AIRFLOW_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "ETL_"))}
    values = {"PROJECT_ROOT": str(PROJECT_ROOT)}
    for raw in ENV_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key.strip().isidentifier(), f"{ENV_FILE}: not NAME=value: {raw!r}"
        values[key.strip()] = string.Template(value.strip()).substitute(values)
    del values["PROJECT_ROOT"]
    values["AIRFLOW_HOME"] = str(airflow_home)
    env.update(values)
    env.update(extra)
    return env


def run_python(
    code: str, env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("airflow-home")


@pytest.fixture(scope="session")
def migrated_airflow_home(airflow_home: Path) -> Path:
    """One migrated SQLite metadata DB for the whole session (`airflow db migrate` takes ~3 s here)."""
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=airflow_env(airflow_home),
        cwd=airflow_home,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"airflow db migrate failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return airflow_home


# -- parse: fast, light ---------------------------------------------------------------------------------

PARSE_PROBE = """
    import importlib.util, json, sys, time

    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401  (the DAG processor has it loaded before it parses a file)
    t1 = time.perf_counter()
    spec = importlib.util.spec_from_file_location("annual_reports_dag", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    t2 = time.perf_counter()

    # The retry policy, on the kinds of errors a task can raise.
    ProgrammingError = type("ProgrammingError", (Exception,), {"__module__": "_duckdb"})
    BinderException = type("BinderException", (ProgrammingError,), {"__module__": "_duckdb"})
    OperationalError = type("OperationalError", (Exception,), {"__module__": "_duckdb"})
    LedgerError = type("LedgerError", (RuntimeError,), {"__module__": "etl.model"})
    policy = module.DEFAULT_ARGS["retry_policy"]
    errors = {
        "ValueError": ValueError("x"),
        "KeyError": KeyError("x"),
        "BinderException": BinderException("x"),
        "OSError": OSError("x"),
        "OperationalError": OperationalError("x"),
        "RuntimeError": RuntimeError("x"),
        "LedgerError": LedgerError("x"),
    }
    retry = {name: policy.evaluate(e, 1, 3).action.value for name, e in errors.items()}

    json.dump(
        {
            "retry": retry,
            "sdk_import_s": t1 - t0,
            "dag_parse_s": t2 - t1,
            "modules": sorted(sys.modules),
        },
        open(sys.argv[2], "w"),
    )
"""


@pytest.fixture(scope="module")
def parse_probe(airflow_home: Path, tmp_path_factory) -> dict:
    """Import the DAG file in a fresh interpreter: how long it takes and what it pulls in."""
    out = tmp_path_factory.mktemp("probe") / "parse.json"
    run_python(PARSE_PROBE, airflow_env(airflow_home), str(DAG_FILE), str(out))
    return json.loads(out.read_text())


def test_dag_file_parses_fast(parse_probe):
    print(
        f"airflow.sdk import {parse_probe['sdk_import_s']:.2f}s, DAG file {parse_probe['dag_parse_s']:.3f}s"
    )
    assert parse_probe["dag_parse_s"] < 2.0


def test_dag_file_imports_nothing_heavy(parse_probe):
    loaded = set(parse_probe["modules"])
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY_MODULES]
    assert not heavy, f"parsing the DAG file imported {sorted(heavy)[:10]}"
    etl = [m for m in loaded if m == "etl" or m.startswith("etl.")]
    assert not etl, f"parsing the DAG file imported the pipeline: {etl}; import it inside the tasks"


def test_retry_policy_fails_fast_only_on_deterministic_errors(parse_probe):
    assert parse_probe["retry"] == {
        "ValueError": "fail",
        "KeyError": "fail",
        "BinderException": "fail",  # DuckDB: the SQL does not fit the warehouse schema
        "OSError": "default",
        "OperationalError": "default",  # DuckDB: e.g. the warehouse file is locked
        "RuntimeError": "default",
        "LedgerError": "fail",  # the ledger does not account for every file: a bug
    }


# -- DagBag: integrity and policy -----------------------------------------------------------------------

DAGBAG_PROBE = """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1])
    dags = {}
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "fileloc": dag.fileloc,
            "tags": sorted(dag.tags),
            "owner": dag.owner,
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "params": sorted(dag.params.keys()),
            "tasks": {
                t.task_id: {
                    "owner": t.owner,
                    "retries": t.retries,
                    "retry_delay_s": t.retry_delay.total_seconds(),
                    "upstream": sorted(t.upstream_task_ids),
                    "downstream": sorted(t.downstream_task_ids),
                    "mapped": bool(t.is_mapped),
                    "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                }
                for t in dag.tasks
            },
        }
    json.dump(
        {
            "import_errors": bag.import_errors,
            "warnings": {k: [str(w) for w in v] for k, v in bag.captured_warnings.items()},
            "stats": [{"file": s.file, "duration_s": s.duration.total_seconds()} for s in bag.dagbag_stats],
            "dags": dags,
        },
        open(sys.argv[2], "w"),
    )
"""


@pytest.fixture(scope="module")
def dagbag(airflow_home: Path, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("probe") / "dagbag.json"
    run_python(DAGBAG_PROBE, airflow_env(airflow_home), str(DAGS_FOLDER), str(out))
    return json.loads(out.read_text())


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag["import_errors"] == {}
    assert dagbag["warnings"] == {}


def test_dag_loads(dagbag):
    assert DAG_ID in dagbag["dags"]
    assert Path(dagbag["dags"][DAG_ID]["fileloc"]) == DAG_FILE


def test_dagbag_parse_time(dagbag):
    for stat in dagbag["stats"]:
        assert stat["duration_s"] < 2.0, stat


def test_every_dag_has_tags_owner_and_retries(dagbag):
    for dag_id, dag in dagbag["dags"].items():
        assert dag["tags"], f"{dag_id} has no tags"
        for task_id, t in dag["tasks"].items():
            assert t["owner"] and t["owner"] != "airflow", f"{dag_id}.{task_id} has the default owner"
            assert t["retries"] >= 1, f"{dag_id}.{task_id} never retries"
            assert t["retry_delay_s"] > 0, f"{dag_id}.{task_id} retries without a delay"


def test_annual_reports_settings(dagbag):
    dag = dagbag["dags"][DAG_ID]
    assert {"etl", "annual-reports"} <= set(dag["tags"])
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1
    assert {"landing", "workdir", "fetch_manifest"} <= set(dag["params"])


def test_annual_reports_tasks_and_chain(dagbag):
    tasks = dagbag["dags"][DAG_ID]["tasks"]
    assert sorted(tasks) == sorted(PIPELINE_CHAIN)
    for before, after in zip(PIPELINE_CHAIN, PIPELINE_CHAIN[1:], strict=False):
        assert before in tasks[after]["upstream"], f"{before} -> {after} missing"
    assert tasks["fetch"]["upstream"] == []
    assert tasks["extract"]["upstream"] == ["fetch"]
    assert tasks["summary"]["downstream"] == []
    # Only extract and the task right before feed a stage: no stage starts before the previous one ends.
    assert tasks["parse"]["upstream"] == ["extract"]
    assert tasks["transform"]["upstream"] == ["extract", "parse"]
    for before, after in zip(PIPELINE_CHAIN[3:], PIPELINE_CHAIN[4:], strict=False):
        assert tasks[after]["upstream"] == sorted({"extract", before}), after


def test_parse_is_mapped_over_batches(dagbag):
    tasks = dagbag["dags"][DAG_ID]["tasks"]
    assert tasks["parse"]["mapped"] is True
    assert [t for t, v in tasks.items() if v["mapped"]] == ["parse"]
    # An empty landing area maps parse over nothing (skipped); transform must still run.
    assert tasks["transform"]["trigger_rule"] == "none_failed"


# -- one real run --------------------------------------------------------------------------------------


def _named(items, name: str) -> bool:
    return any(Path(str(item)).name == name for item in items)


def dags_test(env: dict[str, str], conf: str, tmp_path: Path) -> str:
    """`airflow dags test` of the DAG with this conf; its log (also in tmp_path/dags-test.log)."""
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "--conf", conf],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=E2E_TIMEOUT,
    )
    log = proc.stdout + proc.stderr
    (tmp_path / "dags-test.log").write_text(log, encoding="utf-8")
    assert proc.returncode == 0, f"airflow dags test failed (exit {proc.returncode}):\n{log[-6000:]}"
    return log


@pytest.mark.e2e
@pytest.mark.timeout(E2E_TIMEOUT + 120)
def test_dag_runs_end_to_end(migrated_airflow_home: Path, tmp_path: Path):
    assert SEED.is_file(), f"the project's sample seed report is missing: {SEED}"
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copyfile(SEED, landing / "suichang-2021.txt")
    shutil.copyfile(SEED, landing / "suichang-2021-resent.txt")  # same bytes: a duplicate
    (landing / "meeting-notes.txt").write_text(
        "会议通知\n定于下周一上午九点在三楼会议室召开工作例会，请各科室负责人准时参加。\n", encoding="utf-8"
    )
    workdir = tmp_path / "work"

    # Landing and workdir go in both ways a run gets them: the environment (etl.config) and the DAG params.
    env = airflow_env(migrated_airflow_home, ETL_LANDING_DIR=str(landing), ETL_WORKDIR=str(workdir))
    conf = json.dumps({"landing": str(landing), "workdir": str(workdir)})
    dags_test(env, conf, tmp_path)

    # The run as Airflow recorded it: every task instance succeeded, parse ran once per batch, and only
    # small values (paths, counts) went through XCom.
    with sqlite3.connect(migrated_airflow_home / "airflow.db") as db:
        (run_id, state) = db.execute(
            "select run_id, state from dag_run where dag_id = ? order by id desc limit 1", (DAG_ID,)
        ).fetchone()
        tis = db.execute(
            "select task_id, map_index, state from task_instance where dag_id = ? and run_id = ?",
            (DAG_ID, run_id),
        ).fetchall()
        xcoms = {
            (task_id, map_index, key): value
            for task_id, map_index, key, value in db.execute(
                "select task_id, map_index, key, value from xcom where dag_id = ? and run_id = ?",
                (DAG_ID, run_id),
            )
        }
    assert state == "success"
    assert {(t, s) for t, _, s in tis} == {(t, "success") for t in PIPELINE_CHAIN}, tis
    big = {k: len(str(v)) for k, v in xcoms.items() if len(str(v)) > 16_000}
    assert not big, f"XCom values too big for paths and counts: {big}"
    batches = json.loads(xcoms[("extract", -1, "return_value")])
    assert batches and all(isinstance(b, str) for b in batches), batches
    assert sorted(m for t, m, _ in tis if t == "parse") == list(range(len(batches)))
    run_dir = Path(json.loads(xcoms[("extract", -1, "run_dir")]))
    assert run_dir.parent == workdir / "runs"
    # The pipeline run id is Airflow's run id made filesystem-safe.
    assert run_dir.name == json.loads(xcoms[("extract", -1, "run_id")])
    assert run_dir.name == re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip(".-"), (run_id, run_dir.name)

    # The warehouse holds the seed report once, and its mart row.
    import duckdb

    con = duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True)
    try:
        reports = con.execute("select province, year from dim_report").fetchall()
        mart = con.execute(
            "select count(*) from mart_province_year where province = '浙江省' and year = 2021"
        ).fetchone()[0]
    finally:
        con.close()
    assert [(p, int(y)) for p, y in reports] == [("浙江省", 2021)]
    assert mart == 1

    # The run summary: one copy loaded, the other a duplicate, the notes rejected.
    from etl import pipeline

    summary = pipeline.summarize(str(run_dir))
    copies = {"suichang-2021.txt", "suichang-2021-resent.txt"}
    duplicated = {name for name in copies if _named(summary["duplicates"], name)}
    assert len(duplicated) == 1, summary["duplicates"]
    assert _named(summary["rejected"], "meeting-notes.txt"), summary["rejected"]
    assert not summary["quarantined"], summary["quarantined"]
    (kept,) = copies - duplicated
    assert _named(summary["loaded"], kept), summary["loaded"]
    assert len(summary["loaded"]) == 1, summary["loaded"]
