"""Issue 13: faults. kill -9 at random points of a run, two runs on one workdir, a full disk while Parquet is
written, the PostgreSQL connection lost mid-load: the warehouse is either the previous one or the new one,
and a clean run converges to the same warehouse as a run that was never interrupted."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl import pipeline
from etl.warehouse import Target
from tests.conftest import PROJECT
from tests.test_warehouse import PG_URL, build_landing, checksums, in_ci, publish, stage_run, warehouse_env


def _env(**extra) -> dict:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False", **extra}
    env.pop("ETL_WAREHOUSE_URL", None)
    return env


def _start(landing: Path, workdir: Path, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(workdir)],
        cwd=PROJECT,
        env=_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes the whole run
    )


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    landing = build_landing(root / "landing")
    started = time.monotonic()
    result = _finish(_start(landing, root / "ref"))
    seconds = time.monotonic() - started
    return landing, result, checksums(Target(duckdb_path=root / "ref" / "warehouse.duckdb")), seconds


@pytest.mark.e2e
def test_kill_9_at_random_points_then_a_clean_run_converges(reference, tmp_path):
    landing, result, ref_sums, ref_s = reference
    work = tmp_path / "work"
    rng = random.Random()
    kills, budget = [], time.monotonic() + 40
    while time.monotonic() < budget or len(kills) < 3:
        proc = _start(landing, work)
        at = rng.uniform(0.05, ref_s)  # anywhere from start-up to the end of marts
        try:
            proc.wait(timeout=at)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills.append(round(at, 2))
        proc.communicate()
        if len(kills) >= 12:
            break
    assert len(kills) >= 3, kills
    again = _finish(_start(landing, work))
    assert {k: again[k] for k in ("loaded", "quarantined", "rejected", "duplicates")} == {
        k: result[k] for k in ("loaded", "quarantined", "rejected", "duplicates")
    }
    assert checksums(Target(duckdb_path=work / "warehouse.duckdb")) == ref_sums, kills


@pytest.mark.e2e
def test_a_second_run_on_the_same_workdir_refuses_or_waits(reference, tmp_path):
    landing, _, ref_sums, _ = reference
    work = tmp_path / "work"
    marker = tmp_path / "paused"
    first = _start(
        landing,
        work,
        ETL_TEST_PAUSE_AT="staged",
        ETL_TEST_PAUSE_FILE=str(marker),
        ETL_TEST_PAUSE_SECONDS="4",
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert first.poll() is None, first.communicate()[1][-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    refused = subprocess.run(
        [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(work)],
        cwd=PROJECT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 3
    assert "another run is using the workdir" in refused.stderr and f"pid {first.pid}" in refused.stderr
    waiting = _start(landing, work, ETL_RUN_LOCK_WAIT_S="300")
    _finish(first)
    _finish(waiting)
    runs = sorted(p for p in (work / "runs").iterdir() if (p / "outcome.json").exists())
    assert len(runs) == 2  # the refused run made nothing
    assert checksums(Target(duckdb_path=work / "warehouse.duckdb")) == ref_sums


def test_a_full_disk_during_the_parquet_write_leaves_the_warehouse_untouched(
    reference, tmp_path, monkeypatch
):
    """ENOSPC injected into the Parquet writer (a tmpfs would fill wherever the run writes first)."""
    import etl.transform

    landing, _, _, _ = reference
    monkeypatch.delenv("ETL_WAREHOUSE_URL", raising=False)
    work = tmp_path / "work"
    pipeline.run(landing=str(landing), workdir=str(work), run_id="good")
    db = Target(duckdb_path=work / "warehouse.duckdb")
    before = checksums(db)
    real = etl.transform.ds.write_dataset
    calls = []

    def full_disk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # mid-stage: the first partition written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(etl.transform.ds, "write_dataset", full_disk)
    # a rebuild: an unchanged landing area would otherwise stage nothing (the run is incremental)
    with pytest.raises(OSError, match="No space left"):
        pipeline.run(landing=str(landing), workdir=str(work), run_id="disk-full", rebuild=True)
    assert checksums(db) == before
    assert not (work / "runs" / "disk-full" / "outcome.json").exists()
    monkeypatch.setattr(etl.transform.ds, "write_dataset", real)
    # space again: the run goes on
    pipeline.run(landing=str(landing), workdir=str(work), run_id="after", rebuild=True)
    assert checksums(db) == before


@pytest.fixture
def hostile_pg():
    """A throwaway schema in this branch's own database etl_hostile (created when missing)."""
    import uuid

    import psycopg

    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as con:
            if not con.execute("SELECT 1 FROM pg_database WHERE datname = 'etl_hostile'").fetchone():
                con.execute("CREATE DATABASE etl_hostile")
    except psycopg.Error as e:
        if in_ci():
            pytest.fail(f"CI: PostgreSQL must be reachable at {PG_URL}: {e}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {e}")
    url = PG_URL.rsplit("/", 1)[0] + "/etl_hostile"
    schema = f"t_hostile_{uuid.uuid4().hex[:8]}"
    yield Target(pg_url=url, pg_schema=schema)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_postgres_connection_lost_mid_load_publishes_nothing(hostile_pg, tmp_path, monkeypatch):
    import psycopg

    import etl.load

    work = tmp_path / "work"
    landing_a = tmp_path / "a"
    landing_a.mkdir()
    (landing_a / "seed.txt").write_bytes((PROJECT / "sample" / "landing" / "suichang-2021.txt").read_bytes())
    run_a = stage_run(landing_a, work, "run-a")
    run_b = stage_run(build_landing(tmp_path / "b"), work, "run-b")
    publish(run_a, hostile_pg)
    before = checksums(hostile_pg)
    real = etl.load._refresh_dimensions

    def lose_connection(wh):  # inside the publish transaction, after the partitions were replaced
        pid = wh.fetchone("SELECT pg_backend_pid()")[0]
        with psycopg.connect(hostile_pg.pg_url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real(wh)

    monkeypatch.setattr(etl.load, "_refresh_dimensions", lose_connection)
    with warehouse_env(hostile_pg), pytest.raises(psycopg.OperationalError):
        pipeline.load(run_b)
    assert checksums(hostile_pg) == before  # nothing half-published
    monkeypatch.setattr(etl.load, "_refresh_dimensions", real)
    publish(run_b, hostile_pg)  # the retry publishes the whole run
    assert checksums(hostile_pg) != before
