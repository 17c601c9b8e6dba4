"""Extract: scan the landing area, identify every file by content hash, detect format and encoding."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from etl.model import RejectedInput, SourceFile

_SUFFIX_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".shtml": "html",
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".wps": "doc",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
# scans and photos of printed pages (read through OCR): PNG, JPEG, TIFF (both byte orders)
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
_HTML_SNIFF = re.compile(rb"<\s*(!doctype\s+html|html|body|table|div|meta)\b", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
_LABEL_SUFFIX = ".expected.json"  # hand-checked labels that sit beside reports in a corpus folder


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_format(path: Path, head: bytes) -> str:
    """Format from the content first (a .txt that is really HTML is HTML), the suffix second."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and path.suffix.lower() in (".docx", ".zip", ""):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: legacy .doc / .wps
        return "doc"
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    by_suffix = _SUFFIX_FORMATS.get(path.suffix.lower(), "unknown")
    if by_suffix in ("pdf", "docx", "doc", "image"):
        return by_suffix
    if _HTML_SNIFF.search(head[:4096]):
        return "html"
    if by_suffix == "unknown" and _looks_like_text(head):
        return "text"
    return by_suffix


def _looks_like_text(head: bytes) -> bool:
    return bool(head) and b"\x00" not in head[:4096]


def iter_landing(landing: Path) -> Iterator[Path]:
    """Every regular file under the landing folder, in a stable order; hidden files and labels skipped."""
    for p in sorted(landing.rglob("*")):
        rel = p.relative_to(landing)
        if not p.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if p.name.endswith(_LABEL_SUFFIX):
            continue
        yield p


def scan_landing(landing: Path) -> list[SourceFile]:
    out = []
    for p in iter_landing(landing):
        with p.open("rb") as f:
            head = f.read(8192)
        out.append(
            SourceFile(
                path=p.relative_to(landing).as_posix(),
                sha256=sha256_file(p),
                size=p.stat().st_size,
                file_format=detect_format(p, head),
            )
        )
    return out


def decode_bytes(data: bytes, file_format: str = "text") -> str:
    """Decode report bytes: BOM, then a declared HTML charset, then UTF-8, then GB18030, then a detector.

    GB18030 is a superset of GBK/GB2312, so one try covers the usual legacy encodings of Chinese sites.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if file_format == "html":
        m = _META_CHARSET.search(data[:4096])
        if m:
            declared = m.group(1).decode("ascii").lower()
            if declared in ("gb2312", "gbk", "gb18030"):
                declared = "gb18030"
            try:
                return data.decode(declared)
            except (LookupError, UnicodeDecodeError):
                pass  # declarations lie often enough: fall through to detection
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise RejectedInput("undecodable text (not UTF-8, GB18030 or any detected encoding)")
    return str(best)
