"""The DAG's fetch task: with a manifest (the fetch_manifest param) it fetches into the landing folder
before extract, from a local server reached only through ETL_FETCH_ALLOW_HOSTS; the run loads it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fetch_site import Site
from test_dag import (  # noqa: F401 - fixtures
    DAG_ID,
    E2E_TIMEOUT,
    PIPELINE_CHAIN,
    SEED,
    airflow_env,
    airflow_home,
    dags_test,
    migrated_airflow_home,
)


@pytest.mark.e2e
@pytest.mark.timeout(E2E_TIMEOUT + 120)
def test_dag_fetch_task_fetches_the_manifest_first(migrated_airflow_home: Path, tmp_path: Path):  # noqa: F811
    site = Site().start()
    try:
        site.routes["/reports/suichang-2021.txt"] = (200, {"Content-Type": "text/plain"}, SEED.read_bytes())
        manifest = tmp_path / "manifest.csv"
        manifest.write_text(
            f"url,issuer,year\n{site.url('/reports/suichang-2021.txt')},遂昌县人民政府,2021\nhttp://10.0.0.1/x.pdf,,\n",
            encoding="utf-8",
        )
        landing, workdir = tmp_path / "landing", tmp_path / "work"
        env = airflow_env(
            migrated_airflow_home,
            ETL_LANDING_DIR=str(landing),
            ETL_WORKDIR=str(workdir),
            ETL_FETCH_ALLOW_HOSTS="127.0.0.1",
            ETL_FETCH_DELAY="0",
        )
        conf = json.dumps({"landing": str(landing), "workdir": str(workdir), "fetch_manifest": str(manifest)})
        dags_test(env, conf, tmp_path)
        assert site.hits["/reports/suichang-2021.txt"] == 1
    finally:
        site.stop()

    with sqlite3.connect(migrated_airflow_home / "airflow.db") as db:
        (run_id, state) = db.execute(
            "select run_id, state from dag_run where dag_id = ? order by id desc limit 1", (DAG_ID,)
        ).fetchone()
        tis = dict(
            db.execute(
                "select task_id, state from task_instance where dag_id = ? and run_id = ? and map_index <= 0",
                (DAG_ID, run_id),
            ).fetchall()
        )
        (fetched,) = db.execute(
            "select value from xcom where dag_id = ? and run_id = ? and task_id = 'fetch' and key = 'return_value'",
            (DAG_ID, run_id),
        ).fetchone()
    assert state == "success" and tis == {t: "success" for t in PIPELINE_CHAIN}, tis
    totals = json.loads(fetched)["totals"]
    assert (totals["fetched"], totals["failed"]) == (1, 1)  # the 10.x URL refused

    import duckdb

    con = duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select source_url, fetch_version, province, year from dim_report").fetchall()
    finally:
        con.close()
    url = f"http://127.0.0.1:{site.port}/reports/suichang-2021.txt"
    assert [(u, v, p, int(y)) for u, v, p, y in rows] == [(url, 1, "浙江省", 2021)]
