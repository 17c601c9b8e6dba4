"""What the DAGs in dags/ are made of; the DAG files only declare tasks and their order.

    retry.py      FailFastOnDeterministicErrors: fail at once on an error no retry can fix
    defaults.py   owner, retries, timeouts, the failure callback, the timezone, the warehouse pool
    params.py     the DAG params (landing, workdir, fetch manifest, report years, rebuild)
    schedule.py   the sweep (daily January-March, weekly otherwise) and the yearly rebuild timetables
    assets.py     the warehouse facts and the marts, as Airflow Assets (the warehouse DAG follows the facts)
    tasks.py      every task body: thin calls into etl.pipeline, paths and small dicts through XCom
    callbacks.py  on failure: an alert line under the workdir, an ERROR log line, an optional webhook
    notes.py      a run's summary as the task's note (through Airflow's REST API)

Parse-time rule (tests/test_dag.py): importing any of these modules imports only airflow.sdk, pendulum and
the standard library.  etl.pipeline, etl.config and everything heavy behind them (pandas, Great
Expectations, DuckDB, pyarrow) are imported inside the task bodies and callbacks, when a task runs, so the
DAG processor parses the DAG files in milliseconds.
"""
