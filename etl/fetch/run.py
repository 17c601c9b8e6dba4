"""`python -m etl fetch MANIFEST --landing DIR` and the DAG's fetch task: manifest and listing URLs ->
the landing folder's raw store, with a per-host summary.

Jobs: a *listing* page yields report links (and its next pages); a *report* URL is fetched conditionally
and stored; a report that is an HTML page yields its attachments, fetched as reports of that page (the
page's hints travel with them, and the sidecar records the page so the pipeline counts the pair once).
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from etl.config import FetchSettings, load_fetch_settings, load_settings
from etl.fetch.client import Fetcher, FetchError, sniff
from etl.fetch.guard import RefusedURL, host_key
from etl.fetch.listing import attachments, column, year_hint
from etl.fetch.manifest import Entry, read_manifest
from etl.fetch.store import Store, now_iso


@dataclass(frozen=True)
class Job:
    kind: str  # listing | report
    url: str
    hints: dict = field(default_factory=dict)
    page_url: str | None = None  # for an attachment: the report page that links it
    root: str | None = None  # for a listing page: the column it paginates


def _host(url: str) -> str:
    return host_key(url) or (urlsplit(url).scheme + ":")


class _Tally:
    """Per-host counts, thread-safe: fetched (new URL), changed (new version), unchanged, failed by status."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hosts: dict[str, dict] = {}
        self.failures: list[dict] = []

    def _h(self, url: str) -> dict:
        return self.hosts.setdefault(
            _host(url), {"fetched": 0, "changed": 0, "unchanged": 0, "listing_pages": 0, "failed": {}}
        )

    def add(self, url: str, what: str) -> None:
        with self.lock:
            self._h(url)[what] += 1

    def fail(self, url: str, status: str, reason: str) -> None:
        with self.lock:
            failed = self._h(url)["failed"]
            failed[status] = failed.get(status, 0) + 1
            self.failures.append({"url": url, "status": status, "reason": reason})


def _run_job(job: Job, fetcher: Fetcher, store: Store, tally: _Tally, max_pages: int) -> list[Job]:
    try:
        if job.kind == "listing":
            resp = fetcher.get(job.url)
            tally.add(job.url, "listing_pages")
            reports, pages = column(resp.content, resp.final_url, resp.headers.get("content-type", ""))
            found = [
                Job("report", link.url, {**job.hints, "year": year_hint(link.text) or job.hints.get("year")})
                for link in reports
            ]
            root = job.root or job.url
            return found + [Job("listing", p, job.hints, root=root) for p in pages[:max_pages]]
        etag, last_modified = store.validators(job.url)
        resp = fetcher.get(job.url, etag=etag, last_modified=last_modified)
        if resp.status != 200 and not (resp.status == 304 and (etag or last_modified)):
            # 204, 206, or a 304 to a request that asked for none: no report bytes to store
            raise FetchError(f"HTTP {resp.status} from {resp.final_url}: no body to store", str(resp.status))
        tally.add(job.url, store.record(resp, job.hints, job.page_url))
        if job.page_url is not None:
            return []  # an attachment's own links are not followed
        content = resp.content if resp.status != 304 else (store.current_bytes(job.url) or b"")
        ctype = resp.headers.get("content-type", "")
        if sniff(content, ctype) != "html":
            return []
        return [
            Job("report", a, job.hints, page_url=job.url) for a in attachments(content, resp.final_url, ctype)
        ]
    except RefusedURL as e:
        tally.fail(job.url, "refused", str(e))
    except FetchError as e:
        tally.fail(job.url, e.status, str(e))
    except Exception as e:  # one bad URL must not stop the crawl: it is counted with the reason
        tally.fail(job.url, "error", f"{type(e).__name__}: {e}")
    return []


def fetch(
    entries: list[Entry],
    landing: Path,
    settings: FetchSettings | None = None,
    progress: bool = True,
) -> dict:
    """Fetch every manifest entry (and what listing and report pages lead to) into `landing`."""
    settings = settings or load_fetch_settings()
    landing.mkdir(parents=True, exist_ok=True)
    store = Store(landing)
    tally = _Tally()
    started = now_iso()
    seen: set[str] = set()
    pages_per_root: dict[str, int] = {}
    from rich.console import Console
    from rich.progress import Progress

    with (
        Fetcher(settings) as fetcher,
        ThreadPoolExecutor(settings.workers, thread_name_prefix="fetch") as pool,
        Progress(console=Console(stderr=True), disable=not progress) as bar,
    ):
        task = bar.add_task("fetch", total=0)
        pending = set()

        def submit(job: Job) -> None:
            if job.url in seen:
                return
            if job.root is not None:  # pagination: at most max_pages pages per column
                pages_per_root[job.root] = pages_per_root.get(job.root, 1) + 1
                if pages_per_root[job.root] > settings.max_pages:
                    return
            seen.add(job.url)
            bar.update(task, total=len(seen))
            pending.add(pool.submit(_run_job, job, fetcher, store, tally, settings.max_pages))

        for e in entries:
            submit(Job(e.kind, e.url, e.hints))
        finished = 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                bar.advance(task)
                finished += 1
                if finished % 50 == 0:  # an interrupted crawl keeps its validators and versions
                    store.save()
                for job in fut.result():
                    submit(job)
        requests = dict(fetcher.requests)
    hosts = {h: {**c, "requests": requests.get(h, 0)} for h, c in sorted(tally.hosts.items())}
    totals = {k: sum(c[k] for c in hosts.values()) for k in ("fetched", "changed", "unchanged", "requests")}
    totals["failed"] = sum(sum(c["failed"].values()) for c in hosts.values())
    summary = {
        "started_at": started,
        "finished_at": now_iso(),
        "landing": str(landing),
        "urls": len(seen),
        "totals": totals,
        "hosts": hosts,
        "failures": sorted(tally.failures, key=lambda f: f["url"]),
    }
    store.save(summary)
    return summary


def fetch_manifest(
    manifest: Path | None, landing: Path, listings: list[str] = (), progress: bool = True
) -> dict:
    entries = read_manifest(manifest) if manifest else []
    entries += [Entry(url, "listing") for url in listings]
    return fetch(entries, landing, progress=progress)


def dag_task(params: dict | None = None) -> dict:
    """The DAG's fetch task: runs only when a manifest is configured (the `fetch_manifest` param, else
    ETL_FETCH_MANIFEST); otherwise it does nothing and says so. Returns small counts for XCom."""
    params = params or {}
    manifest = params.get("fetch_manifest") or load_fetch_settings().manifest
    if not manifest:
        return {"skipped": "no fetch manifest configured (param fetch_manifest or ETL_FETCH_MANIFEST)"}
    landing = load_settings(Path(params["landing"]) if params.get("landing") else None).landing_dir
    summary = fetch_manifest(Path(manifest), landing, progress=False)
    for f in summary["failures"]:
        print(f"fetch failed ({f['status']}): {f['url']}: {f['reason']}", file=sys.stderr)
    return {"landing": str(landing), "urls": summary["urls"], "totals": summary["totals"]}
