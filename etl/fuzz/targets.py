"""One fuzz target per reader, in process (a per-input cap is a signal alarm, not a process per input):
text, HTML, PDF, DOCX (byte mutations of the package and structure-aware mutations of its document.xml),
the glued-dump segmenter and the table mapper (cell-level rows). Seeds are the labelled real reports (read
from ../shared at run time, never copied) and the generator's output (the bundled synthetic sample, plus
fresh documents from etl.synth when asked).

A crash is any exception but RejectedInput (the clean rejection); a hang is an input over the cap.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import PROJECT_ROOT
from etl.extract import decode_bytes, detect_format
from etl.fuzz.mutate import Mutator

REAL_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "real"
SAMPLE = PROJECT_ROOT / "sample" / "landing"
_CELL = "\x1f"  # the table target's cell separator (rows are lines)


@dataclass
class Target:
    name: str
    seeds: list[bytes]
    run: Callable[[bytes], object]
    mutate: Callable[[bytes, random.Random], bytes] | None = None  # else byte mutations of the seeds
    extra: dict = field(default_factory=dict)


def _files(dirs: list[Path]) -> list[Path]:
    out = []
    for d in dirs:
        if d.is_dir():
            out += sorted(
                p for p in d.rglob("*") if p.is_file() and not p.name.endswith(".json") and p.name[0] != "."
            )
    return out


def load_seeds(dirs: list[Path]) -> dict[str, list[bytes]]:
    """Seed bytes by format (text covers markdown), plus glued dumps and table rows made from them."""
    from etl.parse import glued
    from etl.parse.rows import normalize

    by: dict[str, list[bytes]] = {"text": [], "html": [], "pdf": [], "docx": [], "glued": [], "tables": []}
    for path in _files(dirs):
        data = path.read_bytes()
        fmt = detect_format(path, data[:8192])
        fmt = "text" if fmt == "markdown" else fmt
        if fmt not in by:
            continue
        by[fmt].append(data)
        if fmt == "text":
            text = normalize(decode_bytes(data))
            if glued.looks_glued(text):
                by["glued"].append(text.encode("utf-8"))
        rows = _rows_of(data, fmt)
        if rows:
            by["tables"].append("\n".join(_CELL.join(r.cells) for r in rows).encode("utf-8"))
    return by


def _rows_of(data: bytes, fmt: str) -> list:
    from etl.model import RejectedInput
    from etl.parse import _read

    try:
        return _read(data, fmt)[2]
    except RejectedInput:
        return []


def _docx_mutator(mutator: Mutator) -> Callable[[bytes, random.Random], bytes]:
    """Half the time the package's bytes, half the time word/document.xml inside a well-formed package."""

    def mutate(seed: bytes, rng: random.Random) -> bytes:
        if rng.random() < 0.5:
            return mutator(seed)
        try:
            with zipfile.ZipFile(io.BytesIO(seed)) as zin:
                members = [(i, zin.read(i)) for i in zin.infolist()]
        except Exception:  # noqa: BLE001 - a pooled mutant that is no longer a readable package
            return mutator(seed)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zout:
            for info, body in members:
                zout.writestr(info.filename, mutator(body) if info.filename == "word/document.xml" else body)
        return buf.getvalue()

    return mutate


def build_targets(seeds: dict[str, list[bytes]], rng: random.Random) -> list[Target]:
    from etl.parse import parse_bytes
    from etl.parse.glued import read_glued
    from etl.parse.rows import Row
    from etl.parse.tables import read_tables

    def parse_as(fmt: str, name: str) -> Callable[[bytes], object]:
        return lambda data: parse_bytes(data, name, fmt)

    def glued(data: bytes) -> object:
        return read_glued(data.decode("utf-8", "replace"), year=None)

    def tables(data: bytes) -> object:
        lines = data.decode("utf-8", "replace").split("\n")
        rows = [Row(cells=line.split(_CELL), where=f"row {i}") for i, line in enumerate(lines, 1)]
        return read_tables(rows, year=2021 if len(data) % 2 else 2019)

    targets = [
        Target("text", seeds["text"], parse_as("text", "fuzz.txt")),
        Target("html", seeds["html"], parse_as("html", "fuzz.html")),
        Target("pdf", seeds["pdf"], parse_as("pdf", "fuzz.pdf")),
        Target("docx", seeds["docx"], parse_as("docx", "fuzz.docx")),
        Target("glued", seeds["glued"], glued),
        Target("tables", seeds["tables"], tables),
    ]
    for t in targets:
        m = Mutator(t.seeds, rng)
        t.mutate = _docx_mutator(m) if t.name == "docx" else (lambda seed, _rng, m=m: m(seed))
    return [t for t in targets if t.seeds]


def synth_seeds(n: int, out: Path, seed: int = 13) -> Path:
    """Fresh generated documents (every format) for the seed pool."""
    from etl.synth.__main__ import main as synth_main

    synth_main(["--n", str(n), "--seed", str(seed), "--out", str(out)])
    return out
