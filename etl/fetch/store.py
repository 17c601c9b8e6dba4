"""The raw store inside the landing folder: bytes content-addressed, fetch metadata in a sidecar.

    <landing>/web/<host>/<sha256[:16]>.<ext>             the current bytes of one or more URLs
    <landing>/web/<host>/<sha256[:16]>.<ext>.fetch.json  their fetch metadata (the landing scan reads it as
                                                         metadata of the file beside it, never as a report)
    <landing>/.fetch/state.json                          url -> current file, validators, version
    <landing>/.fetch/versions/<host>/...                 superseded versions, kept with their sidecars
    <landing>/.fetch/summary.json                        the last fetch's summary (run summary, dashboard)

Hidden folders are not scanned, so only the current version of each URL flows through the pipeline; the
warehouse records which one it holds (dim_report.source_url, fetched_at, fetch_version).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

from etl.fetch.client import Response, sniff
from etl.fetch.guard import host_key

SIDECAR_SUFFIX = ".fetch.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
# response headers worth keeping (the rest is server noise)
_KEEP_HEADERS = ("content-type", "content-length", "etag", "last-modified", "date", "content-disposition")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def read_sidecar(path: Path) -> dict | None:
    """The fetch metadata of a landing file, if it came from the web (etl.extract.fetch_metadata reads the
    same sidecar for the pipeline, without importing the HTTP client)."""
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Store:
    def __init__(self, landing: Path):
        self.landing = landing
        self.meta_dir = landing / ".fetch"
        self._lock = threading.Lock()
        state = self.meta_dir / "state.json"
        self.state: dict[str, dict] = json.loads(state.read_text(encoding="utf-8")) if state.exists() else {}

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the URL's current file (none if that file is gone)."""
        prev = self.state.get(url)
        if not prev or not (self.landing / prev["path"]).is_file():
            return None, None
        return prev.get("etag"), prev.get("last_modified")

    def current_bytes(self, url: str) -> bytes | None:
        prev = self.state.get(url)
        path = self.landing / prev["path"] if prev else None
        return path.read_bytes() if path and path.is_file() else None

    def record(self, resp: Response, hints: dict, page_url: str | None) -> str:
        """Store one response: 'unchanged' (304 or the same bytes), 'fetched' (new URL) or 'changed'."""
        with self._lock:
            prev = self.state.get(resp.url)
            if prev and not (self.landing / prev["path"]).is_file():
                prev = None
            fetched_at = now_iso()
            if prev and resp.status == 304:
                prev["checked_at"] = fetched_at
                return "unchanged"
            sha = hashlib.sha256(resp.content).hexdigest()
            etag, last_modified = resp.headers.get("etag"), resp.headers.get("last-modified")
            if prev and prev["sha256"] == sha:
                prev.update(checked_at=fetched_at, etag=etag, last_modified=last_modified)
                return "unchanged"
            kind = sniff(resp.content, resp.headers.get("content-type", ""))
            folder = self.landing / "web" / (_UNSAFE.sub("_", host_key(resp.url)) or "unknown")
            path = folder / f"{sha[:16]}.{kind}"
            version = (prev["version"] + 1) if prev else 1
            source = {
                "url": resp.url,
                "final_url": resp.final_url,
                "redirects": resp.redirects,
                "fetched_at": fetched_at,
                "status": resp.status,
                "headers": {k: resp.headers[k] for k in _KEEP_HEADERS if k in resp.headers},
                "hints": {k: v for k, v in hints.items() if v not in (None, "")},
                "page_url": page_url,
                "version": version,
            }
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_bytes(resp.content)
                tmp.replace(path)
            meta = read_sidecar(path) or {
                "sha256": sha,
                "size": len(resp.content),
                "kind": kind,
                "sources": [],
            }
            meta["sources"] = [s for s in meta["sources"] if s.get("url") != resp.url] + [source]
            _write_json(path.with_name(path.name + SIDECAR_SUFFIX), meta)
            if prev:
                self._supersede(resp.url, self.landing / prev["path"])
            self.state[resp.url] = {
                "path": path.relative_to(self.landing).as_posix(),
                "sha256": sha,
                "etag": etag,
                "last_modified": last_modified,
                "version": version,
                "fetched_at": fetched_at,
                "checked_at": fetched_at,
                "versions": [*(prev or {}).get("versions", []), {"version": version, "sha256": sha}],
            }
            return "changed" if prev else "fetched"

    def _supersede(self, url: str, old: Path) -> None:
        """The URL no longer serves `old`: drop it from the sidecar; bytes no URL serves any more move to
        .fetch/versions (kept, no longer scanned)."""
        meta = read_sidecar(old)
        side = old.with_name(old.name + SIDECAR_SUFFIX)
        rest = [s for s in (meta or {}).get("sources", []) if s.get("url") != url]
        if rest:
            _write_json(side, {**meta, "sources": rest})
            return
        target = self.meta_dir / "versions" / old.parent.relative_to(self.landing / "web")
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(old), target / old.name)
        if side.exists():
            superseded = {**(meta or {}), "superseded_at": now_iso()}
            _write_json(target / side.name, superseded)
            side.unlink()

    def save(self, summary: dict | None = None) -> None:
        with self._lock:
            _write_json(self.meta_dir / "state.json", self.state)
            if summary is not None:
                _write_json(self.meta_dir / "summary.json", summary)


def last_summary(landing: Path) -> dict | None:
    path = landing / ".fetch" / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
