"""The distributed deployment, for real: CeleryExecutor, Redis broker, PostgreSQL metadata and warehouse.

The test starts what docs/deploy.md starts (settings from etc/celery.env, only the DEPLOY_* lines changed):
`airflow api-server`, `airflow scheduler`, `airflow dag-processor` and two `airflow celery worker`s, with a
temporary AIRFLOW_HOME, a fresh PostgreSQL database for Airflow (dropped after) and a fresh schema in it for
the warehouse, on its own Celery queue.  It triggers the ingest DAG on the bundled sample, waits for the
asset-triggered warehouse DAG, and checks:

* every mart table in PostgreSQL equals, row for row, an embedded `python -m etl run` (DuckDB) of the sample;
* the parse batches ran on both workers (mapped tasks fan out);
* the run summary is the summary task's note (set through the API server), the ledger the load's;
* a backfill of report years 2021-2022 of the rebuild DAG, and that backfill again, leave the marts equal.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from test_dag import DAG_ID, PROJECT_ROOT, REBUILD_DAG_ID, WAREHOUSE_DAG_ID, WAREHOUSE_POOL, airflow_env

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.e2e]

CELERY_ENV = PROJECT_ROOT / "etc" / "celery.env"
SAMPLE = PROJECT_ROOT / "sample" / "landing"
PG_ADMIN_URL = os.environ.get("ETL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_SERVER = "postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("ETL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
OUR_DAGS = (DAG_ID, WAREHOUSE_DAG_ID, REBUILD_DAG_ID)
FACTS_ASSET = "annual_reports_facts"  # etl/orchestration/assets.py
SETTLE_TIMEOUT = 360  # seconds for a batch of runs to finish
START_TIMEOUT = 180


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module", autouse=True)
def _services():
    missing = [
        name for name, port in (("PostgreSQL", 5432), ("Redis", 6379)) if not _reachable("127.0.0.1", port)
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {' and '.join(missing)} on 127.0.0.1 (.ci/run starts them)")
        pytest.skip(f"{' and '.join(missing)} not reachable on 127.0.0.1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def celery_env(overrides: dict[str, str]) -> dict[str, str]:
    """etc/celery.env with some DEPLOY_* lines replaced (later lines see the replacements)."""
    values: dict[str, str] = {}
    for raw in CELERY_ENV.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key.isidentifier(), f"{CELERY_ENV}: not NAME=value: {raw!r}"
        values[key] = overrides[key] if key in overrides else string.Template(value).substitute(values)
    unknown = set(overrides) - set(values)
    assert not unknown, f"not in {CELERY_ENV.name}: {unknown}"
    return values


class Deployment:
    def __init__(self, root: Path):
        self.root = root
        self.suffix = uuid.uuid4().hex[:8]
        self.db = f"airflow_celery_{self.suffix}"
        self.schema = f"wh_celery_{self.suffix}"
        self.queue = f"etl_celery_{self.suffix}"
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.home = root / "airflow-home"
        self.workdir = root / "work"
        self.logs = root / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self.token: str | None = None
        self.env = airflow_env(self.home)
        self.env.update(
            celery_env(
                {
                    "DEPLOY_PG": PG_SERVER,
                    "DEPLOY_AIRFLOW_DB": self.db,
                    "DEPLOY_WAREHOUSE_DB": self.db,
                    "DEPLOY_REDIS": REDIS_URL,
                    "DEPLOY_API": self.api,
                    "DEPLOY_QUEUE": self.queue,
                }
            )
        )
        self.env.update(
            {
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # the notes' token, no password
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
                "ETL_WAREHOUSE_SCHEMA": self.schema,
                "ETL_LANDING_DIR": str(SAMPLE),
                "ETL_WORKDIR": str(self.workdir),
                "ETL_BATCH_SIZE": "50",  # the sample's ~300 distinct files in 6 batches: something to fan out
                "ETL_PARSE_WORKERS": "1",
            }
        )
        self.env.pop("ETL_STORAGE_ROOT", None)

    # -- processes ---------------------------------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert proc.returncode == 0, (
            f"airflow {' '.join(args)}: exit {proc.returncode}\n{proc.stderr[-4000:]}"
        )
        return proc

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with everything it forked
        )

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def logs_tail(self, n: int = 3000) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-n:]}" for name in self.procs)

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
        assert not dead, f"components exited: {dead}\n{self.logs_tail()}"

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    # -- the API server ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs):
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = httpx.request(method, self.api + path, headers=headers, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def wait_for(self, what: str, probe, timeout: float = START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                value = probe()
            except Exception:  # noqa: BLE001 - not up yet
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}\n{self.logs_tail()}")
            time.sleep(2)

    # -- the metadata database ---------------------------------------------------------------------------
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"postgresql://{PG_SERVER}/{self.db}", autocommit=True) as con:
            return con.execute(sql, params).fetchall()

    def runs(self, dag_id: str) -> list[dict]:
        rows = self.query(
            "select run_id, state, run_type, conf, logical_date, start_date, end_date, backfill_id"
            " from dag_run where dag_id = %s order by id",
            (dag_id,),
        )
        keys = (
            "run_id",
            "state",
            "run_type",
            "conf",
            "logical_date",
            "start_date",
            "end_date",
            "backfill_id",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def settled(self) -> bool:
        """Nothing queued or running, no asset event waiting, and the marts rebuilt after the facts last
        changed."""
        (active,) = self.query(
            "select count(*) from dag_run where dag_id = any(%s) and state in ('queued', 'running')",
            (list(OUR_DAGS),),
        )[0]
        (queued_events,) = self.query("select count(*) from asset_dag_run_queue")[0]
        failed = self.query(
            "select dag_id, run_id from dag_run where dag_id = any(%s) and state = 'failed'",
            (list(OUR_DAGS),),
        )
        assert not failed, f"failed runs: {failed}\n{self.logs_tail()}"
        if active or queued_events:
            return False
        (last_event,) = self.query(
            "select max(e.timestamp) from asset_event e join asset a on a.id = e.asset_id where a.name = %s",
            (FACTS_ASSET,),
        )[0]
        (last_marts,) = self.query(
            "select max(start_date) from dag_run where dag_id = %s and state = 'success'", (WAREHOUSE_DAG_ID,)
        )[0]
        return last_event is not None and last_marts is not None and last_marts > last_event

    def settle(self) -> None:
        self.wait_for("the runs to settle", self.settled, timeout=SETTLE_TIMEOUT)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Path:
    """The sample through `python -m etl run` into DuckDB: what the distributed run must equal."""
    workdir = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "AIRFLOW"))}
    env["GX_ANALYTICS_ENABLED"] = "False"
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "run", "--landing", str(SAMPLE), "--workdir", str(workdir)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return workdir


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, embedded) -> Deployment:
    import psycopg

    dep = Deployment(tmp_path_factory.mktemp("celery"))
    dep.logs.mkdir()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{dep.db}"')
    try:
        dep.airflow("db", "migrate", timeout=600)
        dep.airflow("pools", "set", WAREHOUSE_POOL, "1", "one writer at a time into the warehouse")
        dep.start(
            "api-server", "api-server", "--host", "127.0.0.1", "--port", str(dep.port), "--workers", "1"
        )
        dep.start("scheduler", "scheduler")
        dep.start("dag-processor", "dag-processor")
        for n in (1, 2):
            dep.start(
                f"worker{n}",
                "celery",
                "worker",
                "--queues",
                dep.queue,
                "--celery-hostname",
                f"etl{n}-{dep.suffix}@%h",
                "--skip-serve-logs",
                "--without-gossip",
            )
        dep.wait_for("the API server", lambda: dep.request("GET", "/api/v2/monitor/health"))
        dep.token = dep.request("GET", "/auth/token")["access_token"]
        for dag_id in OUR_DAGS:
            dep.wait_for(f"{dag_id} parsed", lambda d=dag_id: dep.request("GET", f"/api/v2/dags/{d}"))
        for n in (1, 2):
            dep.wait_for(f"worker{n} ready", lambda n=n: " ready." in dep.log(f"worker{n}"))
        yield dep
    finally:
        dep.stop()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as con:
            con.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                (dep.db,),
            )
            con.execute(f'DROP DATABASE IF EXISTS "{dep.db}"')
        _drop_queue(dep.queue)
        if not os.environ.get("ETL_TEST_KEEP_CELERY"):
            shutil.rmtree(dep.workdir, ignore_errors=True)


def _drop_queue(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"*{queue}*"))
    if keys:
        client.delete(*keys)


def _marts(target) -> dict[str, list[tuple]]:
    from etl.warehouse import connect
    from etl.warehouse.marts import MART_TABLES

    out = {}
    with connect(target, read_only=True) as wh:
        for table in MART_TABLES:
            cols = sorted(wh.columns(table))
            out[table] = sorted(wh.fetchall(f"SELECT {', '.join(cols)} FROM {table}"), key=repr)
    return out


def assert_marts_equal(embedded: Path, dep: Deployment, when: str) -> None:
    from etl.warehouse import Target

    duck = _marts(Target(duckdb_path=embedded / "warehouse.duckdb"))
    pg = _marts(Target(pg_url=f"postgresql://{PG_SERVER}/{dep.db}", pg_schema=dep.schema))
    assert duck["mart_province_year"], "the embedded run built no mart rows"
    for table, rows in duck.items():
        assert len(pg[table]) == len(rows), f"{when}: {table} has {len(pg[table])} rows, embedded {len(rows)}"
        for a, b in zip(rows, pg[table], strict=True):
            assert a == b, f"{when}: {table}: embedded {a} != distributed {b}"


@pytest.mark.timeout(1500)
def test_celery_deployment_runs_the_dags_and_matches_the_embedded_run(deployment: Deployment, embedded: Path):
    dep = deployment
    t0 = time.monotonic()
    for dag_id in (DAG_ID, WAREHOUSE_DAG_ID):
        dep.request("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    run = dep.request(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        json={"logical_date": None, "conf": {"landing": str(SAMPLE), "workdir": str(dep.workdir)}},
    )
    dep.settle()
    print(f"ingest + warehouse settled in {time.monotonic() - t0:.0f}s")

    ingest = {r["run_id"]: r for r in dep.runs(DAG_ID)}
    assert ingest[run["dag_run_id"]]["state"] == "success"
    assert all(r["state"] == "success" for r in dep.runs(WAREHOUSE_DAG_ID)) and dep.runs(WAREHOUSE_DAG_ID)
    assert {r["run_type"] for r in dep.runs(WAREHOUSE_DAG_ID)} == {"asset_triggered"}
    assert_marts_equal(embedded, dep, "after the ingest run")

    # The parse batches fanned out over both workers: each Celery worker's log names the tasks it ran.
    # Unpausing the DAG may have started a scheduled sweep (the timetable's latest Monday) before the
    # triggered run: whichever ingest run came first parsed the sample, the other found it all in the parse
    # cache and the ledger (its parse expanded to nothing, skipped).  So: the parse tasks of every run.
    parse = dep.query(
        "select map_index, external_executor_id, state from task_instance"
        " where dag_id = %s and task_id = 'parse' and not (map_index = -1 and state = 'skipped')",
        (DAG_ID,),
    )
    assert len(parse) >= 2 and all(state == "success" for _, _, state in parse), parse
    ran_on = {
        n: sum(1 for _, celery_id, _ in parse if celery_id and celery_id in dep.log(f"worker{n}"))
        for n in (1, 2)
    }
    assert ran_on[1] + ran_on[2] == len(parse), (ran_on, parse)
    assert ran_on[1] >= 1 and ran_on[2] >= 1, f"parse batches did not fan out: {ran_on}"

    # The notes, set by the tasks through the API server.
    embedded_counts = json.loads((sorted((embedded / "runs").glob("*/outcome.json"))[-1]).read_text())[
        "counts"
    ]
    load_ti = dep.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/load")
    assert f"loaded {embedded_counts['loaded']}" in load_ti["note"], load_ti["note"]
    last_marts = dep.runs(WAREHOUSE_DAG_ID)[-1]["run_id"]
    summary_ti = dep.request(
        "GET", f"/api/v2/dags/{WAREHOUSE_DAG_ID}/dagRuns/{last_marts}/taskInstances/summary"
    )
    assert summary_ti["note"].startswith("**run "), summary_ti["note"]
    assert f"loaded {embedded_counts['loaded']}" in summary_ti["note"]
    assert "mart_province_year:" in summary_ti["note"]

    # A backfill of report years 2021 and 2022: one rebuild run per year, each republishing its year
    # through an ingest run; then the same backfill again.  The marts stay equal to the embedded run's.
    dep.request("PATCH", f"/api/v2/dags/{REBUILD_DAG_ID}", json={"is_paused": False})
    for attempt, extra in enumerate(([], ["--reprocess-behavior", "completed"])):
        t1 = time.monotonic()
        dep.airflow(
            "backfill", "create", "--dag-id", REBUILD_DAG_ID, "--from-date", "2021-01-01", "--to-date", "2022-12-31",
            *extra,
        )  # fmt: skip
        dep.wait_for(
            "the backfill runs", lambda: len([r for r in dep.runs(REBUILD_DAG_ID) if r["backfill_id"]]) >= 2
        )
        dep.settle()
        # the scheduler marks a backfill completed a loop after its last run ends; until then a second
        # `backfill create` is refused (one running backfill per DAG)
        dep.wait_for(
            "the backfill to complete",
            lambda: (
                not dep.query(
                    "select id from backfill where dag_id = %s and completed_at is null", (REBUILD_DAG_ID,)
                )
            ),
        )
        print(f"backfill {attempt + 1} settled in {time.monotonic() - t1:.0f}s")
        backfilled = [r for r in dep.runs(REBUILD_DAG_ID) if r["backfill_id"]]
        assert sorted(r["logical_date"].year for r in backfilled) == [2021, 2022]
        assert all(r["state"] == "success" for r in backfilled), backfilled
        rebuilt = [r["conf"] for r in dep.runs(DAG_ID) if (r["conf"] or {}).get("rebuild")]
        for year in (2021, 2022):
            assert sum(c.get("years") == [year] for c in rebuilt) == attempt + 1, rebuilt
        assert_marts_equal(embedded, dep, f"after backfill {attempt + 1}")
    print(f"whole test {time.monotonic() - t0:.0f}s after start-up")
