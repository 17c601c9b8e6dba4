"""Word reports: .docx through python-docx; legacy .doc/.wps converted to .docx by LibreOffice first.

The body is read in document order: a paragraph is a one-cell row (headings, narrative), a table row is a row.
python-docx hands back a merged cell's object in every grid position it covers, so cells are deduplicated by
their underlying <w:tc>: a merged cell is read once, where it starts, and values keep their reading order
(the same shape as an HTML table with colspan/rowspan).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document
from docx.oxml.exceptions import InvalidXmlError
from docx.oxml.simpletypes import ST_Merge
from docx.table import Table
from docx.text.paragraph import Paragraph

from etl.extract import decode_bytes
from etl.model import RejectedInput
from etl.parse.caps import check_zip
from etl.parse.html import read_html
from etl.parse.rows import Row, collapse_ws, normalize

_GENERIC_TITLE = re.compile(r"^\d{0,4}年?度?政府信息公开工作年度报告$")
_HTML = re.compile(rb"<\s*(?:html|body|table)\b", re.IGNORECASE)
_CONVERT_TIMEOUT = 120  # s: LibreOffice's first start in a fresh profile is slow


def _text(raw: str) -> str:
    return collapse_ws(normalize(raw))


def _table_rows(table: Table, t_idx: int) -> list[Row]:
    rows = []
    for r_idx, tr in enumerate(table._tbl.tr_lst, start=1):
        # each <w:tc> once, where it starts: a horizontal span is one <w:tc> already, and the lower part of a
        # vertical merge (vMerge "continue") repeats the cell above. Read from the XML directly: python-docx's
        # row.cells finds each merge's top cell by XPath, two thirds of the time of a whole .docx report.
        cells = [
            _text("\n".join(p.text for p in tc.p_lst)) for tc in tr.tc_lst if tc.vMerge != ST_Merge.CONTINUE
        ]
        if any(cells) or len(cells) > 1:  # a row of empty cells is a row of blank values
            rows.append(Row(cells=cells, where=f"table {t_idx} row {r_idx}"))
    return rows


def _blocks(parent: object) -> Iterator[object]:
    """Paragraphs and tables in document order, including those inside content controls (<w:sdt>)."""
    for child in parent.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag in ("p", "tbl"):
            yield child
        elif tag in ("sdt", "sdtContent", "customXml"):
            yield from _blocks(child)


def _body(document: Document) -> list[tuple[str, list[Row]]]:
    """(plain text, rows) of each paragraph and table in document order."""
    out = []
    t_idx = p_idx = 0
    for child in _blocks(document.element.body):
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p_idx += 1
            text = _text(Paragraph(child, document).text)
            if text:
                out.append((text, [Row(cells=[text], where=f"paragraph {p_idx}")]))
        elif tag == "tbl":
            t_idx += 1
            rows = _table_rows(Table(child, document), t_idx)
            out.append(("\n".join(" | ".join(r.cells) for r in rows), rows))
    return out


def _title(document: Document, paragraphs: list[str]) -> str | None:
    """The printed title: the opening paragraphs up to the one that says 报告 (an issuer line may precede it);
    else the document's title property when it is specific."""
    for i, text in enumerate(paragraphs[:4]):
        if "报告" in text:
            return "".join(paragraphs[: i + 1]) if i < 2 else text
    title = _text(document.core_properties.title or "")
    return title if title and not _GENERIC_TITLE.match(title.replace(" ", "")) else None


def read_docx(data: bytes) -> tuple[str, str | None, list[Row]]:
    """(plain text for metadata, title, rows)."""
    check_zip(data)  # member table and DTDs judged before python-docx inflates anything
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - opening only parses the package: any error is a malformed file
        # (zlib, zipfile, lxml and python-docx each raise their own kinds on broken packages; fuzzing finds them)
        raise RejectedInput(f"unreadable .docx ({e.__class__.__name__})") from e
    try:
        parts = _body(document)
        paragraphs = [
            text for text, rows in parts if len(rows) == 1 and rows[0].where.startswith("paragraph")
        ]
        title = _title(document, paragraphs)
    except (ValueError, AttributeError, KeyError, IndexError, TypeError, InvalidXmlError) as e:
        # python-docx reads attributes lazily: a malformed grid span or merge raises only here (fuzzing)
        raise RejectedInput(f"malformed .docx content ({e.__class__.__name__})") from e
    text = "\n".join(t for t, _ in parts if t)
    return text, title, [r for _, rows in parts for r in rows]


def read_doc(data: bytes) -> tuple[str, str | None, list[Row]]:
    """Legacy Word/WPS binary: converted to .docx by LibreOffice (soffice) when it is installed. A .doc/.wps
    name on a .docx package or on a web page saved by Word is read as what it is."""
    if data.startswith(b"PK\x03\x04"):
        return read_docx(data)
    if _HTML.search(data[:4096]):
        return read_html(decode_bytes(data, "html"))
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RejectedInput("needs LibreOffice to read .doc/.wps")
    with tempfile.TemporaryDirectory(prefix="etl-doc-") as tmp:
        src = Path(tmp) / "report.doc"
        src.write_bytes(data)
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{tmp}/profile",  # a private profile: parallel runs don't collide
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            tmp,
            str(src),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=_CONVERT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as e:
            raise RejectedInput("LibreOffice timed out converting .doc/.wps") from e
        out = src.with_suffix(".docx")
        if not out.exists():
            raise RejectedInput("LibreOffice could not convert the .doc/.wps file")
        return read_docx(out.read_bytes())
