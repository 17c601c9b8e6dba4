"""On a failed task: tell a person, in three places.

1. ``<workdir>/alerts.jsonl``: one JSON line per failed task instance (what failed, in which run, the
   error, where its log is), beside the runs a person is looking at anyway; ``tail -f`` it, ship it.
2. An ERROR log line starting ``ALERT`` in the task log (and so in whatever collects the logs).
3. ``ETL_ALERT_WEBHOOK_URL``, when set: the same record POSTed as JSON (a chat room, a pager).

A delivery that fails is logged and never hides the others (the file is written first: it is local).  This
module imports nothing at parse time; the settings are read when a task fails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("etl.alerts")

MAX_ERROR_CHARS = 2000


def alert_record(context: Mapping[str, Any]) -> dict[str, Any]:
    """What a person needs to act on a failed task, from Airflow's task context."""
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    error = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", -1),
        "try_number": getattr(ti, "try_number", None),
        "max_tries": getattr(ti, "max_tries", None),
        "error": error[:MAX_ERROR_CHARS],
        "log_url": getattr(ti, "log_url", None),
    }


def _alerts_path(context: Mapping[str, Any]) -> Path:
    """The run's workdir (its `workdir` param, else etl.config's) / alerts.jsonl."""
    from etl.config import load_settings

    value = (context.get("params") or {}).get("workdir")
    return load_settings(workdir=Path(value) if value else None).alerts_path


def raise_alert(record: dict[str, Any], alerts_path: Path | None) -> dict[str, str]:
    """Deliver one alert; returns how each channel went ("ok", "off" or the error)."""
    from etl.config import load_service_settings

    settings = load_service_settings()
    went: dict[str, str] = {"file": "off"}
    if alerts_path is not None:
        try:
            alerts_path.parent.mkdir(parents=True, exist_ok=True)
            with alerts_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            went["file"] = "ok"
        except OSError as exc:
            went["file"] = f"{type(exc).__name__}: {exc}"
    log.error(
        "ALERT %s.%s%s failed in run %s (try %s of %s): %s; log: %s; alerts: %s",
        record["dag_id"],
        record["task_id"],
        f"[{record['map_index']}]" if record.get("map_index", -1) not in (-1, None) else "",
        record["run_id"],
        record["try_number"],
        record["max_tries"],
        record["error"],
        record["log_url"],
        alerts_path,
    )
    went["log"] = "ok"
    if settings.alert_webhook_url:
        went["webhook"] = _post(settings.alert_webhook_url, record, settings.alert_timeout_s)
    else:
        went["webhook"] = "off"
    if went["file"] not in ("ok", "off"):
        log.error("ALERT could not be written to %s: %s", alerts_path, went["file"])
    return went


def _post(url: str, record: dict[str, Any], timeout_s: float) -> str:
    import httpx

    try:
        response = httpx.post(url, json=record, timeout=timeout_s)
        response.raise_for_status()
        return "ok"
    except httpx.HTTPError as exc:
        log.error("ALERT webhook %s failed: %s", url, exc)
        return f"{type(exc).__name__}: {exc}"


def on_failure(context: Mapping[str, Any]) -> None:
    """The tasks' on_failure_callback (defaults.DEFAULT_ARGS)."""
    record = alert_record(context)
    try:
        alerts_path = _alerts_path(context)
    except Exception as exc:  # noqa: BLE001 - a broken setting must not swallow the alert itself
        log.error("ALERT: no workdir for the alerts file (%s); the log line and the webhook only", exc)
        alerts_path = None
    raise_alert(record, alerts_path)
