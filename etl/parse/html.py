"""HTML reports: table rows cell by cell (colspan/rowspan need no grid: values keep their reading order),
and the page text for metadata."""

from __future__ import annotations

import re
from functools import lru_cache

import lxml.etree

from etl.parse.rows import Row, collapse_ws, normalize

_XML_INCOMPATIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DIGITS_SPLIT = re.compile(r"^[\d\s.,-]+$")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section")
_ROW_PARTS = ("thead", "tbody", "tfoot")
_text_of = lxml.etree.XPath("string()")  # the element's text, descendants included (like text_content())


def _cell_raw(td) -> str:
    """A cell's text: the direct text of a bare cell, else its text serialisation (cheaper than XPath)."""
    if len(td) == 0:
        return td.text or ""
    return lxml.etree.tostring(td, method="text", encoding=str, with_tail=False)


@lru_cache(maxsize=65536)
def _clean_cell(raw: str) -> str:
    # Word-export markup splits one number over several spans ('2' '0'); joining the text glues them back,
    # but source-code line breaks between spans can leave spaces inside a number.
    text = collapse_ws(normalize(raw))
    if " " in text and _DIGITS_SPLIT.match(text):
        text = text.replace(" ", "")
    return text


def _rows_of(table) -> list:
    """The table's own rows (nested layout tables keep theirs), in document order."""
    out = []
    for child in table:
        if child.tag == "tr":
            out.append(child)
        elif child.tag in _ROW_PARTS:
            out.extend(tr for tr in child if tr.tag == "tr")
    return out


def _drop(el) -> None:
    """Remove an element but keep the text that follows it (lxml.html's drop_tree, for plain elements)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def read_html(source: str) -> tuple[str, str | None, list[Row]]:
    """(plain text of the page, <title>, rows of every table in document order)."""
    # NFKC on the text only, after parsing: portal pages are mostly markup (and entities such as &#65297; are
    # decoded by then), so folding the text costs a fraction of folding the page
    # plain lxml.etree elements: lxml.html's element classes cost a lookup per element touched
    # bytes in a known encoding: str input is refused when the page opens with <?xml … encoding=…?> (XHTML),
    # and the encoding the extractor decided must win over the page's own <meta charset>. A parser per call
    # (0.3 µs): lxml parsers must not be shared between threads.
    # never huge_tree or network access for input (issue 13)
    parser = lxml.etree.HTMLParser(encoding="utf-8", no_network=True, huge_tree=False)
    # control characters (no meaning in report text) would make lxml refuse the text it hands back
    source = _XML_INCOMPATIBLE.sub(" ", source)
    doc = lxml.etree.fromstring(source.encode("utf-8", "replace"), parser)
    if doc is None:
        return "", None, []
    for bad in doc.xpath("//script|//style|//noscript"):
        _drop(bad)
    title_el = doc.find(".//title")
    title = collapse_ws(normalize(_text_of(title_el))) if title_el is not None else None
    rows: list[Row] = []
    for t_idx, table in enumerate(doc.iter("table"), start=1):
        for r_idx, tr in enumerate(_rows_of(table), start=1):
            cells = [_clean_cell(_cell_raw(td)) for td in tr if td.tag in ("td", "th")]
            if any(cells) or len(cells) > 1:  # a row of empty cells is a row of blank values
                rows.append(Row(cells=cells, where=f"table {t_idx} row {r_idx}"))
    # page text with block boundaries kept as line breaks, for metadata and narrative cues
    for el in doc.iter(*_BLOCK_TAGS):
        el.tail = "\n" + (el.tail or "")
    text = "\n".join(line for line in (collapse_ws(x) for x in normalize(_text_of(doc)).splitlines()) if line)
    return text, title, rows
