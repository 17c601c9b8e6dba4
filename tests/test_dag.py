"""The Airflow DAGs: integrity, policy, schedules, and real end-to-end runs.

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
WAREHOUSE_DAG_ID = "annual_reports_warehouse"
REBUILD_DAG_ID = "annual_reports_rebuild"
DAG_FILES = {
    DAG_ID: DAG_FILE,
    WAREHOUSE_DAG_ID: DAGS_FOLDER / "annual_reports_warehouse.py",
    REBUILD_DAG_ID: DAGS_FOLDER / "annual_reports_rebuild.py",
}

# (fsspec, httpx and sqlalchemy are not here: airflow.sdk itself imports them)
HEAVY_MODULES = ("pandas", "great_expectations", "duckdb", "pyarrow", "psycopg")
PIPELINE_CHAIN = ["fetch", "extract", "parse", "transform", "validate", "load"]  # the ingest DAG
WAREHOUSE_CHAIN = ["marts", "summary"]
REBUILD_CHAIN = ["rebuild_conf", "republish"]
WAREHOUSE_POOL = "warehouse"
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
    create_warehouse_pool(airflow_env(airflow_home), airflow_home)
    return airflow_home


def create_warehouse_pool(env: dict[str, str], cwd: Path) -> None:
    """The one-slot pool the warehouse writers run in, as `make run` creates it."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "pools",
            "set",
            WAREHOUSE_POOL,
            "1",
            "one warehouse writer at a time",
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"airflow pools set failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"


# -- parse: fast, light ---------------------------------------------------------------------------------

PARSE_PROBE = """
    import importlib, importlib.util, json, pkgutil, sys, time

    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401  (the DAG processor has it loaded before it parses a file)
    t1 = time.perf_counter()
    parse_s = {}
    for i, path in enumerate(sys.argv[2:]):
        t = time.perf_counter()
        spec = importlib.util.spec_from_file_location(f"dag_file_{i}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        parse_s[path] = time.perf_counter() - t
    after_dags = sorted(sys.modules)

    # Every module of the orchestration package, imported as a DAG file might: still nothing heavy.
    import etl.orchestration as orchestration

    for info in pkgutil.iter_modules(orchestration.__path__):
        importlib.import_module(f"etl.orchestration.{info.name}")
    after_package = sorted(sys.modules)

    # The retry policy, on the kinds of errors a task can raise.
    ProgrammingError = type("ProgrammingError", (Exception,), {"__module__": "_duckdb"})
    BinderException = type("BinderException", (ProgrammingError,), {"__module__": "_duckdb"})
    OperationalError = type("OperationalError", (Exception,), {"__module__": "_duckdb"})
    LedgerError = type("LedgerError", (RuntimeError,), {"__module__": "etl.model"})
    policy = sys.modules["etl.orchestration.defaults"].DEFAULT_ARGS["retry_policy"]
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
            "dag_parse_s": parse_s,
            "modules": after_dags,
            "package_modules": after_package,
        },
        open(sys.argv[1], "w"),
    )
"""

# What a DAG file may pull in from the project at parse time: the orchestration package, nothing else.
ALLOWED_ETL = re.compile(r"^etl(\.orchestration(\.\w+)?)?$")


@pytest.fixture(scope="module")
def parse_probe(airflow_home: Path, tmp_path_factory) -> dict:
    """Import every DAG file, then the whole orchestration package, in a fresh interpreter: how long it
    takes and what it pulls in."""
    out = tmp_path_factory.mktemp("probe") / "parse.json"
    run_python(PARSE_PROBE, airflow_env(airflow_home), str(out), *map(str, DAG_FILES.values()))
    return json.loads(out.read_text())


def test_dag_files_parse_fast(parse_probe):
    print(f"airflow.sdk import {parse_probe['sdk_import_s']:.2f}s")
    assert set(parse_probe["dag_parse_s"]) == {str(p) for p in DAG_FILES.values()}
    for path, seconds in parse_probe["dag_parse_s"].items():
        print(f"{Path(path).name} {seconds:.3f}s")
        assert seconds < 2.0, path


def _heavy_and_project(modules: list[str]) -> tuple[list[str], list[str]]:
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY_MODULES)
    etl = sorted(m for m in modules if (m == "etl" or m.startswith("etl.")) and not ALLOWED_ETL.match(m))
    return heavy, etl


def test_dag_files_import_nothing_heavy(parse_probe):
    heavy, etl = _heavy_and_project(parse_probe["modules"])
    assert not heavy, f"parsing the DAG files imported {heavy[:10]}"
    assert not etl, f"parsing the DAG files imported {etl}; import the pipeline inside the tasks"
    assert "etl.orchestration.tasks" in parse_probe["modules"]  # the DAGs do use the package


def test_orchestration_package_imports_nothing_heavy(parse_probe):
    heavy, etl = _heavy_and_project(parse_probe["package_modules"])
    assert not heavy, f"importing etl.orchestration imported {heavy[:10]}"
    assert not etl, f"importing etl.orchestration imported {etl} (etl.config, etl.pipeline: inside functions)"


def test_dag_files_only_wire():
    """A DAG file declares tasks and their order: no function bodies beyond the @dag one, no classes,
    no imports but Airflow's, pendulum, the standard library and etl.orchestration."""
    import ast

    for dag_id, path in DAG_FILES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        assert [f.name for f in functions] == [dag_id], f"{path.name}: {[f.name for f in functions]}"
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)], path.name
        (body,) = functions
        nested = [n for n in ast.walk(body) if n is not body and isinstance(n, ast.FunctionDef | ast.Lambda)]
        assert not nested, path.name
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module in ("__future__", "datetime", "airflow.sdk", "etl.orchestration"), (
                    path.name,
                    node.module,
                )
            elif isinstance(node, ast.Import):
                assert all(a.name == "pendulum" for a in node.names), (
                    path.name,
                    [a.name for a in node.names],
                )


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

    def callbacks(value):
        return value if isinstance(value, list) else [value] if value else []

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
            "timetable": type(dag.timetable).__name__,
            "allowed_run_types": sorted(str(getattr(t, "value", t)) for t in dag.allowed_run_types or []),
            "schedule_assets": sorted(
                a.name for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", [])
            ),
            "tasks": {
                t.task_id: {
                    "owner": t.owner,
                    "retries": t.retries,
                    "retry_delay_s": t.retry_delay.total_seconds(),
                    "upstream": sorted(t.upstream_task_ids),
                    "downstream": sorted(t.downstream_task_ids),
                    "mapped": bool(t.is_mapped),
                    "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                    "pool": t.pool,
                    "retry_policy": type(t.retry_policy).__name__,
                    "on_failure": [f"{c.__module__}.{c.__name__}" for c in callbacks(t.on_failure_callback)],
                    "outlets": sorted(type(o).__name__ + ":" + o.name for o in t.outlets),
                    "trigger": [getattr(t, "trigger_dag_id", None), getattr(t, "wait_for_completion", None)],
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


def test_every_dag_and_file(dagbag):
    assert set(dagbag["dags"]) == set(DAG_FILES)
    for dag_id, path in DAG_FILES.items():
        assert Path(dagbag["dags"][dag_id]["fileloc"]) == path


def test_every_task_fails_fast_and_alerts(dagbag):
    for dag_id, dag in dagbag["dags"].items():
        for task_id, t in dag["tasks"].items():
            assert t["retry_policy"] == "FailFastOnDeterministicErrors", f"{dag_id}.{task_id}"
            assert t["on_failure"] == ["etl.orchestration.callbacks.on_failure"], f"{dag_id}.{task_id}"


def test_annual_reports_settings(dagbag):
    dag = dagbag["dags"][DAG_ID]
    assert {"etl", "annual-reports"} <= set(dag["tags"])
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1
    assert {"landing", "workdir", "fetch_manifest", "years", "rebuild"} <= set(dag["params"])
    assert dag["timetable"] == "MultipleCronTriggerTimetable"
    assert dag["allowed_run_types"] == ["manual", "operator_triggered", "scheduled"]  # no backfill of a sweep


def test_annual_reports_tasks_and_chain(dagbag):
    tasks = dagbag["dags"][DAG_ID]["tasks"]
    assert sorted(tasks) == sorted(PIPELINE_CHAIN)
    for before, after in zip(PIPELINE_CHAIN, PIPELINE_CHAIN[1:], strict=False):
        assert before in tasks[after]["upstream"], f"{before} -> {after} missing"
    assert tasks["fetch"]["upstream"] == []
    assert tasks["extract"]["upstream"] == ["fetch"]
    assert tasks["load"]["downstream"] == []
    # Only extract and the task right before feed a stage: no stage starts before the previous one ends.
    assert tasks["parse"]["upstream"] == ["extract"]
    assert tasks["transform"]["upstream"] == ["extract", "parse"]
    for before, after in zip(PIPELINE_CHAIN[3:], PIPELINE_CHAIN[4:], strict=False):
        assert tasks[after]["upstream"] == sorted({"extract", before}), after


def test_parse_is_mapped_over_batches(dagbag):
    tasks = dagbag["dags"][DAG_ID]["tasks"]
    assert tasks["parse"]["mapped"] is True
    mapped = [(d, t) for d, dag in dagbag["dags"].items() for t, v in dag["tasks"].items() if v["mapped"]]
    assert mapped == [(DAG_ID, "parse")]
    # An empty landing area maps parse over no batch, which skips it: transform must still run.
    assert tasks["transform"]["trigger_rule"] == "none_failed"


def test_warehouse_writers_share_a_pool_of_one(dagbag):
    writers = {
        (d, t)
        for d, dag in dagbag["dags"].items()
        for t, v in dag["tasks"].items()
        if v["pool"] == WAREHOUSE_POOL
    }
    assert writers == {(DAG_ID, "load"), (WAREHOUSE_DAG_ID, "marts")}
    others = {v["pool"] for dag in dagbag["dags"].values() for v in dag["tasks"].values()} - {WAREHOUSE_POOL}
    assert others == {"default_pool"}


def test_assets_connect_ingest_to_warehouse(dagbag):
    dags = dagbag["dags"]
    # load decides per run whether the facts changed (an alias); no other task writes them
    outlets = {
        (d, t): v["outlets"] for d, dag in dags.items() for t, v in dag["tasks"].items() if v["outlets"]
    }
    assert outlets == {
        (DAG_ID, "load"): ["AssetAlias:annual_reports_facts_changes"],
        (WAREHOUSE_DAG_ID, "marts"): ["Asset:annual_reports_marts"],
    }
    warehouse = dags[WAREHOUSE_DAG_ID]
    assert warehouse["timetable"] == "AssetTriggeredTimetable"
    assert warehouse["schedule_assets"] == ["annual_reports_facts"]
    assert warehouse["tasks"]["marts"]["outlets"] == ["Asset:annual_reports_marts"]
    assert warehouse["tasks"]["marts"]["upstream"] == [] and warehouse["tasks"]["summary"]["upstream"] == [
        "marts"
    ]
    assert warehouse["catchup"] is False and warehouse["max_active_runs"] == 1


def test_rebuild_dag_settings(dagbag):
    dag = dagbag["dags"][REBUILD_DAG_ID]
    assert sorted(dag["tasks"]) == sorted(REBUILD_CHAIN)
    assert dag["tasks"]["republish"]["upstream"] == ["rebuild_conf"]
    # every rebuild is a run of the ingest DAG, waited for: that DAG's one-run-at-a-time holds for it too
    assert dag["tasks"]["republish"]["trigger"] == [DAG_ID, True]
    assert dag["catchup"] is False and dag["max_active_runs"] == 1
    assert dag["timetable"] == "CronDataIntervalTimetable"
    assert {"landing", "workdir", "years"} <= set(dag["params"])


# -- schedules: what the scheduler will do with the timetables ------------------------------------------

SCHEDULE_PROBE = """
    import json, sys
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    bag = DagBag(dag_folder=sys.argv[1])
    tz = pendulum.timezone("Asia/Shanghai")

    def runs(dag_id, earliest, until):
        dag = DagSerialization.from_dict(DagSerialization.to_dict(bag.dags[dag_id]))  # as the scheduler has it
        timetable, last, out = dag.timetable, None, []
        restriction = TimeRestriction(earliest=earliest, latest=None, catchup=True)
        while True:
            info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
            if info is None or info.run_after > until:
                return out
            out.append({"run_after": info.run_after.in_timezone(tz).isoformat(),
                        "logical_date": info.logical_date.in_timezone(tz).isoformat()})
            last = info.data_interval

    sweep = runs("annual_reports", pendulum.datetime(2026, 12, 1, tz=tz), pendulum.datetime(2027, 4, 30, tz=tz))
    rebuild = runs("annual_reports_rebuild", pendulum.datetime(2020, 1, 1, tz=tz), pendulum.datetime(2024, 1, 1, tz=tz))

    # what `airflow backfill create --from-date 2021-01-01 --to-date 2022-12-31` creates
    dag = DagSerialization.from_dict(DagSerialization.to_dict(bag.dags["annual_reports_rebuild"]))
    backfill = [
        i.logical_date.in_timezone(tz).isoformat()
        for i in dag.iter_dagrun_infos_between(pendulum.datetime(2021, 1, 1), pendulum.datetime(2022, 12, 31))
    ]
    from etl.orchestration.schedule import report_year
    years = [report_year(i.logical_date) for i in dag.iter_dagrun_infos_between(pendulum.datetime(2021, 1, 1), pendulum.datetime(2022, 12, 31))]
    from etl.orchestration.tasks import rebuild_kwargs
    cases = [[], [None, False], [[], None], [[2022, "2021", 2022], True], [None, True]]
    kwargs = [rebuild_kwargs(*c) for c in cases]
    json.dump(
        {"sweep": sweep, "rebuild": rebuild, "backfill": backfill, "backfill_years": years, "kwargs": kwargs},
        open(sys.argv[2], "w"),
    )
"""


@pytest.fixture(scope="module")
def schedules(airflow_home: Path, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("probe") / "schedules.json"
    run_python(SCHEDULE_PROBE, airflow_env(airflow_home), str(DAGS_FOLDER), str(out))
    return json.loads(out.read_text())


def test_sweep_is_weekly_then_daily_from_january_to_march(schedules):
    from datetime import date, timedelta

    runs = [r["run_after"] for r in schedules["sweep"]]
    assert all(r.endswith("T02:00:00+08:00") for r in runs), runs[:3]
    days = [date.fromisoformat(r[:10]) for r in runs]
    # December: Mondays only; across the year boundary: every day of January, February and March 2027;
    # then Mondays again from April
    assert [d for d in days if d.year == 2026] == [
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
    ]
    first_quarter = [date(2027, 1, 1) + timedelta(days=i) for i in range(90)]  # 1 Jan .. 31 Mar 2027
    assert [d for d in days if date(2027, 1, 1) <= d <= date(2027, 3, 31)] == first_quarter
    assert [d for d in days if d.month == 4] == [
        date(2027, 4, 5),
        date(2027, 4, 12),
        date(2027, 4, 19),
        date(2027, 4, 26),
    ]
    assert len(days) == 4 + 90 + 4


def test_rebuild_runs_once_a_year_after_the_filing_season(schedules):
    # report year Y: logical date 1 April Y, run on 1 April Y+1
    assert schedules["rebuild"] == [
        {"run_after": f"{y + 1}-04-01T03:00:00+08:00", "logical_date": f"{y}-04-01T03:00:00+08:00"}
        for y in (2020, 2021, 2022)
    ]


def test_backfill_of_two_years_makes_one_run_per_report_year(schedules):
    assert schedules["backfill"] == ["2021-04-01T03:00:00+08:00", "2022-04-01T03:00:00+08:00"]
    assert schedules["backfill_years"] == [2021, 2022]


def test_extract_passes_partition_arguments_only_when_set(schedules):
    # (), (None, False), ([], None): nothing, so extract keeps its own defaults
    assert schedules["kwargs"] == [{}, {}, {}, {"years": [2021, 2022], "rebuild": True}, {"rebuild": True}]


# -- one real run --------------------------------------------------------------------------------------


def _named(items, name: str) -> bool:
    return any(Path(str(item)).name == name for item in items)


def dags_test(
    env: dict[str, str],
    conf: str,
    tmp_path: Path,
    dag_id: str = DAG_ID,
    *args: str,
    check: bool = True,
) -> str:
    """`airflow dags test` of a DAG with this conf (args: e.g. a logical date); its log (also in tmp_path)."""
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, *args, "--conf", conf],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=E2E_TIMEOUT,
    )
    log = proc.stdout + proc.stderr
    (tmp_path / f"dags-test-{dag_id}.log").write_text(log, encoding="utf-8")
    if check:
        assert proc.returncode == 0, (
            f"airflow dags test {dag_id} failed (exit {proc.returncode}):\n{log[-6000:]}"
        )
    return log


def last_run(airflow_home: Path, dag_id: str) -> tuple[str, str, list[tuple], dict]:
    """The DAG's last run as Airflow recorded it: run id, state, task instances, XComs."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        (run_id, state) = db.execute(
            "select run_id, state from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
        ).fetchone()
        tis = db.execute(
            "select task_id, map_index, state from task_instance where dag_id = ? and run_id = ?",
            (dag_id, run_id),
        ).fetchall()
        xcoms = {
            (task_id, map_index, key): value
            for task_id, map_index, key, value in db.execute(
                "select task_id, map_index, key, value from xcom where dag_id = ? and run_id = ?",
                (dag_id, run_id),
            )
        }
    return run_id, state, tis, xcoms


def warehouse_rows(workdir: Path) -> tuple[list, list]:
    import duckdb

    con = duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True)
    try:
        reports = con.execute("select province, year from dim_report order by all").fetchall()
        mart = con.execute("select * from mart_province_year order by all").fetchall()
    finally:
        con.close()
    return [(p, int(y)) for p, y in reports], mart


@pytest.mark.e2e
@pytest.mark.timeout(3 * E2E_TIMEOUT + 120)
def test_dags_run_end_to_end(migrated_airflow_home: Path, tmp_path: Path):
    """Ingest, then the warehouse DAG (as `make run` runs them), then a rebuild of one report year.

    (annual_reports_rebuild itself waits for the ingest run it triggers, which `airflow dags test` never
    starts: tests/test_celery.py backfills it under a real scheduler.)"""
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

    # The ingest run as Airflow recorded it: every task instance succeeded, parse ran once per batch, and
    # only small values (paths, counts) went through XCom.
    run_id, state, tis, xcoms = last_run(migrated_airflow_home, DAG_ID)
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
    assert json.loads(xcoms[("load", -1, "return_value")])["years"] == [2021]

    # The warehouse DAG: marts and summary of that run (a manual run takes the workdir's last run).
    dags_test(env, json.dumps({"workdir": str(workdir)}), tmp_path, WAREHOUSE_DAG_ID)
    _, state, tis, xcoms = last_run(migrated_airflow_home, WAREHOUSE_DAG_ID)
    assert state == "success"
    assert {(t, s) for t, _, s in tis} == {(t, "success") for t in WAREHOUSE_CHAIN}, tis
    assert Path(json.loads(xcoms[("marts", -1, "run_dir")])) == run_dir
    assert json.loads(xcoms[("summary", -1, "return_value")])["counts"]["loaded"] == 1

    # The warehouse holds the seed report once, and its mart row.
    reports, mart = warehouse_rows(workdir)
    assert reports == [("浙江省", 2021)]
    assert len(mart) == 1

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

    # A rebuild of report year 2021, as annual_reports_rebuild asks the ingest DAG for it (its run for
    # logical date 2021-04-01 sends this conf): it republishes that year from the parse cache, and the
    # warehouse says the same afterwards.
    rebuild = json.dumps({"landing": str(landing), "workdir": str(workdir), "years": [2021], "rebuild": True})
    dags_test(env, rebuild, tmp_path)
    _, state, tis, xcoms = last_run(migrated_airflow_home, DAG_ID)
    assert state == "success"
    rebuild_dir = Path(json.loads(xcoms[("extract", -1, "run_dir")]))
    assert rebuild_dir != run_dir
    plan = json.loads((rebuild_dir / "manifest.json").read_text(encoding="utf-8"))["plan"]
    assert plan["rebuild_years"] == [2021], plan
    assert json.loads(xcoms[("load", -1, "return_value")])["years"] == [2021]
    dags_test(env, json.dumps({"workdir": str(workdir)}), tmp_path, WAREHOUSE_DAG_ID)
    assert warehouse_rows(workdir) == (reports, mart)


@pytest.mark.e2e
@pytest.mark.timeout(E2E_TIMEOUT + 120)
def test_failed_task_raises_an_alert(migrated_airflow_home: Path, tmp_path: Path):
    """A task that fails (here: report years without rebuild, a ValueError) fails at once (no retry) and
    leaves an alert line under the workdir and an ALERT line in its log."""
    landing, workdir = tmp_path / "landing", tmp_path / "work"
    landing.mkdir()
    shutil.copyfile(SEED, landing / "suichang-2021.txt")
    env = airflow_env(migrated_airflow_home, ETL_LANDING_DIR=str(landing), ETL_WORKDIR=str(workdir))
    conf = json.dumps({"landing": str(landing), "workdir": str(workdir), "years": [2021]})
    log = dags_test(env, conf, tmp_path, check=False)

    run_id, state, tis, _ = last_run(migrated_airflow_home, DAG_ID)
    assert state == "failed"
    states = {t: s for t, _, s in tis}
    assert states["fetch"] == "success" and states["extract"] == "failed", states
    lines = (workdir / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1, lines  # one failed task, one try: the policy did not retry a ValueError
    alert = json.loads(lines[0])
    assert (alert["dag_id"], alert["run_id"], alert["task_id"]) == (DAG_ID, run_id, "extract")
    assert alert["error"].startswith("ValueError: ") and "rebuild" in alert["error"]
    assert f"ALERT {DAG_ID}.extract failed in run {run_id}" in log
