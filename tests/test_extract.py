"""Extract: content hashes, format detection, encodings."""

from __future__ import annotations

import pytest

from etl.extract import decode_bytes, detect_format, scan_landing

TEXT = "本报告所列数据的统计期限为2021年1月1日至2021年12月31日。"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("gbk"),
        TEXT.encode("gb18030"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030"],
)
def test_decode(data):
    assert decode_bytes(data) == TEXT


def test_declared_charset_html():
    html = f'<html><head><meta charset="gb2312"></head><body>{TEXT}</body></html>'
    assert TEXT in decode_bytes(html.encode("gbk"), "html")


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("a.pdf", b"%PDF-1.7", "pdf"),
        ("a.txt", b"<!DOCTYPE html><html>", "html"),
        ("a.html", b"<html><body>", "html"),
        ("a.txt", "统计期限".encode(), "text"),
        ("a.md", b"# title", "markdown"),
        ("a.docx", b"PK\x03\x04", "docx"),
        ("a.doc", b"\xd0\xcf\x11\xe0", "doc"),
        ("a.bin", b"\x00\x01\x02", "unknown"),
        ("noext", "政府信息公开".encode(), "text"),
    ],
)
def test_detect_format(tmp_path, name, head, fmt):
    assert detect_format(tmp_path / name, head) == fmt


def test_scan_landing_hashes_and_skips_labels(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "a.expected.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".hidden").write_text("x", encoding="utf-8")
    files = scan_landing(tmp_path)
    assert [f.path for f in files] == ["a.txt", "sub/b.txt"]
    assert files[0].sha256 == files[1].sha256 and len(files[0].sha256) == 64
