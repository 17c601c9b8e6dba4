"""Word reports via python-docx: real tables with merged cells for the row groups (三、本年度办理结果,
（三）不予公开 …) and the header blocks. Deterministic: fixed core properties, and the zip is rewritten with
fixed timestamps (python-docx stamps every member with the current time)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape

from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt

from etl.synth.document import Document
from etl.synth.layout import Grid, placed, table2, table3, table4
from etl.synth.narrative import compiler

_EPOCH = (2000, 1, 1, 0, 0, 0)


def _tc(width: int, span: int, vmerge: str | None, text: str, center: bool) -> str:
    props = f'<w:tcW w:w="{width * span}" w:type="dxa"/>'
    props += f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    props += {None: "", "restart": '<w:vMerge w:val="restart"/>', "continue": "<w:vMerge/>"}[vmerge]
    jc = '<w:pPr><w:jc w:val="center"/></w:pPr>' if center else ""
    run = f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>' if text else ""
    return f"<w:tc><w:tcPr>{props}</w:tcPr><w:p>{jc}{run}</w:p></w:tc>"


def _table(word, grid: Grid) -> None:
    """The table as WordprocessingML, written directly: merges via gridSpan / vMerge as Word saves them
    (python-docx's cell.merge costs ~1 ms each, and a report has ~35)."""
    cells, width = placed(grid)
    col_w = 9000 // width
    starts = {(r, c): cell for r, c, cell in cells}
    below = {}  # (row, column) covered by a row span from above -> its cell
    for r, c, cell in cells:
        for dr in range(1, cell.rowspan):
            below[(r + dr, c)] = cell
    rows = []
    for r in range(len(grid)):
        tcs, c = [], 0
        while c < width:
            if (cell := starts.get((r, c))) is not None:
                vmerge = "restart" if cell.rowspan > 1 else None
                tcs.append(_tc(col_w, cell.colspan, vmerge, cell.text, cell.role != "label"))
            elif (cell := below.get((r, c))) is not None:
                tcs.append(_tc(col_w, cell.colspan, "continue", "", False))
            else:  # a hole in the grid (never in the official tables): keep the row rectangular
                tcs.append(_tc(col_w, 1, None, "", False))
                cell = None
            c += cell.colspan if cell is not None else 1
        rows.append(f"<w:tr>{''.join(tcs)}</w:tr>")
    grid_cols = f'<w:gridCol w:w="{col_w}"/>' * width
    xml = (
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        f'<w:jc w:val="center"/><w:tblLook w:val="04A0"/></w:tblPr><w:tblGrid>{grid_cols}</w:tblGrid>'
        f"{''.join(rows)}</w:tbl>"
    )
    word.element.body._insert_tbl(parse_xml(xml))


_KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "TableGrid", "NoList"}


def _drop_optional_parts(word) -> None:
    """stylesWithEffects (Word 2010 compatibility), the thumbnail and the ~160 unused styles of python-docx's
    template: two thirds of the file, read by nobody."""
    styles = word.styles.element
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in _KEEP_STYLES:
            styles.remove(style)
    for rel in list(word.part.rels.values()):
        if rel.reltype.endswith("/stylesWithEffects"):
            word.part.drop_rel(rel.rId)
    package_rels = word.part.package.rels
    for rid in [r.rId for r in package_rels.values() if r.reltype.endswith("/thumbnail")]:
        del package_rels[rid]


def _stable_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(
                zipfile.ZipInfo(info.filename, _EPOCH), src.read(info.filename), zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def render(doc: Document) -> bytes:
    s, p = doc.spec, doc.printed
    word = new_docx()
    word.styles["Normal"].font.size = Pt(11)
    grids = {"t2": table2(s.template, p), "t3": table3(s.template, p), "t4": table4(p)}
    for kind, text in doc.blocks:
        if kind == "table":
            _table(word, grids[text])
        elif kind == "title":
            para = word.add_paragraph()
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = para.add_run(text)
            run.bold, run.font.size = True, Pt(18)
        elif kind == "date":
            continue
        elif kind == "h":
            word.add_paragraph().add_run(p.label(text)).bold = True
        else:
            word.add_paragraph(text)
    props = word.core_properties
    when = datetime(s.year + 1, 1, 20, 9, 0, 0)
    props.author = props.last_modified_by = compiler(s.issuer)
    props.title = doc.title
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    _drop_optional_parts(word)
    out = io.BytesIO()
    word.save(out)
    return _stable_zip(out.getvalue())
