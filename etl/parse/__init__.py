"""Parse: one report file -> ParsedReport (cells by spec code, metadata, provenance), or RejectedInput.

Each format has a reader that produces text (for metadata) and rows (for tables); everything after that is
shared, so a fix to table reading helps every format at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from etl.extract import decode_bytes, detect_format
from etl.model import NeedsOcr, ParsedReport, RejectedInput
from etl.parse.caps import check_bytes
from etl.parse.glued import looks_glued, read_glued
from etl.parse.metadata import extract_metadata
from etl.parse.narrative import stated_figures
from etl.parse.rows import Row, normalize, text_rows
from etl.parse.tables import read_tables

if TYPE_CHECKING:
    from etl.parse.scan import ScanRead

__all__ = ["document_text", "parse_bytes", "parse_file"]

_TEXT_FORMATS = ("text", "markdown", "html")


def _read(data: bytes, file_format: str) -> tuple[str, str | None, list[Row]]:
    if file_format in _TEXT_FORMATS:
        source = decode_bytes(data, file_format)
        if file_format == "html":
            from etl.parse.html import read_html

            return read_html(source)
        text = normalize(source)
        return text, None, text_rows(text)
    if file_format == "pdf":
        from etl.parse.pdf import read_pdf

        return read_pdf(data)
    if file_format == "docx":
        from etl.parse.docx import read_docx

        return read_docx(data)
    if file_format == "doc":
        from etl.parse.docx import read_doc

        return read_doc(data)
    raise RejectedInput(f"unsupported format: {file_format}")


def _check_is_report(text: str) -> None:
    if "政府信息公开" not in text:
        raise RejectedInput("not a government information-disclosure annual report")
    if "政府信息公开情况统计表" in text and "本年新收" not in text:
        raise RejectedInput("legacy format (pre-2019)")


def _read_any(data: bytes, file_format: str) -> tuple[str, str | None, list[Row], ScanRead | None]:
    """The format's reader; scans (image files, PDFs without a usable text layer) through OCR."""
    if file_format != "image":
        try:
            return (*_read(data, file_format), None)
        except NeedsOcr:
            pass
    from etl.parse.scan import read_scan

    return read_scan(data, file_format)


def parse_bytes(
    data: bytes, name: str = "", file_format: str | None = None, hints: dict | None = None
) -> ParsedReport:
    """One report's bytes -> ParsedReport. `hints`: the fetch manifest's issuer/adcode/year for the file
    (etl.extract.fetch_hints), evidence for its metadata that the report's own text overrules."""
    file_format = file_format or detect_format(Path(name), data[:8192])
    if not data.strip():
        raise RejectedInput("empty file")
    check_bytes(data, file_format)  # size caps before decoding (issue 13)
    text, title, rows, scan = _read_any(data, file_format)
    _check_is_report(text)
    meta = extract_metadata(text, title, hints)
    if looks_glued(text):  # a crawler dump: cell boundaries lost, digits of adjacent cells glued
        tables = read_glued(text, year=meta.year)
    else:
        try:
            tables = read_tables(rows, year=meta.year)
        except RejectedInput:  # no 表三 rows: try the text as a glued dump (raises if none there either)
            tables = read_glued(text, year=meta.year)
    ocr: dict = {}
    if scan is not None:
        from etl.parse import ocr_cells
        from etl.parse.ocr import ENGINE

        judged = ocr_cells.judge(tables, ocr_cells.place(tables, scan))
        ocr = {
            "engine": ENGINE,
            "dpi": scan.dpi,
            "pages": scan.pages,
            "skew": scan.skew,
            "skipped_pages": scan.skipped,
            **judged,
        }
    return ParsedReport(
        template=tables.template,
        file_format=file_format,
        meta=meta,
        cells=tables.cells,
        blank_cells=tables.blank_cells,
        unresolved=tables.unresolved,
        units=tables.units,
        provenance=tables.provenance,
        notes=tables.notes,
        narrative=stated_figures(text),
        ocr=ocr,
    )


def document_text(path: Path) -> tuple[str, str | None]:
    """The text and document title a report's reader produces: what metadata extraction reads (and what the
    line numbers of its evidence count)."""
    data = path.read_bytes()
    file_format = detect_format(path, data[:8192])
    text, title, _, _ = _read_any(data, file_format)
    return text, title


def parse_file(path: Path) -> ParsedReport:
    from etl.extract import fetch_hints

    return parse_bytes(path.read_bytes(), path.name, hints=fetch_hints(path))
