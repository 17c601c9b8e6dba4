"""`python -m etl.fuzz.measure`: every hostile file (etl.fuzz.hostile) through `python -m etl parse`, and the
landing-area hazards through `python -m etl run` beside a good report: outcome, wall seconds and the peak
RSS of the largest process (the CLI or its parse worker), as a Markdown table for docs/reliability.md."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from etl.config import PROJECT_ROOT
from etl.fuzz import hostile

# a small measuring process per command: RUSAGE_CHILDREN is then the largest process of that command's tree
_MEASURE = (
    "import resource, subprocess, sys, time, json\n"
    "t = time.monotonic(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'s': time.monotonic() - t, 'rc': p.returncode, 'out': p.stdout, 'err': p.stderr,"
    " 'kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
)


def measure(cmd: list[str]) -> dict:
    p = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    return json.loads(p.stdout)


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="etl-hostile-") as tmp:
        root = Path(tmp)
        for what, (name, build) in hostile.FILES.items():
            path = root / name
            data = build()
            path.write_bytes(data)
            m = measure([sys.executable, "-m", "etl", "parse", str(path)])
            lines = m["out"].strip().splitlines()
            outcome = json.loads(lines[-1]).get("rejected", "parsed") if lines else m["err"][-200:]
            tb = "yes" if "Traceback" in m["err"] else "no"
            rows.append((what, f"{len(data) / 2**20:.2f} MB", outcome, m["rc"], tb, m["s"], m["kb"] / 1024))
        landing = root / "landing"
        specials = hostile.make_landing_specials(landing, root / "outside")
        (landing / "good.txt").write_bytes(
            (PROJECT_ROOT / "sample" / "landing" / "suichang-2021.txt").read_bytes()
        )
        m = measure(
            [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(root / "w")]
        )
        result = json.loads(m["out"].strip().splitlines()[-1])
    print("| hostile file | size | outcome (`python -m etl parse`) | exit | traceback | s | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for what, size, outcome, rc, tb, s, mb in rows:
        print(f"| {what} | {size} | {outcome} | {rc} | {tb} | {s:.2f} | {mb:.0f} |")
    print()
    print(
        f"`python -m etl run` over the landing hazards and one good report: {m['s']:.1f} s, peak {m['kb'] / 1024:.0f} MB"
    )
    print()
    print("| landing entry | outcome |")
    print("|---|---|")
    for what, rel in specials.items():
        print(f"| {what} (`{rel}`) | rejected: {result['rejected'].get(rel, 'NOT REJECTED')} |")
    print(f"| good report (`good.txt`) | {'loaded' if 'good.txt' in result['loaded'] else 'NOT LOADED'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
