"""`python -m etl.fuzz --seconds S` (`make fuzz FUZZ_SECONDS=S`): every reader fuzzed in process for S
seconds in all (shared by weight: fast targets get more of the time), one line of counts per target and a
JSON summary last. Crashing and hanging inputs are saved under var/fuzz/ (git-ignored); exit 1 if any."""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from etl.config import PROJECT_ROOT
from etl.fuzz.targets import REAL_CORPUS, SAMPLE, Target, build_targets, load_seeds, synth_seeds
from etl.model import RejectedInput
from etl.parse.caps import limits

# share of the time per target: PDF and DOCX inputs cost ~10x a text input
WEIGHTS = {"text": 0.2, "html": 0.15, "pdf": 0.1, "docx": 0.1, "glued": 0.2, "tables": 0.25}
_POOL = 64  # mutants that parsed cleanly, mutated further (they go deeper than fresh seed mutants)


class Hang(Exception):  # noqa: N818 - raised by the alarm, counted as a hang
    pass


def _alarm(_signum, _frame):
    raise Hang


def fuzz_target(t: Target, seconds: float, rng: random.Random, cap_s: float, out: Path | None) -> dict:
    """Run one target for `seconds`; counts, and the distinct crash signatures."""
    stats = {"inputs": 0, "parsed": 0, "rejected": 0, "crashes": 0, "hangs": 0, "max_ms": 0.0}
    signatures: dict[str, str] = {}
    pool: list[bytes] = []
    old = signal.signal(signal.SIGALRM, _alarm)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            base = rng.choice(pool) if pool and rng.random() < 0.3 else rng.choice(t.seeds)
            data = t.mutate(base, rng)
            started = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, cap_s)
            try:
                t.run(data)
                stats["parsed"] += 1
                if len(pool) < _POOL:
                    pool.append(data)
                else:
                    pool[rng.randrange(_POOL)] = data
            except RejectedInput:
                stats["rejected"] += 1
            except Hang:
                stats["hangs"] += 1
                _save(out, t.name, "hang", data, f"over the {cap_s:g} s cap")
            except Exception as e:  # the finding: anything but the clean rejection
                stats["crashes"] += 1
                tb = traceback.extract_tb(e.__traceback__)[-1]
                sig = f"{type(e).__name__} at {Path(tb.filename).name}:{tb.lineno}"
                if sig not in signatures:
                    signatures[sig] = _save(out, t.name, "crash", data, traceback.format_exc())
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            stats["inputs"] += 1
            stats["max_ms"] = max(stats["max_ms"], (time.perf_counter() - started) * 1000)
    finally:
        signal.signal(signal.SIGALRM, old)
    stats["max_ms"] = round(stats["max_ms"], 1)
    stats["per_s"] = round(stats["inputs"] / seconds, 1) if seconds else 0.0
    stats["crash_signatures"] = signatures
    return stats


def _save(out: Path | None, target: str, kind: str, data: bytes, why: str) -> str:
    if out is None:
        return ""
    out.mkdir(parents=True, exist_ok=True)
    name = f"{target}-{kind}-{hashlib.sha256(data).hexdigest()[:12]}"
    (out / f"{name}.bin").write_bytes(data)
    (out / f"{name}.txt").write_text(why, encoding="utf-8")
    return str(out / f"{name}.bin")


def run(seconds: float, names: list[str] | None, seed: int, synth_n: int, out: Path | None) -> dict:
    rng = random.Random(seed)
    dirs = [REAL_CORPUS, SAMPLE]
    with tempfile.TemporaryDirectory(prefix="etl-fuzz-") as tmp:
        if synth_n:
            dirs.append(synth_seeds(synth_n, Path(tmp) / "synth", seed))
        seeds = load_seeds(dirs)
    targets = [t for t in build_targets(seeds, rng) if not names or t.name in names]
    weight = sum(WEIGHTS[t.name] for t in targets)
    cap_s = limits().timeout_s
    results = {}
    for t in targets:
        share = seconds * WEIGHTS[t.name] / weight
        results[t.name] = fuzz_target(t, share, rng, cap_s, out)
        r = results[t.name]
        print(
            f"{t.name:7s} seeds {len(t.seeds):4d}  inputs {r['inputs']:8d}  ({r['per_s']:7.1f}/s)  parsed "
            f"{r['parsed']:7d}  rejected {r['rejected']:7d}  crashes {r['crashes']}  hangs {r['hangs']}  "
            f"slowest {r['max_ms']} ms",
            flush=True,
        )
    total = {k: sum(r[k] for r in results.values()) for k in ("inputs", "crashes", "hangs")}
    return {"seconds": seconds, "seed": seed, "cap_s": cap_s, "targets": results, **total}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m etl.fuzz", description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0, help="total time over all targets")
    ap.add_argument("--targets", nargs="*", help=f"some of {', '.join(WEIGHTS)} (default: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--synth", type=int, default=60, help="fresh generated documents added to the seeds")
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "fuzz", help="crashing inputs")
    ap.add_argument("--json", type=Path, help="also write the summary here")
    args = ap.parse_args(argv)
    summary = run(args.seconds, args.targets, args.seed, args.synth, args.out)
    line = json.dumps(summary, ensure_ascii=False)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(line + "\n", encoding="utf-8")
    print(line)
    return 1 if summary["crashes"] or summary["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
