"""Issue 13: every file parsed under caps in a replaceable worker; hostile files rejected naming the cap."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from etl import pipeline
from etl.fuzz import hostile
from etl.model import RejectedInput
from etl.parse import caps, parse_bytes
from etl.parse.isolation import IsolatedParser
from tests.conftest import PROJECT, SEED


@pytest.fixture(autouse=True)
def _fresh_limits():
    caps.limits.cache_clear()
    yield
    caps.limits.cache_clear()


@pytest.mark.parametrize(
    ("name", "build", "cap"),
    [
        ("bomb.docx", lambda: hostile.zip_bomb_docx(300), "zip cap: member 'word/document.xml' inflates"),
        ("laughs.docx", hostile.billion_laughs_docx, "declares a DTD"),
        ("members.docx", lambda: hostile.many_members_docx(2100), "zip cap: 2103 members"),
        ("huge.html", lambda: hostile.huge_html(21), "over the html size cap"),
        ("pages.pdf", lambda: hostile.many_pages_pdf(501), "PDF cap: 501 pages > 500"),
        ("objects.pdf", lambda: hostile.many_objects_pdf(100_100), "PDF cap: page 1 has 100100 objects"),
    ],
)
def test_hostile_files_are_rejected_by_their_cap(name, build, cap):
    with pytest.raises(RejectedInput, match=cap.replace("(", r"\(")):
        parse_bytes(build(), name)


def test_a_high_ratio_member_is_refused_before_inflating(monkeypatch):
    monkeypatch.setenv("ETL_ZIP_MAX_MEMBER_MB", "1000")
    with pytest.raises(RejectedInput, match="compression ratio"):
        parse_bytes(hostile.zip_bomb_docx(20), "bomb.docx")


def test_the_issue_zip_bomb_is_rejected_fast_by_the_cli(tmp_path):
    """The issue's file: ~3 MB, word/document.xml inflating to 3 GB; one line, exit 2, no traceback."""
    path = tmp_path / "report.docx"
    path.write_bytes(hostile.zip_bomb_docx(3000))
    assert path.stat().st_size < 4 << 20
    started = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "etl", "parse", str(path)], capture_output=True, text=True, cwd=PROJECT
    )
    assert p.returncode == 2
    assert time.monotonic() - started < 30  # the issue's 38 s; here it is the interpreter's start-up
    (line,) = p.stdout.splitlines()
    assert "zip cap" in json.loads(line)["rejected"]
    assert "Traceback" not in p.stderr


def _landing(tmp_path, big_mb: int):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a-big.html").write_bytes(hostile.huge_html(big_mb))
    (landing / "b-seed.txt").write_bytes(SEED.read_bytes())
    return landing


def _parse_all(tmp_path, landing) -> dict[str, dict]:
    plan = pipeline.extract("iso", str(landing), str(tmp_path / "work"))
    (batch,) = plan["batches"]
    out = pipeline.parse_batch(batch)
    return {r["file"]["path"]: r for r in map(json.loads, open(out, encoding="utf-8"))}


def test_time_cap_rejects_the_file_and_the_batch_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_PARSE_TIMEOUT_S", "0.5")
    records = _parse_all(tmp_path, _landing(tmp_path, 15))
    assert records["a-big.html"]["rejected"] == "over the parse time cap (0.5 s)"
    assert records["b-seed.txt"]["report"]["meta"]["year"] == 2021


def test_memory_cap_rejects_the_file_and_the_batch_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("ETL_PARSE_MEMORY_MB", "100")
    records = _parse_all(tmp_path, _landing(tmp_path, 15))
    assert records["a-big.html"]["rejected"] == "over the parse memory cap (100 MB)"
    assert records["b-seed.txt"]["report"]["meta"]["year"] == 2021


def test_a_worker_that_dies_is_replaced(tmp_path):
    with IsolatedParser() as parser:
        first = parser.parse(SEED, "text")
        parser._worker.proc.kill()  # as a reader crashing in C code would
        again = parser.parse(SEED, "text")
    assert first["report"] == again["report"]


def test_cli_rejects_every_bad_input_on_one_line(tmp_path):
    bad = {
        "garbage.pdf": hostile.garbage(),
        "garbage.docx": hostile.garbage(),
        "laughs.html": hostile.billion_laughs_html(),
        "empty.txt": b"",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    for path in [*(tmp_path / n for n in bad), tmp_path / "missing.txt", tmp_path]:
        p = subprocess.run(
            [sys.executable, "-m", "etl", "parse", str(path)], capture_output=True, text=True, cwd=PROJECT
        )
        assert p.returncode == 2, (path, p.stdout, p.stderr)
        (line,) = p.stdout.splitlines()
        assert json.loads(line)["rejected"]
        assert "Traceback" not in p.stderr


def test_parsing_never_imports_great_expectations():
    """The parser reads the rule catalogue (positional 表三 rows, OCR repairs); a parse worker must not pay
    Great Expectations' import (seconds, hundreds of MB) for it."""
    code = (
        "import sys; from pathlib import Path; import etl.validate.rules; from etl.parse import parse_file; "
        f"parse_file(Path({str(SEED)!r})); print('great_expectations' in sys.modules)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "False"
