"""A run's summary as the task's note, where the Airflow UI shows it next to the task.

The Task SDK (1.3) has no call for a task to set its own note: the Execution API that tasks talk to reads
a DAG run's note but writes none (an upstream pull request to add ``ti.set_task_instance_note`` was closed
unmerged).  So the note goes through Airflow's public REST API, like a person editing it in the UI:
``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}[/{map_index}]?update_mask=note``, with a
token from the auth manager (``POST /auth/token`` with ETL_AIRFLOW_API_USER / _PASSWORD, or ``GET
/auth/token`` where the simple auth manager runs with all_admins).  ETL_AIRFLOW_API_URL unset (one machine,
``airflow dags test``: no API server runs) means no note: the summary is in the task log either way.  A note
that cannot be set is logged and never fails the task.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

log = logging.getLogger("etl.notes")

MAX_NOTE_CHARS = 1000  # Airflow's task_instance_note.content is VARCHAR(1000)


def summary_note(summary: dict[str, Any]) -> str:
    """The run summary (etl.pipeline.summarize) in a few Markdown lines, at most MAX_NOTE_CHARS long."""
    counts = summary.get("counts") or {}
    lines = [f"**run {summary.get('run_id', '?')}**"]
    if counts:
        lines.append(" · ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if "warnings" in summary:
        lines.append(f"warnings {summary['warnings']} in {summary.get('reports_with_warnings', 0)} reports")
    mart = summary.get("mart") or []
    if mart:
        years = sorted({r.get("year") for r in mart if r.get("year") is not None})
        provinces = {r.get("province") for r in mart}
        span = f"{years[0]}–{years[-1]}" if years else "?"
        lines.append(f"mart_province_year: {len(mart)} rows, {len(provinces)} provinces, {span}")
    for name in ("quarantined", "rejected"):
        items = summary.get(name) or {}
        if items:
            shown = ", ".join(sorted(items)[:3])
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            lines.append(f"{name}: {shown}{more}")
    if summary.get("dashboard"):
        lines.append(f"dashboard: {summary['dashboard']}")
    note = "\n\n".join(lines)
    return note if len(note) <= MAX_NOTE_CHARS else note[: MAX_NOTE_CHARS - 1] + "…"


def counts_note(result: dict[str, Any]) -> str:
    """A load's result (etl.pipeline.load) as a short note: the ledger counts and what was published."""
    keys = ("files", "loaded", "quarantined", "rejected", "duplicate")
    counts = " · ".join(f"{k} {result[k]}" for k in keys if k in result)
    years = result.get("years") or []
    if result.get("published", True) and years:
        state = "published report years " + ", ".join(str(y) for y in years)
    else:
        state = "nothing published: the warehouse is unchanged"
    return f"{counts}\n\n{state}"[:MAX_NOTE_CHARS]


def _token(client, settings) -> str:
    if settings.airflow_api_user and settings.airflow_api_password:
        response = client.post(
            "/auth/token",
            json={"username": settings.airflow_api_user, "password": settings.airflow_api_password},
        )
    else:
        response = client.get("/auth/token")
    response.raise_for_status()
    return response.json()["access_token"]


def set_note(ti: Any, note: str) -> str:
    """Set `note` on the running task instance `ti`; returns "set", or why not (never raises)."""
    import httpx

    from etl.config import load_service_settings

    settings = load_service_settings()
    if not settings.airflow_api_url:
        log.info("task note not set (ETL_AIRFLOW_API_URL unset): %s", note.replace("\n\n", " | "))
        return "off"
    path = f"/api/v2/dags/{quote(ti.dag_id, safe='')}/dagRuns/{quote(ti.run_id, safe='')}/taskInstances/{quote(ti.task_id, safe='')}"
    if getattr(ti, "map_index", -1) not in (-1, None):
        path += f"/{int(ti.map_index)}"
    try:
        with httpx.Client(base_url=settings.airflow_api_url, timeout=30) as client:
            headers = {"Authorization": f"Bearer {_token(client, settings)}"}
            response = client.patch(
                path, params={"update_mask": "note"}, json={"note": note[:MAX_NOTE_CHARS]}, headers=headers
            )
            response.raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.warning("task note not set through %s: %s", settings.airflow_api_url, exc)
        return f"{type(exc).__name__}: {exc}"
    log.info("task note set: %s", note.replace("\n\n", " | "))
    return "set"
