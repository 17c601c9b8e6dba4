"""The report templates' cell codes (shipped copies of shared/spec, checked equal by a test)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

TEMPLATES = ("2021", "2019")

APPLICANT_COLUMNS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
)
T4_BLOCKS = ("review", "litigation_direct", "litigation_after_review")
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")


@dataclass(frozen=True)
class Cell:
    code: str
    table: str
    section: str
    row_label: str
    column_label: str
    unit: str

    @property
    def row(self) -> str:
        """'t3.granted.total' -> 'granted'."""
        return self.code.split(".")[1]

    @property
    def column(self) -> str:
        return self.code.split(".")[2]


@cache
def cells(template: str) -> tuple[Cell, ...]:
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}")
    text = resources.files(__name__).joinpath(f"cells-{template}.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return tuple(Cell(**r) for r in rows)


@cache
def codes(template: str) -> tuple[str, ...]:
    return tuple(c.code for c in cells(template))


@cache
def t3_rows(template: str) -> tuple[str, ...]:
    """表三 row keys in template order (new_received ... total, carried_forward)."""
    seen: dict[str, None] = {}
    for c in cells(template):
        if c.table == "三":
            seen.setdefault(c.row)
    return tuple(seen)


def t3_outcome_rows(template: str) -> tuple[str, ...]:
    """The outcome rows of 三、本年度办理结果 that add up to （七）总计."""
    rows = t3_rows(template)
    return rows[rows.index("carried_over") + 1 : rows.index("total")]


@cache
def t2_rows(template: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """表二 rows in template order: (row key, its column keys)."""
    out: dict[str, list[str]] = {}
    for c in cells(template):
        if c.table == "二":
            out.setdefault(c.row, []).append(c.column)
    return tuple((r, tuple(cs)) for r, cs in out.items())
