"""HTML reports: table rows cell by cell (colspan/rowspan need no grid: values keep their reading order),
and the page text for metadata."""

from __future__ import annotations

import re

import lxml.html

from etl.parse.rows import Row, collapse_ws, normalize

_DIGITS_SPLIT = re.compile(r"^[\d\s.,-]+$")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section")


def _cell_text(td) -> str:
    # Word-export markup splits one number over several spans ('2' '0'); text_content() glues them back,
    # but source-code line breaks between spans can leave spaces inside a number.
    text = collapse_ws(td.text_content())
    if _DIGITS_SPLIT.match(text) and " " in text:
        text = text.replace(" ", "")
    return text


def read_html(source: str) -> tuple[str, str | None, list[Row]]:
    """(plain text of the page, <title>, rows of every table in document order)."""
    # NFKC once over the page (markup is unaffected), not once per cell
    doc = lxml.html.fromstring(normalize(source))
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    title_el = doc.find(".//title")
    title = collapse_ws(normalize(title_el.text_content())) if title_el is not None else None
    rows: list[Row] = []
    for t_idx, table in enumerate(doc.iter("table"), start=1):
        # nested layout tables: only rows whose nearest table is this one
        for r_idx, tr in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"), start=1):
            cells = [_cell_text(td) for td in tr.xpath("./td|./th")]
            if any(cells) or len(cells) > 1:  # a row of empty cells is a row of blank values
                rows.append(Row(cells=cells, where=f"table {t_idx} row {r_idx}"))
    # page text with block boundaries kept as line breaks, for metadata and narrative cues
    for el in doc.iter(*_BLOCK_TAGS):
        el.tail = "\n" + (el.tail or "")
    text = "\n".join(
        line for line in (collapse_ws(x) for x in normalize(doc.text_content()).splitlines()) if line
    )
    return text, title, rows
