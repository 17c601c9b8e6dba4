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


def label_for(report: Path) -> Path:
    """fj-pingtan-2021.page.txt -> fj-pingtan-2021.expected.json; x.page.html -> x.page.expected.json."""
    exact = report.with_name(report.name.rsplit(".", 1)[0] + ".expected.json")
    if exact.exists():
        return exact
    return report.with_name(report.name.split(".")[0] + ".expected.json")


def labelled_reports() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.iterdir() if not p.name.endswith(".json") and label_for(p).exists())


def load_label(report: Path) -> dict:
    return json.loads(label_for(report).read_text(encoding="utf-8"))


@pytest.fixture
def shared_corpus() -> Path:
    if not REAL.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared corpus at {REAL}")
        pytest.skip(f"shared corpus not found at {REAL}")
    return REAL
