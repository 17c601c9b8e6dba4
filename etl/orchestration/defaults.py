"""Settings every DAG of the project shares: owner, retries, timeouts, the failure callback, time zone."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from etl.orchestration.callbacks import on_failure
from etl.orchestration.retry import FailFastOnDeterministicErrors

# Reports are filed by Chinese agencies on Beijing dates; the schedules read in that time zone.
TIMEZONE = "Asia/Shanghai"
START_DATE = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
TAGS = ["etl", "annual-reports"]

# One slot: the warehouse has one writer at a time (a DuckDB file allows one; on PostgreSQL two publishes of
# the same year partitions would serialize on locks anyway).  Created by `make run` and the tests:
# `airflow pools set warehouse 1 ...` (docs/deploy.md).
WAREHOUSE_POOL = "warehouse"

DEFAULT_ARGS = {
    "owner": "data-eng",
    "depends_on_past": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "retry_policy": FailFastOnDeterministicErrors(),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": on_failure,
}
