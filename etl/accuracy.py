"""`make accuracy`: parse every labelled report in a folder and score it against its label.

A label is `<stem>.expected.json` beside the report, naming it in its "file" field; cells listed under
`uncertain_cells` are not scored, and cells under `unresolvable_cells` are expected to come back null.
Report files no label names are judged without labels (etl.judge: outcome, rules, identity cells passing).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from etl import judge
from etl.config import PROJECT_ROOT
from etl.model import ParsedReport, RejectedInput
from etl.parse import parse_file

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "real"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.accuracy", description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--scanned",
        action="store_true",
        help="also render the corpus's PDFs (and a few generated ones) as scans into var/scanned and score "
        "those through OCR (etl.synth.scan)",
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
    if others:  # reports without labels: judged by what the pipeline does with them (etl.judge)
        print(("\n" if scores else "") + f"Unlabelled reports ({len(others)}):")
        print(judge.render(judge.judge(others, args.corpus)))
    ok = all(s.perfect for s in scores)
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
