"""Records that flow between the stages (extract -> parse -> transform -> validate -> load).

Everything here is plain data that serialises to JSON, so tasks can hand each other paths to files of these
records instead of the records themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Number = int | float


class RejectedInput(Exception):  # noqa: N818 - it is an outcome, not a bug
    """The file is not a report we can read; the message is the one-line reason."""


class NeedsOcr(RejectedInput):
    """The file's pages are pictures (or its text layer is garbage): read it through OCR (etl.parse.scan)."""


class LedgerError(RuntimeError):
    """The file ledger does not account for every landing file: a bug, never retried."""


@dataclass(frozen=True)
class SourceFile:
    """One file in the landing area, identified by its content hash."""

    path: str  # relative to the landing folder (posix)
    sha256: str
    size: int
    file_format: str  # html | text | markdown | pdf | docx | doc | image | unknown
    # fetched from the web (etl.fetch): the sidecar's URL, time and version, and the report page an
    # attachment was linked from (the page and its attachments are one report)
    source_url: str | None = None
    fetched_at: str | None = None
    fetch_version: int | None = None
    page_url: str | None = None
    hints: dict | None = None  # the fetch manifest's issuer / adcode / year hints (evidence for metadata)

    def to_dict(self) -> dict[str, Any]:
        # by hand: asdict's recursive deepcopy made the manifest of 150,000 files cost seconds a run
        d = dict(vars(self))
        if self.hints is not None:
            d["hints"] = dict(self.hints)
        return d


@dataclass
class Metadata:
    issuer: str | None = None
    year: int | None = None
    adcode: str | None = None
    city: str | None = None
    province: str | None = None
    scope: str | None = None  # agency | government | region
    scope_evidence: str | None = None
    region_note: str | None = None  # how the region was decided, or why it is ambiguous
    # field -> {"line": 1-based line | "document title" | "hint" | "default", "text": …, "how": …}:
    # what decided issuer, year, adcode, city, province and scope (etl.parse.metadata)
    evidence: dict[str, dict] = field(default_factory=dict)


@dataclass
class ParsedReport:
    """A report as printed: values exactly as the source shows them.

    cells: every code of the template; a blank cell is 0 and listed in blank_cells; a cell the parser could
    not determine is None and listed in unresolved (code -> reason, raw text).
    provenance: code -> where the value came from ("line 57", "table 2 row 5 col 3", "segmented: 7000007").
    """

    template: str  # "2021" | "2019"
    file_format: str
    meta: Metadata
    cells: dict[str, Number | None]
    blank_cells: list[str] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    narrative: dict[str, int] = field(default_factory=dict)  # figures the text states (etl.parse.narrative)
    # read by OCR (etl.parse.scan): engine, dpi, pages, skew, low-confidence / repaired / nulled cells; else {}
    ocr: dict[str, Any] = field(default_factory=dict)

    def to_public_json(self) -> dict[str, Any]:
        """The stable `python -m etl parse` interface."""
        m = self.meta
        return {
            "issuer": m.issuer,
            "year": m.year,
            "format": self.template,
            "file_format": self.file_format,
            "adcode": m.adcode,
            "city": m.city,
            "province": m.province,
            "scope": m.scope,
            "scope_evidence": m.scope_evidence,
            "cells": self.cells,
            "blank_cells": self.blank_cells,
            "unresolved_cells": self.unresolved,
            "units": self.units,
            "provenance": self.provenance,
            "stated_figures": self.narrative,
            "evidence": m.evidence,
            **({"ocr": self.ocr} if self.ocr else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: its recursive deepcopy of ~600 values per report cost more than
        # reading a text report. Values are immutable scalars, so shallow copies of the containers suffice.
        return {
            "template": self.template,
            "file_format": self.file_format,
            "meta": {**vars(self.meta), "evidence": dict(self.meta.evidence)},
            "cells": dict(self.cells),
            "blank_cells": list(self.blank_cells),
            "unresolved": dict(self.unresolved),
            "units": dict(self.units),
            "provenance": dict(self.provenance),
            "notes": list(self.notes),
            "narrative": dict(self.narrative),
            "ocr": dict(self.ocr),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParsedReport:
        d = dict(d)
        d["meta"] = Metadata(**d["meta"])
        return cls(**d)
