"""Input caps checked before a reader spends memory on a file (issue 13): what a file declares about itself
(its size, a ZIP package's member table, a PDF's page count) is compared with the limits in etl.config
before anything is decoded, inflated or laid out. Every breach is a RejectedInput naming the cap it hit.

The isolated parse worker (etl.parse.isolation) is the backstop for everything a declaration cannot show
(a page that takes minutes to lay out, memory a reader grows without declaring): it enforces wall time and
address space per file.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from functools import lru_cache

from etl.config import ParseLimits, load_parse_limits
from etl.model import RejectedInput

_MB = 1 << 20
_TEXT_FORMATS = ("text", "markdown", "html")
_XML_HEAD = 4096  # bytes of each XML member read to look for a DTD (Word never writes one)
_RATIO_FLOOR = 1 * _MB  # small members compress well legitimately; the ratio cap applies above this size


@lru_cache(maxsize=1)
def limits() -> ParseLimits:
    """The caps, read once per process (a parse worker lives for a batch)."""
    return load_parse_limits()


def check_file(path: str | os.PathLike) -> int:
    """A landing file must be a regular file under the file-size cap; returns its size. Checked before open:
    opening a FIFO blocks and reading a device never ends."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise RejectedInput(f"unreadable file ({e.strerror})") from e
    if not stat.S_ISREG(st.st_mode):
        raise RejectedInput("not a regular file")
    cap = limits().max_file_mb
    if st.st_size > cap * _MB:
        raise RejectedInput(f"over the file size cap ({st.st_size / _MB:.1f} MB > {cap:g} MB)")
    return st.st_size


def check_bytes(data: bytes, file_format: str) -> None:
    """Per-format size caps before decoding."""
    lim = limits()
    cap = lim.max_text_mb if file_format in _TEXT_FORMATS else lim.max_file_mb
    if len(data) > cap * _MB:
        raise RejectedInput(f"over the {file_format} size cap ({len(data) / _MB:.1f} MB > {cap:g} MB)")


def check_zip(data: bytes) -> None:
    """A ZIP package (DOCX/XLSX) judged by its central directory before any member is inflated: member
    count, each member's and the total uncompressed size, the compression ratio; and no XML member opens
    with a DTD (entity declarations are how XML bombs expand; Office never writes one). zipfile never
    inflates a member past the size its directory declares (a member that lies fails its CRC), so the
    declared sizes bound what a reader can inflate."""
    lim = limits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError) as e:
        # NotImplementedError: a central directory naming a zip version or feature zipfile does not read
        raise RejectedInput(f"unreadable .docx ({e.__class__.__name__})") from e
    with zf:
        infos = zf.infolist()
        if len(infos) > lim.max_zip_members:
            raise RejectedInput(f"zip cap: {len(infos)} members > {lim.max_zip_members}")
        total = 0
        for info in infos:
            size = info.file_size
            total += size
            if size > lim.max_zip_member_mb * _MB:
                raise RejectedInput(
                    f"zip cap: member {info.filename[:80]!r} inflates to {size / _MB:.0f} MB"
                    f" > {lim.max_zip_member_mb:g} MB"
                )
            if size > _RATIO_FLOOR and size > lim.max_zip_ratio * max(info.compress_size, 1):
                raise RejectedInput(
                    f"zip cap: member {info.filename[:80]!r} compression ratio"
                    f" {size / max(info.compress_size, 1):.0f} > {lim.max_zip_ratio:g}"
                )
        if total > lim.max_zip_total_mb * _MB:
            raise RejectedInput(f"zip cap: {total / _MB:.0f} MB uncompressed > {lim.max_zip_total_mb:g} MB")
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels")) and not info.is_dir():
                try:
                    with zf.open(info) as f:
                        head = f.read(_XML_HEAD)
                except (
                    zipfile.BadZipFile,
                    zlib.error,
                    NotImplementedError,
                    OSError,
                    EOFError,
                    ValueError,
                ) as e:
                    raise RejectedInput(f"unreadable .docx member ({e.__class__.__name__})") from e
                except RuntimeError as e:  # an encrypted member
                    raise RejectedInput("encrypted .docx member") from e
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise RejectedInput(
                        f"XML member {info.filename[:80]!r} declares a DTD (entities refused)"
                    )


def check_pdf_pages(n_pages: int) -> None:
    cap = limits().max_pdf_pages
    if n_pages > cap:
        raise RejectedInput(f"PDF cap: {n_pages} pages > {cap}")


def check_pdf_page_objects(n_objects: int, page_no: int) -> None:
    cap = limits().max_pdf_page_objects
    if n_objects > cap:
        raise RejectedInput(f"PDF cap: page {page_no} has {n_objects} objects > {cap}")
