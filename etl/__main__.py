"""Command line: `python -m etl parse FILE`, `python -m etl run --landing DIR [--workdir DIR]`,
`python -m etl summary [--workdir DIR]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _cmd_parse(args: argparse.Namespace) -> int:
    """One JSON object; a bad input of any kind is a one-line rejection (exit 2), its traceback only with
    --debug. The file is parsed in a capped worker process, as a run parses it (etl.parse.isolation)."""
    from etl.model import ParsedReport
    from etl.parse.isolation import IsolatedParser

    with IsolatedParser(require_year=False) as parser:
        result = parser.parse(Path(args.file))
    if "rejected" in result:
        if args.debug and "traceback" in result:
            print(result["traceback"], file=sys.stderr, end="")
        print(json.dumps({"file": args.file, "rejected": result["rejected"]}, ensure_ascii=False))
        return 2
    report = ParsedReport.from_dict(result["report"])
    print(json.dumps(report.to_public_json(), ensure_ascii=False))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from etl.lock import WorkdirLocked
    from etl.pipeline import run

    try:
        result = run(landing=args.landing, workdir=args.workdir)
    except WorkdirLocked as e:
        print(f"etl run: {e}", file=sys.stderr)
        return 3
    print(
        f"files {result['counts']['files']}: loaded {result['counts']['loaded']}, quarantined "
        f"{result['counts']['quarantined']}, rejected {result['counts']['rejected']}, "
        f"duplicates {result['counts']['duplicate']}",
        file=sys.stderr,
    )
    keep = ("loaded", "quarantined", "rejected", "duplicates")
    print(json.dumps({k: result[k] for k in keep}, ensure_ascii=False))
    return 0


def format_summary(summary: dict) -> str:
    c = summary["counts"]
    lines = [
        f"run {summary['run_id']}",
        f"files seen {c['files']}  loaded {c['loaded']}  quarantined {c['quarantined']}  "
        f"rejected {c['rejected']}  duplicates {c['duplicate']}",
    ]
    if "warnings" in summary:
        lines.append(
            f"warnings {summary['warnings']} on {summary['reports_with_warnings']} reports (they load)"
        )
    for f, rules in summary["quarantined"].items():
        lines.append(f"  quarantined {f}: {', '.join(rules)}")
    for f, reason in summary["rejected"].items():
        lines.append(f"  rejected    {f}: {reason}")
    for key, label in (
        ("data_docs", "validation (Great Expectations Data Docs)"),
        ("dashboard", "dashboard"),
    ):
        if key in summary:
            lines.append(f"{label}: {summary[key]}")
    lines.append("")
    lines.append("mart_province_year")
    cols = [
        "province",
        "year",
        "reports",
        "applications",
        "handled",
        "granted",
        "partially_granted",
        "disclosure_rate",
        "administrative_reviews",
        "lawsuits",
    ]
    rows = [[("" if r.get(k) is None else str(r.get(k))) for k in cols] for r in summary["mart"]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(cols)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(cols, widths, strict=True)))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _cmd_summary(args: argparse.Namespace) -> int:
    from etl.config import load_settings
    from etl.pipeline import latest_run_dir, summarize

    settings = load_settings(workdir=Path(args.workdir) if args.workdir else None)
    run_dir = latest_run_dir(settings.workdir)
    if run_dir is None:
        print(f"no finished run under {settings.workdir}", file=sys.stderr)
        return 1
    summary = summarize(str(run_dir))
    print(json.dumps(summary, ensure_ascii=False) if args.json else format_summary(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse one report file and print it as one JSON object")
    p.add_argument("file")
    p.add_argument("--debug", action="store_true", help="print a parser error's traceback on stderr")
    p.set_defaults(func=_cmd_parse)
    r = sub.add_parser("run", help="run the pipeline without Airflow")
    r.add_argument("--landing", help="landing folder (default: ETL_LANDING_DIR or the bundled sample)")
    r.add_argument("--workdir", help="outputs and warehouse (default: ETL_WORKDIR or var/)")
    r.set_defaults(func=_cmd_run)
    s = sub.add_parser("summary", help="print the last run's summary and the province mart")
    s.add_argument("--workdir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_summary)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
