"""Command line: `python -m etl parse FILE`, `python -m etl run --landing DIR [--workdir DIR]`,
`python -m etl summary [--workdir DIR]`, `python -m etl fetch MANIFEST --landing DIR`,
`python -m etl retract FILE… --reason TEXT [--landing DIR] [--workdir DIR]`."""

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

    years = [int(y) for y in args.years.split(",") if y.strip()] if args.years else None
    if years and not args.rebuild:
        print("etl run: --years names the partitions to rebuild: give --rebuild with it", file=sys.stderr)
        return 2
    try:
        result = run(landing=args.landing, workdir=args.workdir, years=years, rebuild=args.rebuild)
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


def _cmd_retract(args: argparse.Namespace) -> int:
    """The one way a file's facts leave the warehouse: named, with a reason, logged in retraction_log; the
    file must be gone from the landing area (a sweep would bring it back). Its issuer-year is decided
    again, so a copy of the same report elsewhere takes its place."""
    from etl.incremental import RetractError
    from etl.lock import WorkdirLocked
    from etl.pipeline import run

    try:
        result = run(
            landing=args.landing, workdir=args.workdir, retract=args.files, retract_reason=args.reason
        )
    except RetractError as e:
        print(f"etl retract: {e}", file=sys.stderr)
        return 2
    except WorkdirLocked as e:
        print(f"etl retract: {e}", file=sys.stderr)
        return 3
    print(json.dumps({"retracted": result["incremental"]["retracted"], "counts": result["counts"]}))
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from etl.config import load_settings
    from etl.fetch.manifest import ManifestError
    from etl.fetch.run import fetch_manifest

    if not args.manifest and not args.listing:
        print("give a MANIFEST or at least one --listing URL", file=sys.stderr)
        return 2
    landing = load_settings(Path(args.landing) if args.landing else None).landing_dir
    try:
        summary = fetch_manifest(Path(args.manifest) if args.manifest else None, landing, args.listing)
    except (ManifestError, OSError) as e:
        print(f"fetch: {e}", file=sys.stderr)
        return 2
    for f in summary["failures"]:
        print(f"failed ({f['status']}): {f['url']}: {f['reason']}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
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
    if summary.get("fetch"):
        t = summary["fetch"]["totals"]
        lines.append(
            f"last fetch {summary['fetch']['finished_at']}: fetched {t['fetched']}  changed {t['changed']}  "
            f"unchanged {t['unchanged']}  failed {t['failed']}  ({t['requests']} requests)"
        )
        for host, c in summary["fetch"]["hosts"].items():
            failed = ", ".join(f"{s} x{n}" for s, n in sorted(c["failed"].items())) or "none"
            lines.append(
                f"  {host}: fetched {c['fetched']}  changed {c['changed']}  unchanged {c['unchanged']}  "
                f"failed {failed}"
            )
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
    r.add_argument(
        "--rebuild", action="store_true", help="republish year partitions from the parse cache (a backfill)"
    )
    r.add_argument(
        "--years", help="with --rebuild: the report years to rebuild, e.g. 2021,2022 (default: all)"
    )
    r.set_defaults(func=_cmd_run)
    x = sub.add_parser("retract", help="remove files gone from the landing area from the warehouse (audited)")
    x.add_argument("files", nargs="+", help="ledger names (paths under the landing folder)")
    x.add_argument("--reason", required=True, help="why: recorded in retraction_log")
    x.add_argument("--landing")
    x.add_argument("--workdir")
    x.set_defaults(func=_cmd_retract)
    s = sub.add_parser("summary", help="print the last run's summary and the province mart")
    s.add_argument("--workdir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_summary)
    f = sub.add_parser("fetch", help="fetch reports from the web into the landing folder")
    f.add_argument(
        "manifest", nargs="?", help="CSV or JSONL: url, optional kind (report|listing), issuer, adcode, year"
    )
    f.add_argument("--landing", help="landing folder (default: ETL_LANDING_DIR or the bundled sample)")
    f.add_argument(
        "--listing", action="append", default=[], help="a 政府信息公开年报 column URL (repeatable)"
    )
    f.set_defaults(func=_cmd_fetch)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
