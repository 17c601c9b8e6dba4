"""Readers for PDF, Word and markdown, and the row matcher's robustness to the layouts real extracts show.

Each labelled report is read by its format's reader and mapped by read_tables: every scored cell exact. The
PDF, Word and layout fixtures are generated here (never copies of corpus files).
"""

from __future__ import annotations

import ctypes
import io
import json
import random

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import spec
from etl.extract import decode_bytes, detect_format
from etl.model import RejectedInput
from etl.parse import docx as docx_reader
from etl.parse.docx import read_doc, read_docx
from etl.parse.html import read_html
from etl.parse.pdf import read_pdf
from etl.parse.rows import Row, normalize, text_rows
from etl.parse.tables import read_tables
from etl.parse.values import read_slot
from tests.conftest import REAL, label_for

HANDLED = (
    "suichang-2021.txt",
    "fj-pingtan-2022.page.html",
    "sh-shanghai-govoffice-2019.html",
    "sh-stcsm-kewei-2024.md",
    "js-huaian-city-2024.pdf",
    "js-huaian-hongze-2023.pdf",
)


def _rows(data: bytes, name: str) -> list[Row]:
    fmt = detect_format(REAL / name, data[:8192])
    if fmt == "pdf":
        return read_pdf(data)[2]
    if fmt == "docx":
        return read_docx(data)[2]
    if fmt == "html":
        return read_html(decode_bytes(data, fmt))[2]
    return text_rows(normalize(decode_bytes(data, fmt)))


def _scored(label: dict) -> dict:
    skip = set(label.get("uncertain_cells", []))
    unresolvable = set(label.get("unresolvable_cells", []))
    return {c: (None if c in unresolvable else v) for c, v in label["cells"].items() if c not in skip}


@pytest.mark.parametrize("name", HANDLED)
def test_labelled_report_cells_exact(name):
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    label = json.loads(label_for(path).read_text(encoding="utf-8"))
    got = read_tables(_rows(path.read_bytes(), name), year=label["year"])
    assert got.template == label["format"]
    wrong = {c: (got.cells.get(c), v) for c, v in _scored(label).items() if got.cells.get(c) != v}
    assert wrong == {}, f"{len(wrong)} cells differ (got, expected)"
    if "blank_cells" in label:
        assert sorted(got.blank_cells) == sorted(label["blank_cells"])


def test_xhtml_with_xml_declaration_and_gbk_reads_its_tables():
    """An XHTML page (<?xml ... encoding=...?> first) in GBK: the declaration must not stop the reader, and
    entities (full-width digits written as &#65297;) are folded like typed ones."""
    page = (
        '<?xml version="1.0" encoding="gb2312"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"/>'
        "<title>某县人民政府2021年政府信息公开工作年度报告</title><script>var x='<td>9</td>';</script></head>"
        "<body><p>统计期限</p><table><tbody><tr><td>行政许可</td><td>&#65297;&#65298;</td><td>3</td>"
        "<td><span>4</span> <span>5</span></td></tr></tbody></table></body></html>"
    ).encode("gbk", errors="xmlcharrefreplace")
    text, title, rows = read_html(decode_bytes(page, "html"))
    assert title == "某县人民政府2021年政府信息公开工作年度报告"
    assert [r.cells for r in rows] == [["行政许可", "12", "3", "45"]]
    assert "统计期限" in text and "var x" not in text


def test_pdf_title_and_text():
    path = REAL / "js-huaian-city-2024.pdf"
    if not path.exists():
        pytest.skip(f"{path} not found")
    text, title, rows = read_pdf(path.read_bytes())
    # the document's Title property is generic here: the printed title names the issuer
    assert title.replace(" ", "") == "淮安市人民政府2024年政府信息公开工作年度报告"
    assert "全市共受理政府信息公开申请 3119 件" in text
    assert not any(r.cells in (["- 4 -"], ["-4-"]) for r in rows)  # page numbers dropped


# -- PDF fixtures made with pdfium: geometry (the standard fonts carry no CJK, so labels are Latin) ---------
class _PdfBuilder:
    def __init__(self) -> None:
        self.pdf = pdfium.PdfDocument.new()
        self.page = None

    def new_page(self) -> None:
        if self.page is not None:
            pdfium_c.FPDFPage_GenerateContent(self.page.raw)
        self.page = self.pdf.new_page(595, 842)

    def text(self, s: str, x: float, y: float, size: float = 10) -> None:
        obj = pdfium_c.FPDFPageObj_NewTextObj(self.pdf.raw, b"Helvetica", ctypes.c_float(size))
        buf = ctypes.create_string_buffer((s + "\0").encode("utf-16-le"))
        pdfium_c.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
        pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
        pdfium_c.FPDFPage_InsertObject(self.page.raw, obj)

    def rect(self, x: float, y: float, w: float, h: float, stroke: bool = True) -> None:
        obj = pdfium_c.FPDFPageObj_CreateNewRect(x, y, w, h)
        pdfium_c.FPDFPath_SetDrawMode(obj, 0 if stroke else pdfium_c.FPDF_FILLMODE_ALTERNATE, stroke)
        pdfium_c.FPDFPage_InsertObject(self.page.raw, obj)

    def save(self) -> bytes:
        pdfium_c.FPDFPage_GenerateContent(self.page.raw)
        buf = io.BytesIO()
        self.pdf.save(buf)
        return buf.getvalue()


def _grid_page(b: _PdfBuilder, top: float, cell_style: str) -> None:
    """A 3-row table: a label cell spanning rows 1-2 printed one letter a line, a label wrapped onto two lines
    with its numbers centred against it, and a plain row."""
    xs, ys = (60, 160, 300, 360, 420), (top, top - 40, top - 80, top - 100)
    if cell_style == "rects":  # every cell stroked as its own rectangle (the merged one once)
        b.rect(xs[0], ys[2], xs[1] - xs[0], ys[0] - ys[2])
        for r in range(3):
            for c in range(1, 4):
                if r < 2 or c > 0:
                    b.rect(xs[c], ys[r + 1], xs[c + 1] - xs[c], ys[r] - ys[r + 1])
        b.rect(xs[0], ys[3], xs[1] - xs[0], ys[2] - ys[3])
    else:  # rules drawn as thin filled rectangles
        for y in ys:
            b.rect(
                xs[1] if y == ys[1] else xs[0], y - 0.4, xs[-1] - (xs[1] if y == ys[1] else xs[0]), 0.8, False
            )
        for x in xs:
            b.rect(x - 0.4, ys[-1], 0.8, ys[0] - ys[-1], False)
    for i, ch in enumerate("VERT"):
        b.text(ch, 100, top - 14 - 15 * i)
    b.text("Wrapped long", 170, top - 17)
    b.text("label here", 170, top - 30)
    b.text("12", 320, top - 24)
    b.text("7", 380, top - 24)
    b.text("Second row", 170, top - 62)
    b.text("3", 320, top - 62)
    b.text("0", 380, top - 62)
    b.text("Plain", 70, top - 94)
    b.text("Third", 170, top - 94)
    b.text("1,204", 310, top - 94)
    b.text("5", 380, top - 94)


@pytest.mark.parametrize("cell_style", ["rects", "rules"])
def test_pdf_grid_rows(cell_style):
    b = _PdfBuilder()
    b.new_page()
    b.rect(30, 30, 535, 782)  # a page border: one enclosed cell is a frame, not a table
    b.text("Report heading line", 60, 760, 16)
    _grid_page(b, 700, cell_style)
    b.text("- 1 -", 280, 40)
    b.new_page()
    _grid_page(b, 800, cell_style)  # the table goes on at the top of the next page
    b.text("After the table", 60, 600)
    text, title, rows = read_pdf(b.save())
    cells = [r.cells for r in rows]
    table = [
        ["VERT", "Wrapped long label here", "12", "7"],
        ["Second row", "3", "0"],
        ["Plain", "Third", "1,204", "5"],
    ]
    assert cells == [["Report heading line"], *table, *table, ["After the table"]]
    assert "Report heading line" in text


def test_pdf_without_text_layer_is_rejected():
    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(595, 842)
    image = pdfium.PdfImage.new(pdf)
    image.set_bitmap(pdfium.PdfBitmap.new_native(64, 64, pdfium_c.FPDFBitmap_BGR))
    image.set_matrix(pdfium.PdfMatrix().scale(500, 700).translate(40, 60))
    page.insert_obj(image)
    page.gen_content()
    buf = io.BytesIO()
    pdf.save(buf)
    with pytest.raises(RejectedInput, match="no text layer"):
        read_pdf(buf.getvalue())


def test_unreadable_pdf_is_rejected():
    with pytest.raises(RejectedInput, match="unreadable PDF"):
        read_pdf(b"%PDF-1.7\nnot really a pdf")


# -- a synthetic 2021 report built from the template's own labels -----------------------------------------
def _values(seed: int, template: str = "2021") -> dict[str, int | float]:
    rng = random.Random(seed)
    return {
        c: (
            rng.choice([0, 0, 0, rng.randint(1, 3000)])
            if c.startswith(("t3.", "t4."))
            else rng.randint(0, 99999)
        )
        for c in spec.codes(template)
    }


def _t3_layout(template: str) -> list[tuple[str, list[str]]]:
    """(row key, label parts) in template order: ["三、本年度办理结果", "(一)予以公开"], ["(三)不予公开", "1.…"]."""
    out = []
    for key in spec.t3_rows(template):
        cell = next(c for c in spec.cells(template) if c.code.startswith(f"t3.{key}."))
        out.append((key, cell.row_label.split(" ")))
    return out


def _t2_layout(template: str) -> list[tuple[str, str, str, list[str]]]:
    """(row key, section, row label, column labels) in template order."""
    out = []
    for key, _ in spec.t2_rows(template):
        cs = [c for c in spec.cells(template) if c.code.startswith(f"t2.{key}.")]
        out.append((key, cs[0].section, cs[0].row_label, [c.column_label for c in cs]))
    return out


# -- Word ---------------------------------------------------------------------------------------------------
def _docx_report(values: dict, blank: set[str]) -> bytes:
    """A 2021 report as a Word file, with the merged cells real ones have (python-docx repeats those)."""

    def v(code: str) -> str:
        return "/" if code in blank else str(values[code])

    d = docx.Document()
    d.add_paragraph("遂昌县人民政府")
    d.add_paragraph("2021年政府信息公开工作年度报告")
    d.add_paragraph("一、总体情况")
    d.add_paragraph("2021年，我县认真贯彻落实《中华人民共和国政府信息公开条例》。")
    d.add_paragraph("二、主动公开政府信息情况")
    t2 = d.add_table(rows=0, cols=4)
    section = None
    for key, sec, row_label, cols in _t2_layout("2021"):
        if sec != section:
            section = sec
            r = t2.add_row().cells
            r[0].merge(r[3]).text = sec
            r = t2.add_row().cells
            r[0].text = "信息内容"
            if len(cols) == 1:
                r[1].merge(r[3]).text = cols[0]
            else:
                for i, c in enumerate(cols, start=1):
                    r[i].text = c
        r = t2.add_row().cells
        r[0].text = row_label
        codes = [c.code for c in spec.cells("2021") if c.code.startswith(f"t2.{key}.")]
        if len(codes) == 1:
            r[1].merge(r[3]).text = v(codes[0])
        else:
            for i, code in enumerate(codes, start=1):
                r[i].text = v(code)
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    t3 = d.add_table(rows=3, cols=10)
    h = t3.rows
    h[0].cells[0].merge(
        h[2].cells[2]
    ).text = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    h[0].cells[3].merge(h[0].cells[9]).text = "申请人情况"
    h[1].cells[3].merge(h[2].cells[3]).text = "自然人"
    h[1].cells[4].merge(h[1].cells[8]).text = "法人或其他组织"
    h[1].cells[9].merge(h[2].cells[9]).text = "总计"
    for i, c in enumerate(("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"), start=4):
        h[2].cells[i].text = c
    spans: dict[str, list] = {}  # merged label -> [first cell, last cell]
    for key, parts in _t3_layout("2021"):
        r = t3.add_row().cells
        if len(parts) == 1 and key != "total":
            r[0].merge(r[2]).text = parts[0]
        else:
            spans.setdefault("三、本年度办理结果", [r[0], r[0]])[1] = r[0]
            if len(parts) == 1 or parts[0] == "三、本年度办理结果":
                r[1].merge(r[2]).text = parts[-1]
            else:
                spans.setdefault(parts[0], [r[1], r[1]])[1] = r[1]
                r[2].text = parts[1]
        for i, col in enumerate(spec.APPLICANT_COLUMNS, start=3):
            r[i].text = v(f"t3.{key}.{col}")
    for text, (first, last) in spans.items():
        first.merge(last).text = text
    d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    t4 = d.add_table(rows=4, cols=15)
    rows = t4.rows
    rows[0].cells[0].merge(rows[1].cells[4]).text = "行政复议"
    rows[0].cells[5].merge(rows[0].cells[14]).text = "行政诉讼"
    rows[1].cells[5].merge(rows[1].cells[9]).text = "未经复议直接起诉"
    rows[1].cells[10].merge(rows[1].cells[14]).text = "复议后起诉"
    for i in range(15):
        rows[2].cells[i].text = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")[i % 5]
    codes = [c for c in spec.codes("2021") if c.startswith("t4.")]
    for i, code in enumerate(codes):
        rows[3].cells[i].text = v(code)
    d.add_paragraph("五、存在的主要问题及改进情况")
    d.add_paragraph("一是……")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_round_trip():
    values = _values(7)
    label = REAL / "suichang-2021.expected.json"
    if label.exists():  # the seed report's own values
        values = json.loads(label.read_text(encoding="utf-8"))["cells"]
    blank = {"t3.denied_state_secret.research_institution", "t4.review.pending"}
    data = _docx_report(values, blank)
    assert detect_format(REAL / "report.docx", data[:8192]) == "docx"
    text, title, rows = read_docx(data)
    assert title == "遂昌县人民政府2021年政府信息公开工作年度报告"
    assert "我县认真贯彻落实" in text
    got = read_tables(rows)
    assert got.template == "2021"
    expected = {c: (0 if c in blank else v) for c, v in values.items()}
    assert {c: got.cells[c] for c in expected if got.cells[c] != expected[c]} == {}
    assert sorted(got.blank_cells) == sorted(blank)
    # a merged cell is read once, where it starts: the （三） label heads only its first row
    rows_text = [" ".join(r.cells) for r in rows]
    assert sum("（三）不予公开" in t or "(三)不予公开" in t for t in rows_text) == 1


def test_unreadable_docx_is_rejected():
    with pytest.raises(RejectedInput, match="unreadable .docx"):
        read_docx(b"PK\x03\x04 not a zip")


def test_docx_of_a_zip_version_zipfile_cannot_read_is_rejected():
    # fuzzing found it: a central directory asking for zip version 12.7 made zipfile raise NotImplementedError
    data = bytearray(_docx_report(_values(3), set()))
    at = data.index(b"PK\x01\x02")  # the first central directory entry; "version needed to extract" at +6
    data[at + 6 : at + 8] = (127).to_bytes(2, "little")
    with pytest.raises(RejectedInput, match=r"unreadable \.docx \(NotImplementedError\)"):
        read_docx(bytes(data))


def test_doc_named_files_read_as_what_they_are():
    docx_bytes = _docx_report(_values(3), set())
    assert read_doc(docx_bytes)[2] == read_docx(docx_bytes)[2]  # a .docx package named .doc/.wps
    page = "<html><body><table><tr><td>行政许可</td><td>5</td></tr></table></body></html>".encode("gb18030")
    assert read_doc(page)[2][0].cells == ["行政许可", "5"]  # a web page Word saved as .doc


def test_doc_needs_libreoffice(monkeypatch):
    monkeypatch.setattr(docx_reader.shutil, "which", lambda _: None)
    with pytest.raises(RejectedInput, match="needs LibreOffice"):
        read_doc(b"\xd0\xcf\x11\xe0 legacy word")


# -- text layouts: labels detached from, wrapped around or glued to their numbers ---------------------------
def _text_report(
    values: dict,
    rng: random.Random,
    *,
    wrap: bool,
    detach: bool,
    spaces: bool,
    numbering: str,
    generic: bool,
    heading: str,
) -> str:
    sep = " " if spaces else " | "

    def frame(line: str) -> str:
        return line if spaces else f"| {line} |"

    lines = ["二、主动公开政府信息情况"]
    section = None
    for key, sec, row_label, cols in _t2_layout("2021"):
        if sec != section:
            section = sec
            heads = [f"数据{i}" for i in range(1, len(cols) + 1)] if generic else cols
            lines += [sec, "| 信息内容 | " + " | ".join(heads) + " |", "|---|" + "---|" * len(cols)]
        vals = [str(values[c.code]) for c in spec.cells("2021") if c.code.startswith(f"t2.{key}.")]
        lines.append(row_label + " " + " ".join(vals) if spaces else frame(" | ".join([row_label, *vals])))
    lines += [
        "三、收到和处理政府信息公开申请情况",
        "申请人情况",
        "自然人 | 商业企 | 科研机 | 总计",
        "业 | 构",
    ]
    seen_groups: set[str] = set()
    held_labels: list[str] = []
    held_values: list[str] = []
    for key, parts in _t3_layout("2021"):
        label = "".join(p for p in parts if p not in seen_groups or p == parts[-1])
        seen_groups.update(parts[:-1])
        label = (
            label.replace("1.", f"1{numbering}").replace("2.", f"2{numbering}").replace("3.", f"3{numbering}")
        )
        vals = [str(values[f"t3.{key}.{col}"]) for col in spec.APPLICANT_COLUMNS]
        if detach and key not in ("new_received", "total", "carried_forward") and rng.random() < 0.5:
            held_labels.append(label)  # printed apart: a block of labels, then a block of bare value rows
            held_values.append("| " + " | ".join(vals) + " |")
            continue
        lines += held_labels + held_values if rng.random() < 0.7 else held_values + held_labels
        held_labels, held_values = [], []
        if wrap and len(label) > 8:
            width = rng.randint(4, 12)
            chunks = [label[i : i + width] for i in range(0, len(label), width)]
            at = rng.randrange(len(chunks))  # the numbers on the first, a middle or the last line
            lines += [frame(sep.join([c, *vals])) if i == at else c for i, c in enumerate(chunks)]
        else:
            lines.append(frame(sep.join([label, *vals])))
    lines += held_labels + held_values
    t4 = [str(values[c]) for c in spec.codes("2021") if c.startswith("t4.")]
    lines += [heading, "行政复议 | 行政诉讼", " | ".join(t4), "五、存在的主要问题及改进情况", "无。"]
    return "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    wrap=st.booleans(),
    detach=st.booleans(),
    spaces=st.booleans(),
    numbering=st.sampled_from([".", "、"]),
    generic=st.booleans(),
    heading=st.sampled_from(
        [
            "四、政府信息公开行政复议、行政诉讼情况",
            "四、政府信息公开行政法复议、行政诉讼情况",
            "五、政府信息公开行政复议、行政诉讼情况",
        ]
    ),
)
def test_text_layouts_read_exactly(seed, wrap, detach, spaces, numbering, generic, heading):
    values = _values(seed)
    rng = random.Random(seed)
    if spaces:  # "label n n n" lines carry no row structure to detach or wrap
        wrap = detach = False
    text = _text_report(
        values,
        rng,
        wrap=wrap,
        detach=detach,
        spaces=spaces,
        numbering=numbering,
        generic=generic,
        heading=heading,
    )
    got = read_tables(text_rows(normalize(text)))
    assert {c: (got.cells[c], v) for c, v in values.items() if got.cells[c] != v} == {}


def test_detached_label_rows_follow_template_order():
    text = "\n".join(
        [
            "| 一、本年新收政府信息公开申请数量 | 5 | 0 | 0 | 0 | 0 | 0 | 5 |",
            "| 二、上年结转政府信息公开申请数量 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |",
            "| 三、 | （一）予以公开 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |",
            "| 1 | 0 | 0 | 0 | 0 | 0 | 1 |",  # values before their label
            "（二）部分公开（区分处理的，只",
            "计这一情形，不计其他情形）",
            "5.属于三类内部事务信",  # two labels, then their rows apart
            "息",
            "1.本机关不掌握相关政",
            "府信息",
            "| 3 | 0 | 0 | 0 | 0 | 0 | 3 |",
            "| 6.属于四类过程性信息 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
            "| 4 | 0 | 0 | 0 | 0 | 0 | 4 |",
            "7",  # a stray page number between rows
            "| （七）总计 | 10 | 0 | 0 | 0 | 0 | 0 | 10 |",
        ]
    )
    got = read_tables(text_rows(normalize(text)))
    assert got.cells["t3.partially_granted.total"] == 1
    assert got.cells["t3.denied_internal_affairs.total"] == 3
    assert got.cells["t3.denied_process_information.total"] == 0
    assert got.cells["t3.unable_not_held.total"] == 4
    assert got.cells["t3.total.total"] == 10


def test_plain_label_number_lines():
    text = "\n".join(
        [
            "第二十条第（五）项",
            "信息内容本年处理决定数量",
            "行政许可 97",
            "行政事业性收费 12.5",
            "申请中同意公开答复 9 件，部分公开答复 0 件，不予公开答复 2",  # narrative, not a row
            "一、本年新收政府信息公开申请数量 3 0 0 0 0 0 3",
            "（三）不予公开 1、属于国家秘密 1 0 - 0 0 0 1",
        ]
    )
    got = read_tables(text_rows(normalize(text)))
    assert got.cells["t2.licensing.decisions"] == 97
    assert got.cells["t2.fees.amount"] == 12.5
    assert got.cells["t3.partially_granted.total"] is None
    assert got.cells["t3.new_received.total"] == 3
    assert got.cells["t3.denied_state_secret.natural_person"] == 1
    assert "t3.denied_state_secret.research_institution" in got.blank_cells


def test_single_other_row_in_a_2021_table():
    text = "\n".join(
        [
            "| 一、本年新收政府信息公开申请数量 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |",
            "| （六）其他处理 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        ]
    )
    got = read_tables(text_rows(normalize(text)), template="2021")
    assert got.cells["t3.other_no_fee.total"] == 0 and got.cells["t3.other_other.total"] == 0


def test_markdown_noise_is_not_a_row():
    text = "## 表三\n| **一、本年新收政府信息公开申请数量** | **3** | 0 | 0 | 0 | 0 | 0 | 3 |\n|---|---|\n"
    rows = text_rows(normalize(text))
    assert [r.cells[:2] for r in rows] == [["表三"], ["一、本年新收政府信息公开申请数量", "3"]]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("22（其中修订 16 件）", 22),
        ("００", 0),
        ("1,234", 1234),
        ("-18", -18),
        ("+5", 5),
        ("96171.6", 96171.6),
        ("251000元", 251000),
        ("/", None),
        ("—", None),
        ("无", None),
    ],
)
def test_cell_values(cell, value):
    slot = read_slot(normalize(cell))
    assert slot is not None and slot.value == value


def test_2019_negative_change_and_procurement_unit():
    text = "\n".join(
        [
            "第二十条第（五）项",
            "| 信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |",
            "| 行政许可 | 120 | -18 | 5000 |",
            "第二十条第（九）项",
            "| 信息内容 | 采购项目数量 | 采购总金额（万元） |",
            "| 政府集中采购 | 6 | 25.1 |",
            "| 一、本年新收政府信息公开申请数量 | 3 | 0 | 0 | 0 | 0 | 0 | 3 |",
        ]
    )
    got = read_tables(text_rows(normalize(text)))
    assert got.template == "2019"
    assert got.cells["t2.licensing.items_change"] == -18
    assert got.cells["t2.procurement.amount"] == 25.1
    assert got.units["t2.procurement.amount"] == "万元"


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("１２３，（）：；　\xa0Ａａ\u0301\u3002行政许可①…ｶﾞ﹣−–-—0123 \n"),
        max_size=40,
    )
)
def test_normalize_is_exactly_nfkc(text):
    """normalize folds full-width forms by table before falling back to NFKC: the result must be NFKC's."""
    import unicodedata

    expected = unicodedata.normalize("NFKC", text).replace("\u2212", "-").replace("\u2013", "-")
    assert normalize(text) == expected
