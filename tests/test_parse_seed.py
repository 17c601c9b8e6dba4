"""The seed report (the one this project started from) parses exactly, through the API and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from etl import spec
from etl.model import RejectedInput
from etl.parse import parse_bytes, parse_file
from tests.conftest import PROJECT, REAL, SEED

SEED_LABEL = REAL / "suichang-2021.expected.json"


@pytest.fixture(scope="module")
def label() -> dict:
    if not SEED_LABEL.exists():
        pytest.skip("no ../shared label for the seed")
    return json.loads(SEED_LABEL.read_text(encoding="utf-8"))


def test_seed_cells_exact(label):
    rep = parse_file(SEED)
    assert rep.template == "2021"
    assert set(rep.cells) == set(spec.codes("2021"))
    wrong = {c: (rep.cells[c], v) for c, v in label["cells"].items() if rep.cells[c] != v}
    assert wrong == {}
    assert rep.unresolved == {}


def test_seed_metadata(label):
    m = parse_file(SEED).meta
    assert (m.issuer, m.year, m.adcode, m.city, m.province) == (
        label["issuer"],
        label["year"],
        label["adcode"],
        label["city"],
        label["province"],
    )
    assert m.scope in ("agency", "government", "region")


def test_seed_noise_handled():
    rep = parse_file(SEED)
    # spam after a number in a cell, a row broken across lines, and "00" in a total cell
    assert rep.cells["t3.partially_granted.natural_person"] == 7
    assert rep.cells["t3.not_processed_publication.total"] == 0
    assert rep.cells["t3.total.commercial_enterprise"] == 0
    assert rep.provenance["t3.granted.total"].startswith("line ")


def test_cli_parse_prints_one_json_object(label):
    out = subprocess.run(
        [sys.executable, "-m", "etl", "parse", str(SEED)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    for key in ("issuer", "year", "format", "adcode", "city", "province", "scope", "cells", "blank_cells"):
        assert key in obj
    assert obj["format"] == "2021" and obj["year"] == 2021 and obj["province"] == "浙江省"
    assert obj["cells"] == label["cells"]


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "empty.txt", "empty file"),
        (b"\x00\x01\x02\x03" * 100, "blob.bin", "unsupported format"),
        ("今天天气很好。".encode(), "note.txt", "not a government information-disclosure annual report"),
        ("政府信息公开工作年度报告\n一、总体情况\n".encode(), "stub.txt", "tables not found"),
    ],
)
def test_non_reports_rejected_with_reason(data, name, reason):
    with pytest.raises(RejectedInput, match=reason):
        parse_bytes(data, name)


def test_cli_parse_rejection_is_one_line(tmp_path):
    f = tmp_path / "note.txt"
    f.write_text("hello", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "parse", str(f)], capture_output=True, text=True, cwd=PROJECT
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["rejected"]


def test_gbk_seed_parses_the_same():
    data = SEED.read_text(encoding="utf-8").encode("gb18030")
    assert parse_bytes(data, "seed-gbk.txt").cells == parse_file(SEED).cells


def test_parsed_report_round_trips_through_its_record():
    """to_dict is written by hand for speed: it must still carry every field and survive JSON."""
    import dataclasses

    from etl.model import ParsedReport

    rep = parse_file(SEED)
    rec = json.loads(json.dumps(rep.to_dict(), ensure_ascii=False))
    assert set(rec) == {f.name for f in dataclasses.fields(ParsedReport)}
    assert rec == dataclasses.asdict(rep)
    assert ParsedReport.from_dict(rec) == rep
