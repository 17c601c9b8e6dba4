"""One report ready to render (printed cells, prose, layout choices) and its label."""

from __future__ import annotations

import random
from dataclasses import dataclass

from etl.synth import checks, glued, narrative, noise
from etl.synth.model import ReportSpec
from etl.synth.narrative import Block
from etl.synth.noise import Printed

# File suffix of each format.
SUFFIX = {"html": ".html", "text": ".txt", "glued": ".page.txt", "pdf": ".pdf", "docx": ".docx"}


@dataclass
class Document:
    spec: ReportSpec
    printed: Printed
    blocks: list[Block]
    evidence: str
    rng: random.Random  # the renderer's choices (markup variant, encoding, line breaks)
    notes: list[str]

    @property
    def file_name(self) -> str:
        return self.spec.stem + SUFFIX[self.spec.file_format]

    @property
    def title(self) -> str:
        """The title as a site's <title> or a PDF's metadata holds it: its lines joined, on one line."""
        return "".join(t for k, t in self.blocks if k == "title")


def build(spec: ReportSpec) -> Document:
    rng = random.Random(spec.seed)
    is_glued = spec.file_format == "glued"
    if spec.noisy:
        printed = noise.apply(spec.cells, spec.units, rng, glued=is_glued)
    else:
        printed = noise.clean(spec.cells, spec.units)
    if spec.layouts:
        printed.rng_seed = f"{spec.seed}/layouts"
        noise.apply_layouts(printed, spec.cells, spec.layouts, random.Random(printed.rng_seed))
    with_title = not (
        spec.file_format == "text" and rng.random() < 0.25
    )  # like the seed: issuer in body only
    blocks, evidence = narrative.blocks(
        spec.issuer,
        spec.scope,
        spec.year,
        spec.cells,
        rng,
        with_title,
        heading=spec.heading,
        heading_rng=random.Random(f"{spec.seed}/heading"),
    )
    notes = [f"synthetic {spec.file_format} report"]
    if printed.kinds:
        notes.append("noise: " + ", ".join(printed.kinds))
    if spec.injected:
        notes.append(f"injected violation: {spec.injected}")
    if spec.layouts:
        notes.append("layouts: " + ", ".join(printed.layouts))
    if spec.heading:
        notes.append(f"heading: {spec.heading}")
    elif not with_title:
        notes.append("no title line (issuer only in body text)")
    return Document(spec, printed, blocks, evidence, rng, notes)


def label(doc: Document) -> dict:
    """The <stem>.expected.json label, in the form of the real corpus labels."""
    s = doc.spec
    j = s.issuer.jurisdiction
    unresolvable = uncertain = []
    if s.file_format == "glued":
        unresolvable = glued.unresolvable(s.template, doc.printed.text, s.cells)
        uncertain = glued.uncertain(s.template, doc.printed.text, s.cells)
    # rows the tables do not print (missing_rows): null, not zero, and the report incomplete
    missing = doc.printed.missing
    missing_violations = (
        [
            {
                "rule_id": "report.complete",
                "cells": missing,
                "expected": "no null cell",
                "found": "rows not printed",
            }
        ]
        if missing
        else []
    )
    missing_errors = [f"report.complete: rows not printed ({', '.join(missing)})"] if missing else []
    return {
        "file": doc.file_name,
        "issuer": s.issuer.name,
        "year": s.year,
        "format": s.template,
        "file_format": s.file_format,
        "level": s.issuer.level,
        "adcode": j.adcode,
        "city": j.city,
        "province": j.province,
        "scope": s.scope,
        "scope_evidence": doc.evidence,
        "notes": "; ".join(doc.notes),
        "cells": s.cells,
        "blank_cells": doc.printed.blank,
        "source_errors": [checks.describe(v) for v in s.violations] + missing_errors,
        "violations": s.violations + missing_violations,
        "unresolvable_cells": [c for c in unresolvable if c not in uncertain] + doc.printed.missing,
        "uncertain_cells": uncertain,
        "units": s.units,
    }
