"""Shared test fixtures: the labelled corpus lives in ../shared (never copied into the project)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
REAL = SHARED / "corpus" / "real"
SEED = PROJECT / "sample" / "landing" / "suichang-2021.txt"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def label_for(report: Path) -> Path | None:
    """The label whose "file" names this report (x.page.txt and x.page.html may sit beside each other)."""
    for candidate in (report.name.rsplit(".", 1)[0], report.name.split(".")[0]):
        path = report.with_name(candidate + ".expected.json")
        if path.exists() and json.loads(path.read_text(encoding="utf-8")).get("file") == report.name:
            return path
    return None


def labelled_reports() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.iterdir() if not p.name.endswith(".json") and label_for(p) is not None)


def load_label(report: Path) -> dict:
    return json.loads(label_for(report).read_text(encoding="utf-8"))


@pytest.fixture
def shared_corpus() -> Path:
    if not REAL.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared corpus at {REAL}")
        pytest.skip(f"shared corpus not found at {REAL}")
    return REAL
