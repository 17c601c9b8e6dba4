"""`make accuracy`: parse every labelled report in a folder and score it against its label.

A label is `<stem>.expected.json` beside the report, naming it in its "file" field; cells listed under
`uncertain_cells` are not scored, and cells under `unresolvable_cells` are expected to come back null.
Report files no label names are judged without labels (etl.judge: outcome, rules, identity cells passing).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from etl import judge
from etl.config import PROJECT_ROOT
from etl.model import ParsedReport, RejectedInput
from etl.parse import parse_file

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "real"


META_FIELDS = ("issuer", "year", "adcode", "city", "province", "scope")


def filed_under_parent(expected: str | None, got: str | None) -> bool:
    """A unit (township, street office, department) read as the government of a place it lies in: the data
    loss of issue 10 part 3 (the unit's report then collides with its parent's under one issuer-year)."""
    from etl import regions

    if not expected or not got or got == expected:
        return False
    place, rest = regions.split_place(got)
    return rest in ("人民政府", "管理委员会", "行政公署") and bool(place) and expected.startswith(place)


@dataclass
class MetaScore:
    """Metadata accuracy per field over a set of reports, and the units filed under their parent."""

    reports: int = 0
    right: dict = field(default_factory=lambda: dict.fromkeys(META_FIELDS, 0))
    scored: dict = field(default_factory=lambda: dict.fromkeys(META_FIELDS, 0))
    under_parent: int = 0
    examples: list = field(default_factory=list)

    def add(self, name: str, meta: dict | None, label: dict) -> None:
        self.reports += 1
        for f in META_FIELDS:
            if f == "scope" and not label.get("scope"):
                continue  # the label does not say
            self.scored[f] += 1
            got = (meta or {}).get(f)
            if got == label.get(f):
                self.right[f] += 1
            elif len(self.examples) < 10:
                self.examples.append(f"{name}: {f} {got!r} != {label.get(f)!r}")
        self.under_parent += filed_under_parent(label.get("issuer"), (meta or {}).get("issuer"))

    @property
    def perfect(self) -> bool:
        return self.right == self.scored and self.under_parent == 0

    def render(self, title: str) -> str:
        head = "| " + title + " | " + " | ".join(META_FIELDS) + " | units filed under their parent |"
        cells = " | ".join(f"{self.right[f]}/{self.scored[f]}" for f in META_FIELDS)
        rows = [
            head,
            "|---" * (len(META_FIELDS) + 2) + "|",
            f"| {self.reports} reports | {cells} | {self.under_parent} |",
        ]
        return "\n".join(rows + [f"- {e}" for e in self.examples])


@dataclass
class Score:
    file: str
    cells_exact: int
    cells_scored: int
    year_ok: bool
    template_ok: bool
    adcode_ok: bool
    issuer_ok: bool
    scope_ok: bool | None = None  # None: the label does not say
    blanks_ok: bool | None = None
    error: str | None = None
    # OCR: wrong cells the report would load with (no blocking identity fails, the cell is not flagged)
    silent_wrong: int = 0
    flagged: int = 0  # cells OCR flagged (low confidence kept in 表二, nulled, repaired)
    meta: dict | None = None  # the metadata read (META_FIELDS), for the per-field table

    @property
    def perfect(self) -> bool:
        return (
            self.error is None
            and self.cells_exact == self.cells_scored
            and self.year_ok
            and self.template_ok
            and self.adcode_ok
            and self.issuer_ok
            and self.scope_ok is not False
            and self.blanks_ok is not False
        )


def labelled(corpus: Path) -> list[tuple[Path, dict]]:
    out = []
    for label_path in sorted(corpus.rglob("*.expected.json")):
        label = json.loads(label_path.read_text(encoding="utf-8"))
        report = label_path.parent / label["file"]
        if report.exists():
            out.append((report, label))
    return out


def expected_cells(label: dict) -> dict:
    """The cells a label scores: uncertain cells left out, unresolvable ones expected to come back null."""
    skip = set(label.get("uncertain_cells", []))
    unresolvable = set(label.get("unresolvable_cells", []))
    return {c: (None if c in unresolvable else v) for c, v in label["cells"].items() if c not in skip}


def score(report: Path, label: dict) -> Score:
    expected = expected_cells(label)
    try:
        rep = parse_file(report)
    except RejectedInput as e:
        return Score(report.name, 0, len(expected), False, False, False, False, error=str(e))
    exact = sum(rep.cells.get(c) == v for c, v in expected.items())
    silent, flagged = _silent_wrong(rep, expected) if rep.ocr else (0, 0)
    m = rep.meta
    return Score(
        report.name,
        exact,
        len(expected),
        m.year == label["year"],
        rep.template == label["format"],
        m.adcode == label["adcode"],
        m.issuer == label["issuer"],
        scope_ok=(m.scope == label["scope"]) if "scope" in label else None,
        blanks_ok=(sorted(rep.blank_cells) == sorted(label["blank_cells"]))
        if "blank_cells" in label
        else None,
        silent_wrong=silent,
        flagged=flagged,
        meta={f: getattr(m, f) for f in META_FIELDS},
    )


def _silent_wrong(rep: ParsedReport, expected: dict) -> tuple[int, int]:
    """(wrong cells that would load unflagged, cells OCR flagged): a report whose blocking sum identities
    or completeness fail is quarantined, so none of its cells load; a flagged cell is not silent."""
    from etl.validate.rules import holds, identities, rules

    flagged = (
        set(rep.ocr.get("flagged", {})) | set(rep.ocr.get("repaired", {})) | set(rep.ocr.get("nulled", []))
    )
    cells = rep.cells
    if any(holds(r, cells) is False for r in identities(rep.template)):
        return 0, len(flagged)
    for r in rules(rep.template):
        if (
            r.severity == "blocking"
            and r.kind == "complete"
            and any(cells.get(c) is None for c in r.cells if c not in r.tolerated)
        ):
            return 0, len(flagged)
    wrong = [c for c, v in expected.items() if cells.get(c) is not None and cells.get(c) != v]
    return sum(c not in flagged for c in wrong), len(flagged)


def render(scores: list[Score]) -> str:
    head = (
        "| report | cells exact | blank cells | year | template | adcode | issuer | scope |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    mark = {True: "ok", False: "WRONG", None: "–"}
    rows = [
        f"| {s.file} | {s.cells_exact}/{s.cells_scored} | {mark[s.blanks_ok]} | {mark[s.year_ok]} | "
        f"{mark[s.template_ok]} | {mark[s.adcode_ok]} | {mark[s.issuer_ok]} | {mark[s.scope_ok]} |"
        + (f" rejected: {s.error}" if s.error else "")
        for s in scores
    ]
    exact = sum(s.cells_exact for s in scores)
    scored = sum(s.cells_scored for s in scores)
    perfect = sum(s.perfect for s in scores)
    total = f"| **total** | {exact}/{scored} | | | | | | {perfect}/{len(scores)} reports perfect |"
    return "\n".join([head, *rows, total])


def render_scanned(scores: list[Score], seconds: float) -> str:
    """The scanned renderings' table: cells exact, cells OCR flagged, wrong cells that would load unflagged."""
    head = "| scanned rendering | cells exact | flagged | wrong unflagged | metadata |\n|---|---|---|---|---|"
    rows = []
    for s in scores:
        meta = (
            "ok"
            if s.year_ok and s.template_ok and s.adcode_ok and s.issuer_ok and s.scope_ok is not False
            else "WRONG"
        )
        rows.append(
            f"| {s.file} | {s.cells_exact}/{s.cells_scored} | {s.flagged} | {s.silent_wrong} | {meta} |"
            + (f" rejected: {s.error}" if s.error else "")
        )
    at200 = [s for s in scores if ".scan200" in s.file or "200." in s.file]
    exact200, scored200 = sum(s.cells_exact for s in at200), sum(s.cells_scored for s in at200)
    exact, scored = sum(s.cells_exact for s in scores), sum(s.cells_scored for s in scores)
    share = f"{100 * exact200 / scored200:.2f}%" if scored200 else "–"
    total = (
        f"| **total** | {exact}/{scored} (200 dpi: {exact200}/{scored200} = {share}) | "
        f"{sum(s.flagged for s in scores)} | {sum(s.silent_wrong for s in scores)} | "
        f"{len(scores) / max(seconds, 1e-9) * 60:.1f} reports/min |"
    )
    return "\n".join([head, *rows, total])


def generated_metadata(n_counties: int, seed: int = 1) -> MetaScore:
    """Metadata accuracy on the generator's heading classes (etl.synth.model.heading_sweep): every class on
    governments, departments and townships of the counties whose names hold another prefecture's name and
    of `n_counties` others, rendered and parsed in memory."""
    from etl.parse import parse_bytes
    from etl.synth.document import build
    from etl.synth.document import label as make_label
    from etl.synth.model import Config, heading_sweep
    from etl.synth.render import render as render_doc

    out = MetaScore()
    for spec in heading_sweep(Config(seed=seed), n_counties):
        doc = build(spec)
        try:
            meta = vars(parse_bytes(render_doc(doc), doc.file_name).meta)
        except RejectedInput:
            meta = None
        out.add(doc.file_name + (f" [{spec.heading}]" if spec.heading else ""), meta, make_label(doc))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.accuracy", description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--scanned",
        action="store_true",
        help="also render the corpus's PDFs (and a few generated ones) as scans into var/scanned and score "
        "those through OCR (etl.synth.scan)",
    )
    parser.add_argument(
        "--generated",
        type=int,
        default=1,
        metavar="N",
        help="also score metadata on the generator's heading classes: the trap counties and N others "
        "(~45 reports a county; -1: skip)",
    )
    args = parser.parse_args(argv)
    pairs = labelled(args.corpus)
    others = judge.unlabelled(args.corpus) if args.corpus.is_dir() else []
    if not pairs and not others:
        print(f"no reports in {args.corpus}", file=sys.stderr)
        return 1
    scores = [score(r, label) for r, label in pairs]
    if scores:
        print(render(scores))
        labelled_meta = MetaScore()
        for s, (_, label) in zip(scores, pairs, strict=True):
            labelled_meta.add(s.file, s.meta, label)
        print("\nMetadata per field, labelled reports:")
        print(labelled_meta.render("labelled"))
    if others:  # reports without labels: judged by what the pipeline does with them (etl.judge)
        print(("\n" if scores else "") + f"Unlabelled reports ({len(others)}):")
        print(judge.render(judge.judge(others, args.corpus)))
    ok = all(s.perfect for s in scores)
    if args.generated >= 0:
        gen = generated_metadata(args.generated)
        print("\nMetadata per field, generated heading classes (etl.synth.model.heading_sweep):")
        print(gen.render("generated"))
        ok = ok and gen.perfect
    if args.scanned:
        import time

        from etl.synth import scan

        out = PROJECT_ROOT / "var" / "scanned"
        scan.build(out, [args.corpus, *scan.DEFAULT_SOURCES[1:]])
        started = time.perf_counter()
        scanned = [score(r, label) for r, label in labelled(out)]
        print()
        print(render_scanned(scanned, time.perf_counter() - started))
        ok = ok and all(s.silent_wrong == 0 for s in scanned)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
