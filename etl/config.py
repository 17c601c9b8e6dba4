"""The one config surface: every setting is an environment variable with a sane default, read here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PARSER_VERSION = "0.1.0"


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

    @property
    def warehouse_path(self) -> Path:
        return self.workdir / "warehouse.duckdb"


def load_settings(landing: Path | None = None, workdir: Path | None = None) -> Settings:
    """Settings from the environment; explicit arguments (CLI flags) win over the environment."""
    return Settings(
        landing_dir=landing.resolve()
        if landing
        else _env_path("ETL_LANDING_DIR", PROJECT_ROOT / "sample" / "landing"),
        workdir=workdir.resolve() if workdir else _env_path("ETL_WORKDIR", PROJECT_ROOT / "var"),
        batch_size=int(os.environ.get("ETL_BATCH_SIZE", "200")),
        # PostgreSQL for teams (issue 6); None means the embedded DuckDB file under the workdir.
        warehouse_url=os.environ.get("ETL_WAREHOUSE_URL") or None,
        warehouse_schema=os.environ.get("ETL_WAREHOUSE_SCHEMA") or "annual_reports",
        # the embedded warehouse's memory budget (DuckDB spills past it): peak RSS stays flat at any N
        duckdb_memory_limit=os.environ.get("ETL_DUCKDB_MEMORY_LIMIT") or "1GB",
        corrections_file=_env_path("ETL_CORRECTIONS_FILE", PROJECT_ROOT / "corrections" / "corrections.csv"),
        bench_dir=_env_path("ETL_BENCH_DIR", PROJECT_ROOT / "var" / "bench"),
        bench_doc=_env_path("ETL_BENCH_DOC", PROJECT_ROOT / "docs" / "benchmarks.md"),
    )


@dataclass(frozen=True)
class OcrSettings:
    dpi: int  # scanned PDFs are rendered at this resolution for OCR (image files keep their own)
    max_pages: int  # a scan with more pages is rejected: OCR costs ~1-2 s a page, so this bounds a file
    all_pages: bool  # OCR every page (else page 1 and the ruled-table pages: faster, less metadata evidence)


def ocr_settings() -> OcrSettings:
    return OcrSettings(
        dpi=int(os.environ.get("ETL_OCR_DPI", "200")),
        max_pages=int(os.environ.get("ETL_OCR_MAX_PAGES", "40")),
        all_pages=os.environ.get("ETL_OCR_ALL_PAGES", "1") not in ("", "0", "false", "no"),
    )
