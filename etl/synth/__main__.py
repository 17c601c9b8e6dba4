"""python -m etl.synth --n N --seed S --out DIR [--formats html,text,glued,pdf,docx] [--violation-rate R]
[--noise-rate R] [--workers K] [--cells-only]  |  python -m etl.synth --sample"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from etl.synth.model import FORMATS, Config


def _formats(text: str) -> tuple[str, ...]:
    out = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in out if f not in FORMATS]
    if unknown or not out:
        raise argparse.ArgumentTypeError(f"formats must be among {','.join(FORMATS)}")
    return out


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m etl.synth", description=__doc__)
    ap.add_argument("--n", type=int, help="number of reports")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="output folder")
    ap.add_argument(
        "--formats", type=_formats, default=FORMATS, help="comma-separated subset of " + ",".join(FORMATS)
    )
    ap.add_argument(
        "--violation-rate", type=_rate, default=0.05, help="share of reports with a labelled rule violation"
    )
    ap.add_argument("--noise-rate", type=_rate, default=0.3, help="share of reports printed with noise")
    ap.add_argument("--workers", type=int, default=1, help="render in this many processes (same bytes)")
    ap.add_argument(
        "--cells-only", action="store_true", help="no documents: Parquet of the cells under --out"
    )
    ap.add_argument("--sample", action="store_true", help="(re)write the bundled sample/landing/generated/")
    args = ap.parse_args(argv)

    from etl.synth import corpus

    if args.sample:
        stats = corpus.write_sample(args.out or corpus.SAMPLE_DIR)
    else:
        if args.n is None or args.out is None:
            ap.error("--n and --out are required (or --sample)")
        cfg = Config(
            seed=args.seed,
            formats=args.formats,
            violation_rate=args.violation_rate,
            noise_rate=args.noise_rate,
        )
        if args.cells_only:
            stats = corpus.write_cells(args.n, cfg, args.out)
        else:

            def progress(done: int) -> None:
                if done % 5000 == 0:
                    print(f"{done}/{args.n}", file=sys.stderr)

            stats = corpus.write_corpus(args.n, cfg, args.out, workers=args.workers, progress=progress)
        if stats["reports"] < args.n:
            print(f"only {stats['reports']} reports: the national pool is smaller than --n", file=sys.stderr)
    print(json.dumps(stats, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
