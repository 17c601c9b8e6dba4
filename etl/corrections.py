"""Reviewed corrections: a CSV that reviewers maintain to fix cells of quarantined reports.

Columns: report_id, cell, corrected_value, reviewer, reason, date (ISO). Transform applies them with an audit
trail (the printed value stays in `printed_value`, the correction is named in `correction`); the report is
then validated again like any other, so a correction that makes it pass loads it on the next run.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from etl import spec

COLUMNS = ("report_id", "cell", "corrected_value", "reviewer", "reason", "date")


@dataclass(frozen=True)
class Correction:
    report_id: str
    cell: str
    corrected_value: float
    reviewer: str
    reason: str
    date: str

    def audit(self) -> str:
        return json.dumps(
            {"reviewer": self.reviewer, "reason": self.reason, "date": self.date}, ensure_ascii=False
        )


class CorrectionsError(ValueError):
    """The corrections file is malformed: fail loudly rather than load unreviewed numbers."""


def load_corrections(path: Path | None) -> dict[str, dict[str, Correction]]:
    """report_id -> cell -> correction. A missing file means no corrections."""
    if path is None or not path.exists():
        return {}
    known = set(spec.codes("2021")) | set(spec.codes("2019"))
    out: dict[str, dict[str, Correction]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise CorrectionsError(f"{path}: missing columns {sorted(missing)}")
        for n, row in enumerate(reader, start=2):
            if not any((row.get(c) or "").strip() for c in COLUMNS):
                continue
            where = f"{path}:{n}"
            if row["cell"] not in known:
                raise CorrectionsError(f"{where}: unknown cell code {row['cell']!r}")
            try:
                value = float(row["corrected_value"])
                date.fromisoformat(row["date"].strip())
            except ValueError as e:
                raise CorrectionsError(f"{where}: {e}") from None
            if not row["reviewer"].strip() or not row["reason"].strip():
                raise CorrectionsError(f"{where}: a correction needs a reviewer and a reason")
            c = Correction(
                row["report_id"].strip(),
                row["cell"],
                value,
                row["reviewer"].strip(),
                row["reason"].strip(),
                row["date"].strip(),
            )
            out.setdefault(c.report_id, {})[c.cell] = c
    return out
