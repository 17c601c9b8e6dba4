"""URL manifests: CSV (header row) or JSONL, one URL per row with optional hints.

url                      required: a report (page or file) or, with kind=listing, a 政府信息公开年报 column
kind                     report (default) | listing
issuer, adcode, year     optional hints: they travel with the fetched files (the sidecar keeps them)
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("report", "listing")
HINTS = ("issuer", "adcode", "year")


class ManifestError(ValueError):
    """A manifest row that cannot be used; the message names the line."""


@dataclass(frozen=True)
class Entry:
    url: str
    kind: str = "report"
    hints: dict = field(default_factory=dict)


def _entry(row: dict, where: str) -> Entry:
    row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    url = str(row.get("url") or "").strip()
    if not url:
        raise ManifestError(f"{where}: no url")
    kind = str(row.get("kind") or "report").strip().lower()
    if kind not in KINDS:
        raise ManifestError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    hints = {}
    for key in HINTS:
        value = row.get(key)
        if value in (None, ""):
            continue
        value = str(value).strip()
        if key == "year":
            if not value.isdigit():
                raise ManifestError(f"{where}: year {value!r} is not a number")
            hints[key] = int(value)
        else:
            hints[key] = value
    return Entry(url, kind, hints)


def parse_manifest(text: str, name: str = "manifest") -> list[Entry]:
    """Rows of a CSV or JSONL manifest (JSONL when the first non-blank character opens an object)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.lstrip().startswith("{"):
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise ManifestError(f"{name}:{n}: not JSON: {e}") from e
            if not isinstance(row, dict):
                raise ManifestError(f"{name}:{n}: not a JSON object")
            out.append(_entry(row, f"{name}:{n}"))
        return out
    reader = csv.DictReader(io.StringIO(text))
    if "url" not in [(f or "").strip().lower() for f in reader.fieldnames or []]:
        raise ManifestError(f"{name}: the CSV header has no url column")
    return [
        _entry(row, f"{name}:{n}")
        for n, row in enumerate(reader, 2)
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


def read_manifest(path: Path) -> list[Entry]:
    return parse_manifest(path.read_text(encoding="utf-8"), str(path))
