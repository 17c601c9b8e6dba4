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
from etl.model import RejectedInput
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


def score(report: Path, label: dict) -> Score:
    skip = set(label.get("uncertain_cells", []))
    unresolvable = set(label.get("unresolvable_cells", []))
    expected = {c: (None if c in unresolvable else v) for c, v in label["cells"].items() if c not in skip}
    try:
        rep = parse_file(report)
    except RejectedInput as e:
        return Score(report.name, 0, len(expected), False, False, False, False, error=str(e))
    exact = sum(rep.cells.get(c) == v for c, v in expected.items())
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
    )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.accuracy", description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
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
    return 0 if all(s.perfect for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
