"""Links in HTML pages: a 政府信息公开年报 column's report links and pagination, a report page's attachments.

Pure functions of (bytes, base URL, headers); what is fetched and when is decided in etl.fetch.run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit

from etl.fetch.client import header_charset

ATTACHMENT_SUFFIXES = frozenset(
    {".pdf", ".doc", ".docx", ".wps", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif", ".bmp"}
)
_PAGE_SUFFIXES = frozenset(
    {"", ".html", ".htm", ".shtml", ".jhtml", ".xhtml", ".jsp", ".php", ".asp", ".aspx"}
)
# a column's link to a report: its text names an annual report
_REPORT_TEXT = re.compile(r"年度报告|年报|工作报告")
# pagination: next/numbered page links (下一页, 2, 3, ..., 尾页); 上一页/首页 lead back to pages already seen
_PAGINATION_TEXT = re.compile(
    r"^\s*(下一?页|下页|后页|尾页|末页|next|›|»|>|>>|\[?\d{1,4}\]?)\s*$", re.IGNORECASE
)
_YEAR = re.compile(r"(20\d\d)\s*年")


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    is_image: bool = False  # an <img> shown in the page, not a link


def decode_html(content: bytes, content_type: str = "") -> str:
    """The page as text: the HTTP charset first (a GBK page often declares only there), then the landing
    scan's own decoding (meta charset, UTF-8, GB18030, detection)."""
    from etl.extract import decode_bytes

    declared = header_charset(content_type)
    if declared:
        try:
            return content.decode("gb18030" if declared in ("gb2312", "gbk") else declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(content, "html")


def links(content: bytes, base: str, content_type: str = "") -> list[Link]:
    """Every <a href> and <img src> of the page, absolute, fragments dropped, in page order, once each."""
    import lxml.html

    text = decode_html(content, content_type)
    try:
        doc = lxml.html.document_fromstring(
            text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8")
        )
    except Exception:  # an empty or broken page has no links, it is not a fetch error
        return []
    base_el = doc.find(".//base[@href]")
    base = urljoin(base, base_el.get("href")) if base_el is not None else base
    out: dict[str, Link] = {}
    for el in doc.iter("a", "img"):
        ref = el.get("href") if el.tag == "a" else el.get("src")
        if not ref or ref.strip().lower().startswith(("javascript:", "mailto:", "#", "data:")):
            continue
        parts = urlsplit(urljoin(base, ref.strip()))
        if parts.scheme not in ("http", "https"):
            continue
        url = urlunsplit(parts._replace(fragment=""))
        label = " ".join((el.text_content() if el.tag == "a" else el.get("alt") or "").split())
        if url not in out:
            out[url] = Link(url, label, el.tag == "img")
    return list(out.values())


def _suffix(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower()


def is_attachment(url: str) -> bool:
    return _suffix(url) in ATTACHMENT_SUFFIXES


def attachments(content: bytes, base: str, content_type: str = "") -> list[str]:
    """A report page's attachments: linked documents and scans (PDF, DOC/DOCX/WPS, images), and images
    shown in the page whose alt text names the report (a scanned report; logos and icons are not)."""
    out = []
    for link in links(content, base, content_type):
        if is_attachment(link.url) and (not link.is_image or _REPORT_TEXT.search(link.text)):
            out.append(link.url)
    return out


def column(content: bytes, base: str, content_type: str = "") -> tuple[list[Link], list[str]]:
    """A listing page's report links (pages or direct attachments whose text names a report) and its
    pagination links (same host only)."""
    host = urlsplit(base).netloc
    reports, pages = [], []
    for link in links(content, base, content_type):
        if link.is_image:
            continue
        same_host = urlsplit(link.url).netloc == host
        if _REPORT_TEXT.search(link.text) and (
            is_attachment(link.url) or _suffix(link.url) in _PAGE_SUFFIXES
        ):
            reports.append(link)
        elif same_host and _PAGINATION_TEXT.match(link.text) and _suffix(link.url) in _PAGE_SUFFIXES:
            pages.append(link.url)
    return reports, pages


def year_hint(text: str) -> int | None:
    """The report year a link's text names (`2021年度…报告`), a hint that travels with the files."""
    m = _YEAR.search(text)
    return int(m.group(1)) if m else None
