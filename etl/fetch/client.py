"""The HTTP client: httpx with the guard on every hop, retries with backoff, conditional GET, per-host
politeness (concurrency and delay), robots.txt, size and time caps, and content sniffing."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from etl.config import FetchSettings
from etl.fetch.guard import GuardedBackend, RefusedURL, check_url, host_key, robots_from

REDIRECTS = (301, 302, 303, 307, 308)
RETRYABLE = frozenset({429, 500, 502, 503, 504})
# magic numbers of the attachments report pages carry (scans come as images)
_IMAGE_MAGIC = {
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpg",
    b"GIF8": "gif",
    b"II*\x00": "tif",
    b"MM\x00*": "tif",
    b"BM": "bmp",
}


class FetchError(Exception):
    """A URL that could not be fetched; `status` is the HTTP status or a short reason (timeout, ...)."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


@dataclass
class Response:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    content: bytes
    redirects: list[str] = field(default_factory=list)
    attempts: int = 1


def sniff(content: bytes, content_type: str = "") -> str:
    """The kind of a body from its bytes first (servers often say octet-stream or lie), the header second."""
    head = content[:8192]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in content[:65536] or b"[Content_Types].xml" in head else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "doc"
    for magic, kind in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    from etl.extract import _HTML_SNIFF  # the landing scan's own test, so both agree on what HTML is

    ctype = content_type.split(";", 1)[0].strip().lower()
    if _HTML_SNIFF.search(head[:4096]) or ctype in ("text/html", "application/xhtml+xml"):
        return "html"
    if ctype.startswith("text/") or (head and b"\x00" not in head[:4096]):
        return "txt"
    return "bin"


def header_charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


def _retry_after(headers: httpx.Headers, default: float) -> float:
    value = headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return default


class _Host:
    """Politeness per host: at most `concurrency` requests in flight, `delay` seconds between starts."""

    def __init__(self, concurrency: int, delay: float):
        self.slots = threading.BoundedSemaphore(concurrency)
        self.lock = threading.Lock()
        self.next_start = 0.0
        self.delay = delay  # raised by a robots.txt Crawl-delay


class Fetcher:
    def __init__(self, settings: FetchSettings, sleep=time.sleep):
        self.s = settings
        self._sleep = sleep
        transport = httpx.HTTPTransport(retries=0, trust_env=False)
        pool = getattr(transport, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):  # an httpx upgrade must not drop the guard
            raise RuntimeError(
                "httpx transport without an httpcore network backend: cannot guard connections"
            )
        pool._network_backend = GuardedBackend(pool._network_backend, settings.allow_hosts)
        self.client = httpx.Client(
            transport=transport,
            follow_redirects=False,  # every hop goes through the guard and robots.txt
            trust_env=False,  # an environment proxy would connect on our behalf, past the guard
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            headers={"User-Agent": settings.user_agent},
        )
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, object] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}  # per host, every request sent (robots.txt and retries included)

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- public -------------------------------------------------------------------------------------------
    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET with redirects followed hop by hop (each checked); 304 is returned, not raised."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get(url, headers, check_robots=True)

    # -- internals ----------------------------------------------------------------------------------------
    def _get(self, url: str, headers: dict, check_robots: bool) -> Response:
        hops: list[str] = []
        current = url
        attempts = 0
        for _ in range(self.s.max_redirects + 1):
            check_url(current, self.s.allow_hosts)
            if check_robots:
                self._check_robots(current)
            status, resp_headers, content, n = self._with_retries(current, headers)
            attempts += n
            location = resp_headers.get("location")
            if status in REDIRECTS and location:
                current = urljoin(current, location)
                hops.append(current)
                continue
            if status >= 400:
                raise FetchError(f"HTTP {status} from {current}", str(status))
            return Response(url, current, status, dict(resp_headers), content, hops, attempts)
        raise FetchError(f"more than {self.s.max_redirects} redirects from {url}", "too many redirects")

    def _host(self, url: str) -> _Host:
        key = host_key(url)
        with self._lock:
            if key not in self._hosts:
                self._hosts[key] = _Host(self.s.per_host_concurrency, self.s.delay_s)
            return self._hosts[key]

    def _with_retries(self, url: str, headers: dict) -> tuple[int, httpx.Headers, bytes, int]:
        delay = self.s.backoff_s
        for attempt in range(self.s.retries + 1):
            last = attempt == self.s.retries
            try:
                status, resp_headers, content = self._once(url, headers)
            except httpx.TimeoutException as e:
                if last:
                    raise FetchError(f"timed out: {url}: {e}", "timeout") from e
                wait = delay
            except (
                httpx.TransportError
            ) as e:  # (a RefusedURL from the guarded backend is not one: it propagates)
                if last:
                    raise FetchError(f"network error: {url}: {e}", "network error") from e
                wait = delay
            else:
                if status not in RETRYABLE or last:
                    return status, resp_headers, content, attempt + 1
                wait = _retry_after(resp_headers, delay)
            self._sleep(min(wait, 60.0))
            delay *= 2
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict) -> tuple[int, httpx.Headers, bytes]:
        host = self._host(url)
        with host.slots:
            with host.lock:
                now = time.monotonic()
                wait = host.next_start - now
                host.next_start = max(now, host.next_start) + host.delay
            if wait > 0:
                self._sleep(wait)
            with self._lock:
                key = host_key(url)
                self.requests[key] = self.requests.get(key, 0) + 1
            deadline = time.monotonic() + self.s.timeout_s
            with self.client.stream("GET", url, headers=headers) as r:
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.s.max_bytes:
                    raise FetchError(f"{url}: {declared} bytes > cap {self.s.max_bytes}", "too large")
                body = bytearray()
                for chunk in r.iter_bytes():  # decoded: a gzip bomb meets the cap too
                    body += chunk
                    if len(body) > self.s.max_bytes:
                        raise FetchError(f"{url}: more than {self.s.max_bytes} bytes", "too large")
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout(f"body not complete in {self.s.timeout_s} s")
                return r.status_code, r.headers, bytes(body)

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:  # one robots.txt request per origin, however many threads ask at once
            origin_lock = self._robots_locks.setdefault(origin, threading.Lock())
        with origin_lock:
            rp = self._robots.get(origin)
            if rp is None:
                try:
                    resp = self._get(origin + "/robots.txt", {}, check_robots=False)
                    rp = robots_from(resp.status, resp.content.decode("utf-8", errors="replace"))
                except FetchError as e:  # none (404) or a broken one (5xx, timeout): not a refusal
                    rp = robots_from(int(e.status) if e.status.isdigit() else 500, "")
                self._robots[origin] = rp
                crawl_delay = rp.crawl_delay(self.s.user_agent)
                if crawl_delay:  # the site's own pace, never faster than ours (capped: a typo must not stall)
                    host = self._host(url)
                    host.delay = max(host.delay, min(float(crawl_delay), 60.0))
        if not rp.can_fetch(self.s.user_agent, url):
            raise RefusedURL(f"robots.txt of {origin} disallows {url}")
