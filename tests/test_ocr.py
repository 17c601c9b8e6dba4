"""OCR of scanned reports: renderings of real and generated PDFs (made here, never committed) parse through
etl.parse.scan to the labels' cells, and OCR never loads a wrong number silently."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl.accuracy import _silent_wrong
from etl.extract import detect_format
from etl.model import Metadata, ParsedReport
from etl.parse import parse_bytes
from etl.parse.scan import CellRead
from etl.parse.tables import TableRead
from etl.synth import scan as synth_scan
from tests.conftest import PROJECT, REAL

GENERATED = PROJECT / "sample" / "landing" / "generated" / "15" / "150000-gov-2022.pdf"


def _label(pdf: Path) -> dict:
    return json.loads(pdf.with_name(pdf.stem + ".expected.json").read_text(encoding="utf-8"))


def _expected(label: dict) -> dict:
    skip = set(label.get("uncertain_cells", []))
    unresolvable = set(label.get("unresolvable_cells", []))
    return {c: (None if c in unresolvable else v) for c, v in label["cells"].items() if c not in skip}


def _variant(name: str) -> synth_scan.Variant:
    return next(v for v in synth_scan.VARIANTS if v.name == name)


def _needs_cjk_font() -> None:
    if not synth_scan.has_cjk_font():
        pytest.skip("no CJK font installed: generated PDFs (non-embedded STSong) render without Chinese")


def _check(rep: ParsedReport, label: dict) -> None:
    """Every cell exact, or flagged by OCR; none wrong where the report would load."""
    expected = _expected(label)
    silent, _ = _silent_wrong(rep, expected)
    assert silent == 0
    flagged = set(rep.ocr["flagged"]) | set(rep.ocr["nulled"]) | set(rep.ocr["repaired"])
    wrong = {
        c: (rep.cells.get(c), v) for c, v in expected.items() if rep.cells.get(c) != v and c not in flagged
    }
    assert not wrong
    assert rep.meta.year == label["year"] and rep.meta.issuer == label["issuer"]


@pytest.fixture(scope="module")
def real_scan() -> tuple[ParsedReport, dict]:
    pdf = REAL / "js-huaian-hongze-2023.pdf"
    if not pdf.exists():
        pytest.skip(f"shared corpus not found at {REAL}")
    data = synth_scan.scanned(pdf.read_bytes(), _variant("scan200"))
    return parse_bytes(data, "scan.pdf"), _label(pdf)


def test_image_formats_are_sniffed() -> None:
    assert detect_format(Path("x.bin"), b"\x89PNG\r\n\x1a\n....") == "image"
    assert detect_format(Path("x"), b"\xff\xd8\xff\xe0..") == "image"
    assert detect_format(Path("x.tif"), b"II*\x00") == "image"
    assert detect_format(Path("scan.pdf"), b"%PDF-1.4") == "pdf"


def test_scanned_real_pdf_parses_exact(real_scan: tuple[ParsedReport, dict]) -> None:
    rep, label = real_scan
    assert rep.ocr["engine"] and rep.ocr["dpi"] == 200
    _check(rep, label)
    exact = sum(rep.cells.get(c) == v for c, v in _expected(label).items())
    assert exact >= 0.99 * len(_expected(label))


def test_ocr_cells_carry_page_box_and_confidence(real_scan: tuple[ParsedReport, dict]) -> None:
    rep, _ = real_scan
    t3 = [p for c, p in rep.provenance.items() if c.startswith("t3.")]
    assert t3 and all(p.startswith("ocr page ") and " box " in p and " conf " in p for p in t3)


def test_image_file_and_noisy_rotated_scan_parse() -> None:
    _needs_cjk_font()
    label = _label(GENERATED)
    png = synth_scan.scanned(GENERATED.read_bytes(), _variant("image200"))
    rep = parse_bytes(png, "report.png")
    assert rep.file_format == "image"
    _check(rep, label)
    noisy = synth_scan.scanned(GENERATED.read_bytes(), _variant("scan200-noisy"))
    rep = parse_bytes(noisy, "report.pdf")
    assert any(abs(a) > 0.3 for a in rep.ocr["skew"])  # the rotation was found and undone
    _check(rep, label)


def test_ocr_flag_and_provenance_reach_the_warehouse(tmp_path: Path) -> None:
    _needs_cjk_font()
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "scan.pdf").write_bytes(synth_scan.scanned(GENERATED.read_bytes(), _variant("scan200")))
    shutil.copy(PROJECT / "sample" / "landing" / "suichang-2021.txt", landing / "seed.txt")
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(tmp_path / "w")],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "w" / "warehouse.duckdb"), read_only=True)
    try:
        rows = dict(con.execute("SELECT source_file, read_by_ocr FROM dim_report").fetchall())
        assert rows == {"scan.pdf": True, "seed.txt": False}
        (ocr,) = con.execute("SELECT ocr FROM dim_report WHERE read_by_ocr").fetchone()
        assert json.loads(ocr)["dpi"] == 200
        n = con.execute(
            "SELECT count(*) FROM fact_cell c JOIN dim_report r USING (report_id) "
            "WHERE r.read_by_ocr AND c.provenance LIKE 'ocr page %'"
        ).fetchone()[0]
        assert n > 150
        marts = dict(con.execute("SELECT source_file, read_by_ocr FROM bi_report").fetchall())
        assert marts == {"scan.pdf": True, "seed.txt": False}
    finally:
        con.close()


# -- a misread injected into OCR's output ----------------------------------------------------------------
def _tables(label: dict) -> tuple[TableRead, dict[str, CellRead]]:
    """The label's cells as if OCR had read every one at high confidence."""
    cells = dict(label["cells"])
    tables = TableRead(
        label["format"], cells, provenance={c: f"ocr page 1 box 0,0,1,1 conf 0.99 (r {c})" for c in cells}
    )
    placed = {c: CellRead(str(v), 1, (0, 0, 1, 1), 0.99) for c, v in cells.items()}
    return tables, placed


def _judge(tables: TableRead, placed: dict[str, CellRead]) -> dict:
    from etl.parse.ocr_cells import judge

    return judge(tables, placed)


def _seen_t3_cell(label: dict) -> str:
    return next(
        c
        for c, v in label["cells"].items()
        if c.startswith("t3.granted.") and v and v > 1 and not c.endswith("total")
    )


def test_misread_with_a_unique_fitting_alternative_is_repaired() -> None:
    label = _label(GENERATED)
    tables, placed = _tables(label)
    code = _seen_t3_cell(label)
    true = tables.cells[code]
    tables.cells[code] = true + 7  # misread
    placed[code] = CellRead(str(true + 7), 1, (0, 0, 1, 1), 0.41, alternatives=[str(true + 1), str(true)])
    out = _judge(tables, placed)
    assert tables.cells[code] == true
    assert out["repaired"] == {code: [true + 7, true]}
    assert "ocr_repaired" in tables.provenance[code]


def test_misread_without_a_fitting_alternative_is_nulled_and_blocks() -> None:
    label = _label(GENERATED)
    tables, placed = _tables(label)
    code = _seen_t3_cell(label)
    true = tables.cells[code]
    tables.cells[code] = true + 7
    placed[code] = CellRead(str(true + 7), 1, (0, 0, 1, 1), 0.41, alternatives=[str(true + 1)])
    out = _judge(tables, placed)
    assert tables.cells[code] is None and out["nulled"] == [code]
    assert tables.unresolved[code].startswith("ocr low confidence")
    from etl.validate.rules import rules

    complete = next(r for r in rules(label["format"]) if r.rule_id == "report.complete")
    assert code in complete.cells and code not in complete.tolerated  # report.complete quarantines it


def test_misread_at_high_confidence_breaks_an_identity() -> None:
    label = _label(GENERATED)
    tables, placed = _tables(label)
    code = _seen_t3_cell(label)
    tables.cells[code] += 7
    placed[code] = CellRead(str(tables.cells[code]), 1, (0, 0, 1, 1), 0.97)
    _judge(tables, placed)
    assert tables.cells[code] == label["cells"][code] + 7  # left as read: the failed identity quarantines it
    rep = ParsedReport(
        label["format"], "pdf", Metadata(), tables.cells, ocr={"flagged": {}, "repaired": {}, "nulled": []}
    )
    assert _silent_wrong(rep, _expected(label)) == (0, 0)  # quarantined: nothing of it loads


def test_low_confidence_t2_cell_is_flagged_for_the_warning_rule() -> None:
    label = _label(GENERATED)
    tables, placed = _tables(label)
    placed["t2.licensing.decisions"].conf = 0.5
    out = _judge(tables, placed)
    assert out["flagged"] == {"t2.licensing.decisions": 0.5}
    assert tables.cells["t2.licensing.decisions"] == label["cells"]["t2.licensing.decisions"]
    assert tables.unresolved["t2.licensing.decisions"].startswith("ocr low confidence")


def test_a_two_line_title_is_read_whole_from_a_scan() -> None:
    """A title printed on two lines of one size is the title, though OCR's boxes make the lines' heights
    differ: line sizes are read from the ink. Read partially, the generated office report below lost its
    issuer line, and the body's 本报告由…办公室编制 made the government the issuer."""
    from etl.parse.pdf import read_pdf
    from etl.parse.scan import read_scan

    _needs_cjk_font()
    office = PROJECT / "sample" / "landing" / "generated" / "15" / "152900-d27-2020.pdf"
    label = _label(office)
    rep = parse_bytes(synth_scan.scanned(office.read_bytes(), _variant("scan200")), "office.pdf")
    assert (rep.meta.issuer, rep.meta.scope) == (label["issuer"], label["scope"])
    real = REAL / "js-huaian-hongze-2023.pdf"
    if real.exists():
        _, printed, _ = read_pdf(real.read_bytes())
        for variant in ("scan150", "scan200"):
            _, title, _, _ = read_scan(synth_scan.scanned(real.read_bytes(), _variant(variant)), "pdf")
            assert title.replace(" ", "") == printed.replace(" ", ""), variant
