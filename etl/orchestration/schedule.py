"""When the DAGs run.

Sweep (the ingest DAG): reports for year Y are due by 31 January of Y+1 and most agencies publish in
January and February, late ones into March; the rest of the year brings corrections and stragglers.  So the
landing area is swept daily from January to March and weekly (Mondays) from April to December, at 02:00
Beijing time.  Every sweep processes what the landing area holds (incremental: only new or changed files are
parsed), so a missed sweep needs no catch-up: the next one covers it.

Rebuild (the rebuild DAG): one run per report year, its logical date's year.  The data interval of report
year Y runs from 1 April Y to 1 April Y+1, so the scheduled run fires on 1 April of Y+1, when Y's filing
season is over, and republishes Y from scratch; `airflow backfill create --dag-id annual_reports_rebuild
--from-date 2021-01-01 --to-date 2022-12-31` rebuilds 2021 and 2022 (logical dates 2021-04-01, 2022-04-01).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from airflow.sdk import CronDataIntervalTimetable, MultipleCronTriggerTimetable

from etl.orchestration.defaults import TIMEZONE

SWEEP_DAILY = "0 2 * 1-3 *"  # every day in January, February and March
SWEEP_WEEKLY = "0 2 * 4-12 1"  # Mondays, April to December
REBUILD_YEARLY = "0 3 1 4 *"  # 1 April: the previous report year's filing season is over


def sweep() -> MultipleCronTriggerTimetable:
    return MultipleCronTriggerTimetable(SWEEP_DAILY, SWEEP_WEEKLY, timezone=TIMEZONE)


def yearly_rebuild() -> CronDataIntervalTimetable:
    return CronDataIntervalTimetable(REBUILD_YEARLY, timezone=TIMEZONE)


def report_year(logical_date: datetime) -> int:
    """The report year a rebuild run covers: its logical date's year, read in Beijing time."""
    return logical_date.astimezone(ZoneInfo(TIMEZONE)).year
