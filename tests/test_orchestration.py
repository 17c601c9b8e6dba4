"""etl.orchestration's callbacks and notes, without Airflow: a task context is a mapping, a task instance an
object with dag_id/run_id/task_id/map_index (what the Task SDK hands them).  The real thing runs in
tests/test_dag.py (a failing task's alert) and tests/test_celery.py (the notes, through the API server)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from etl.orchestration import callbacks, notes

RUN_ID = "scheduled__2027-01-05T02:00:00+08:00"


def _ti(**over):
    base = dict(
        dag_id="annual_reports",
        run_id=RUN_ID,
        task_id="load",
        map_index=-1,
        try_number=1,
        max_tries=2,
        log_url="http://airflow/dags/annual_reports/runs/x/tasks/load",
    )
    return SimpleNamespace(**(base | over))


class Recorder:
    """A local HTTP server that records requests and answers with canned responses by (method, path)."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, dict]] | None = None):
        self.requests: list[dict] = []
        self.answers = answers or {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": path,
                        "query": query,
                        "auth": self.headers.get("Authorization"),
                        "json": json.loads(body) if body else None,
                    }
                )
                status, payload = recorder.answers.get((self.command, path), (200, {}))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _no_service_settings(monkeypatch):
    for name in (
        "ETL_ALERT_WEBHOOK_URL",
        "ETL_AIRFLOW_API_URL",
        "ETL_AIRFLOW_API_USER",
        "ETL_AIRFLOW_API_PASSWORD",
        "ETL_WORKDIR",
    ):
        monkeypatch.delenv(name, raising=False)


# -- alerts -------------------------------------------------------------------------------------------------


def test_failure_writes_an_alert_line_and_an_error_log(tmp_path, caplog):
    context = {
        "ti": _ti(task_id="parse", map_index=3, try_number=3),
        "exception": OSError("disk full"),
        "params": {"workdir": str(tmp_path / "work")},
    }
    with caplog.at_level(logging.ERROR, logger="etl.alerts"):
        callbacks.on_failure(context)
    (line,) = (tmp_path / "work" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    alert = json.loads(line)
    assert {k: alert[k] for k in ("dag_id", "run_id", "task_id", "map_index", "try_number", "max_tries")} == {
        "dag_id": "annual_reports",
        "run_id": RUN_ID,
        "task_id": "parse",
        "map_index": 3,
        "try_number": 3,
        "max_tries": 2,
    }
    assert alert["error"] == "OSError: disk full"
    assert alert["log_url"].startswith("http://airflow/")
    (record,) = [r for r in caplog.records if r.name == "etl.alerts"]
    assert record.levelno == logging.ERROR
    message = record.getMessage()
    assert (
        message.startswith(f"ALERT annual_reports.parse[3] failed in run {RUN_ID}") and "disk full" in message
    )


def test_alerts_append_and_default_to_the_configured_workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_WORKDIR", str(tmp_path / "var"))
    for task_id in ("extract", "load"):
        callbacks.on_failure({"ti": _ti(task_id=task_id), "exception": ValueError("x"), "params": {}})
    lines = (tmp_path / "var" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["task_id"] for x in lines] == ["extract", "load"]


def test_long_errors_are_cut(tmp_path):
    record = callbacks.alert_record({"ti": _ti(), "exception": RuntimeError("x" * 10_000)})
    assert len(record["error"]) == callbacks.MAX_ERROR_CHARS


def test_webhook_gets_the_alert(tmp_path, monkeypatch):
    with Recorder() as hook:
        monkeypatch.setenv("ETL_ALERT_WEBHOOK_URL", hook.url + "/hooks/etl")
        went = callbacks.raise_alert(
            callbacks.alert_record({"ti": _ti(), "exception": KeyError("year")}), tmp_path / "alerts.jsonl"
        )
    assert went == {"file": "ok", "log": "ok", "webhook": "ok"}
    (request,) = hook.requests
    assert (request["method"], request["path"]) == ("POST", "/hooks/etl")
    assert request["json"]["task_id"] == "load" and request["json"]["error"] == "KeyError: 'year'"


def test_a_failing_webhook_does_not_lose_the_alert(tmp_path, monkeypatch, caplog):
    with Recorder({("POST", "/down"): (503, {})}) as hook:
        monkeypatch.setenv("ETL_ALERT_WEBHOOK_URL", hook.url + "/down")
        with caplog.at_level(logging.ERROR, logger="etl.alerts"):
            went = callbacks.raise_alert(
                callbacks.alert_record({"ti": _ti(), "exception": ValueError("x")}), tmp_path / "a.jsonl"
            )
    assert went["file"] == "ok" and went["webhook"].startswith("HTTPStatusError")
    assert (tmp_path / "a.jsonl").exists()
    assert any("webhook" in r.getMessage() for r in caplog.records)


def test_an_unwritable_alerts_file_still_logs(tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with caplog.at_level(logging.ERROR, logger="etl.alerts"):
        went = callbacks.raise_alert(
            callbacks.alert_record({"ti": _ti(), "exception": ValueError("x")}), blocker / "alerts.jsonl"
        )
    assert went["file"].startswith(("NotADirectoryError", "FileExistsError")) and went["log"] == "ok"
    assert sum(r.getMessage().startswith("ALERT") for r in caplog.records) == 2


# -- notes --------------------------------------------------------------------------------------------------

SUMMARY = {
    "run_id": "manual__2027-01-05",
    "counts": {"files": 12, "loaded": 9, "quarantined": 1, "rejected": 1, "duplicate": 1},
    "warnings": 4,
    "reports_with_warnings": 2,
    "quarantined": {"a.pdf": ["t3.col_balance.total"]},
    "rejected": {f"notes-{i}.txt": "not a report" for i in range(5)},
    "duplicates": ["b.txt"],
    "mart": [
        {"province": "浙江省", "year": 2021},
        {"province": "浙江省", "year": 2022},
        {"province": "江苏省", "year": 2022},
    ],
    "dashboard": "/var/dashboard.html",
}


def test_summary_note():
    note = notes.summary_note(SUMMARY)
    assert note.splitlines()[0] == "**run manual__2027-01-05**"
    assert "duplicate 1 · files 12 · loaded 9 · quarantined 1 · rejected 1" in note
    assert "warnings 4 in 2 reports" in note
    assert "mart_province_year: 3 rows, 2 provinces, 2021–2022" in note
    assert "quarantined: a.pdf" in note
    assert "rejected: notes-0.txt, notes-1.txt, notes-2.txt and 2 more" in note
    assert "dashboard: /var/dashboard.html" in note


def test_summary_note_fits_airflows_column():
    big = SUMMARY | {"run_id": "r" * 5000}
    assert len(notes.summary_note(big)) == notes.MAX_NOTE_CHARS


def test_counts_note():
    published = {
        "files": 3,
        "loaded": 2,
        "quarantined": 0,
        "rejected": 1,
        "duplicate": 0,
        "years": [2021, 2022],
    }
    assert notes.counts_note(published | {"published": True}) == (
        "files 3 · loaded 2 · quarantined 0 · rejected 1 · duplicate 0\n\npublished report years 2021, 2022"
    )
    assert notes.counts_note(published | {"published": False, "years": []}).endswith(
        "nothing published: the warehouse is unchanged"
    )


def test_no_api_configured_means_no_note():
    assert notes.set_note(_ti(), "hello") == "off"


def test_note_goes_through_the_rest_api(monkeypatch):
    answers = {("GET", "/auth/token"): (201, {"access_token": "T0K"})}
    with Recorder(answers) as api:
        monkeypatch.setenv("ETL_AIRFLOW_API_URL", api.url + "/")
        assert notes.set_note(_ti(task_id="parse", map_index=2), "n" * 5000) == "set"
    token, patch = api.requests
    assert (token["method"], token["path"]) == ("GET", "/auth/token")
    assert patch["method"] == "PATCH"
    # the run id's ':' and '+' are escaped into one path segment; a mapped instance names its index
    assert patch["path"] == (
        "/api/v2/dags/annual_reports/dagRuns/scheduled__2027-01-05T02%3A00%3A00%2B08%3A00/taskInstances/parse/2"
    )
    assert patch["query"] == "update_mask=note"
    assert patch["auth"] == "Bearer T0K"
    assert patch["json"] == {"note": "n" * notes.MAX_NOTE_CHARS}


def test_note_with_credentials_posts_them(monkeypatch):
    answers = {("POST", "/auth/token"): (201, {"access_token": "T"})}
    with Recorder(answers) as api:
        monkeypatch.setenv("ETL_AIRFLOW_API_URL", api.url)
        monkeypatch.setenv("ETL_AIRFLOW_API_USER", "etl")
        monkeypatch.setenv("ETL_AIRFLOW_API_PASSWORD", "secret")
        assert notes.set_note(_ti(), "x") == "set"
    assert api.requests[0]["json"] == {"username": "etl", "password": "secret"}
    assert api.requests[1]["path"].endswith("/taskInstances/load")


def test_a_refused_note_never_fails_the_task(monkeypatch):
    answers = {("GET", "/auth/token"): (403, {"detail": "all_admins is off"})}
    with Recorder(answers) as api:
        monkeypatch.setenv("ETL_AIRFLOW_API_URL", api.url)
        assert notes.set_note(_ti(), "x").startswith("HTTPStatusError")
    monkeypatch.setenv("ETL_AIRFLOW_API_URL", "http://127.0.0.1:9")  # nothing listens
    assert notes.set_note(_ti(), "x").startswith("ConnectError")
