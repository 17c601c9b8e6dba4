"""Hostile files (issue 13), built on demand, never committed: each is the class of input a hacked or broken
site can serve. Used by the tests and by `python -m etl.fuzz.measure`, which times each one through
`python -m etl parse` (outcome, seconds, peak memory) for docs/reliability.md.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

_MB = 1 << 20
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)
_PARA = "<w:p><w:r><w:t>政府信息公开工作年度报告</w:t></w:r></w:p>".encode()


def _package(document: Callable[[zipfile.ZipFile], None]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        document(zf)
    return buf.getvalue()


def zip_bomb_docx(inflated_mb: int = 3000) -> bytes:
    """A .docx whose word/document.xml inflates to `inflated_mb` (3000: ~3 MB on disk, the issue's file)."""

    def document(zf: zipfile.ZipFile) -> None:
        with zf.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>'.encode())
            f.write(_PARA)
            block = b" " * _MB  # whitespace between elements: valid XML, deflates ~1000:1
            for _ in range(inflated_mb):
                f.write(block)
            f.write(b"</w:body></w:document>")

    return _package(document)


def billion_laughs_docx() -> bytes:
    """XML entity expansion: ten levels of ten references, 10^9 'lol's if a parser expands them."""
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{ents}]><w:document {_W}><w:body>'
        f"<w:p><w:r><w:t>政府信息公开 &lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _package(lambda zf: zf.writestr("word/document.xml", xml))


def billion_laughs_html() -> bytes:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE html [{ents}]><html><body><p>政府信息公开 &lol9;</p></body></html>'
    ).encode()


def many_members_docx(n: int = 5000) -> bytes:
    def document(zf: zipfile.ZipFile) -> None:
        zf.writestr("word/document.xml", f"<w:document {_W}><w:body/></w:document>")
        for i in range(n):
            zf.writestr(f"word/media/x{i}.xml", "")

    return _package(document)


def huge_html(mb: int = 50) -> bytes:
    """A page far over the text cap: a table of a million rows."""
    row = b"<tr><td>\xe6\x94\xbf\xe5\xba\x9c\xe4\xbf\xa1\xe6\x81\xaf\xe5\x85\xac\xe5\xbc\x80</td><td>1</td></tr>"
    return b"<html><body><table>" + row * (mb * _MB // len(row)) + b"</table></body></html>"


def deep_html(depth: int = 200_000) -> bytes:
    """Nesting deeper than any recursive walk survives."""
    return (
        b"<html><body>\xe6\x94\xbf\xe5\xba\x9c\xe4\xbf\xa1\xe6\x81\xaf\xe5\x85\xac\xe5\xbc\x80"
        + (b"<div>" * depth)
        + b"x"
        + b"</div>" * depth
        + b"</body></html>"
    )


def many_pages_pdf(pages: int = 2000) -> bytes:
    """A PDF with more pages than the cap (blank pages: small on disk, each costs a layout)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(pages):
        c.drawString(72, 720, "x")
        c.showPage()
    c.save()
    return buf.getvalue()


def many_objects_pdf(objects: int = 150_000) -> bytes:
    """One page with more drawing objects than the per-page cap."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(objects):
        c.rect(i % 500, (i // 500) % 800, 1, 1)
    c.showPage()
    c.save()
    return buf.getvalue()


def truncated_pdf(good: bytes) -> bytes:
    return good[: len(good) // 3]


def garbage(n: int = 1 << 16, seed: int = 1) -> bytes:
    import random

    return random.Random(seed).randbytes(n)


# name -> (file name, builder); the landing-area cases (FIFO, symlinks, …) are made by make_landing_specials
FILES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "zip bomb (.docx, document.xml inflates to 3 GB)": ("bomb.docx", zip_bomb_docx),
    "billion laughs XML in a .docx": ("laughs.docx", billion_laughs_docx),
    "billion laughs XML as a web page": ("laughs.html", billion_laughs_html),
    "ZIP with 5,000 members": ("members.docx", many_members_docx),
    "huge HTML page (50 MB)": ("huge.html", huge_html),
    "HTML nested 200,000 deep": ("deep.html", deep_html),
    "PDF with 2,000 pages": ("pages.pdf", many_pages_pdf),
    "PDF page with 150,000 objects": ("objects.pdf", many_objects_pdf),
    "random bytes named .pdf": ("garbage.pdf", garbage),
    "random bytes named .docx": ("garbage.docx", garbage),
}


def make_landing_specials(landing: Path, outside: Path) -> dict[str, str]:
    """Landing-area hazards: description -> relative path (or '' for ones with no single path)."""
    landing.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("政府信息公开 outside the landing root", encoding="utf-8")
    made = {}
    os.mkfifo(landing / "pipe.txt")
    made["FIFO"] = "pipe.txt"
    os.symlink(outside / "secret.txt", landing / "escape.txt")
    made["symlink out of the landing root"] = "escape.txt"
    (landing / "loop").mkdir()
    os.symlink("..", landing / "loop" / "up")
    made["directory loop (symlink to a parent)"] = "loop/up"
    os.symlink(landing / "missing.txt", landing / "dangling.txt")
    made["dangling symlink"] = "dangling.txt"
    return made
