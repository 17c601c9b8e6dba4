"""Word reports via python-docx: real tables with merged cells for the row groups (三、本年度办理结果,
（三）不予公开 …) and the header blocks. Deterministic: fixed core properties, and the zip is rewritten with
fixed timestamps (python-docx stamps every member with the current time)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from docx import Document as new_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from etl.synth.document import Document
from etl.synth.layout import Grid, placed, table2, table3, table4
from etl.synth.narrative import compiler

_EPOCH = (2000, 1, 1, 0, 0, 0)


def _table(word, grid: Grid) -> None:
    cells, width = placed(grid)
    table = word.add_table(rows=len(grid), cols=width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [r.cells for r in table.rows]  # python-docx recomputes the grid on every .cells: once per row
    for r, c, cell in cells:
        target = rows[r][c]
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(rows[r + cell.rowspan - 1][c + cell.colspan - 1])
        para = target.paragraphs[0]
        para.text = cell.text
        if cell.role != "label":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _drop_optional_parts(word) -> None:
    """stylesWithEffects (Word 2010 compatibility) and the thumbnail: a third of the file, read by nobody."""
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
