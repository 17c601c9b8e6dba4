"""Issue 13: a short fuzz run of every reader (the documented campaign is `make fuzz`), Hypothesis properties
of the readers, and the differential property: changed digits that break an identity never load as valid."""

from __future__ import annotations

import contextlib
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import pipeline
from etl.fuzz.__main__ import run as fuzz_run
from etl.model import RejectedInput
from etl.parse import parse_bytes
from etl.parse.rows import Row
from etl.parse.tables import read_tables
from etl.validate.rules import rules
from tests.conftest import SEED


def test_short_fuzz_run_finds_no_crash_and_no_hang(shared_corpus, tmp_path):
    """~18 s over the six targets (seeds: the real corpus and the generated sample)."""
    summary = fuzz_run(18.0, None, random.randrange(1 << 30), 0, tmp_path / "found")
    assert set(summary["targets"]) == {"text", "html", "pdf", "docx", "glued", "tables"}
    assert all(t["inputs"] > 0 for t in summary["targets"].values())
    found = (
        sorted(p.name for p in (tmp_path / "found").glob("*.txt")) if (tmp_path / "found").exists() else []
    )
    assert summary["crashes"] == 0 and summary["hangs"] == 0, (summary, found)


_TEXT = SEED.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_TEXT)), st.integers(0, 400), st.binary(max_size=64))
def test_text_reader_only_rejects_cleanly(at, cut, junk):
    data = _TEXT[:at] + junk + _TEXT[at + cut :]
    with contextlib.suppress(RejectedInput):
        parse_bytes(data, "x.txt", "text")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), max_size=9), max_size=40), st.sampled_from([2019, 2021, None]))
def test_table_mapper_only_rejects_cleanly(cells, year):
    rows = [Row(cells=c, where=f"row {i}") for i, c in enumerate(cells)]
    with contextlib.suppress(RejectedInput):
        read_tables(rows, year=year)


# -- the differential property -------------------------------------------------------------------------------
_COUNTIES = ("松阳", "龙泉", "缙云", "青田", "云和", "庆元", "景宁", "开化")
_NUMBER = re.compile(r"(?<![\d.])\d+(?![\d.])")
_ORIGINAL = parse_bytes(_TEXT, SEED.name)
_SUMS = [r for r in rules(_ORIGINAL.template) if r.kind == "sum" and r.severity == "blocking"]


def _mutant(line_pick: int, number_pick: int, delta: int) -> tuple[str, str] | None:
    """The seed with one printed figure changed, and the cell that changed; None when the change is not a
    single cell of a blocking identity (a date, a page number, a cell of no sum rule)."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    with_numbers = [i for i, line in enumerate(lines) if "|" in line and _NUMBER.search(line)]
    i = with_numbers[line_pick % len(with_numbers)]
    found = list(_NUMBER.finditer(lines[i]))
    m = found[number_pick % len(found)]
    lines[i] = lines[i][: m.start()] + str(int(m.group()) + delta) + lines[i][m.end() :]
    text = "\n".join(lines)
    try:
        rep = parse_bytes(text.encode("utf-8"), "x.txt")
    except RejectedInput:
        return None
    changed = [c for c, v in rep.cells.items() if v != _ORIGINAL.cells.get(c)]
    if len(changed) != 1 or not any(changed[0] in (*r.parts, *r.totals) for r in _SUMS):
        return None
    return text, changed[0]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 999), st.integers(0, 99), st.integers(1, 40)), min_size=8, max_size=8)
)
def test_an_identity_broken_in_the_digits_never_loads_as_valid(tmp_path_factory, picks):
    root = tmp_path_factory.mktemp("differential")
    landing = root / "landing"
    landing.mkdir()
    expected = {}
    for county, pick in zip(_COUNTIES, picks, strict=True):
        made = _mutant(*pick)
        if made is None:
            continue
        text, cell = made
        name = f"{county}.txt"
        (landing / name).write_text(text.replace("遂昌", county), encoding="utf-8")
        expected[name] = cell
    if not expected:
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ETL_WAREHOUSE_URL", raising=False)
        result = pipeline.run(landing=str(landing), workdir=str(root / "work"))
    assert not set(result["loaded"]) & set(expected), result
    for name, cell in expected.items():
        broken = {r.rule_id for r in _SUMS if cell in (*r.parts, *r.totals)}
        assert name in result["quarantined"], (name, cell, result)
        assert broken & set(result["quarantined"][name]), (name, cell, result["quarantined"][name])
