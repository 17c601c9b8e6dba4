"""Issue 13: landing-area hygiene. Every entry of the landing folder is parsed or rejected with a reason;
nothing is read from outside the landing root and nothing disappears from the ledger."""

from __future__ import annotations

import errno
import os

import duckdb
import pytest

from etl import extract, pipeline
from etl.fuzz.hostile import make_landing_specials
from tests.conftest import SEED


def _landing(tmp_path):
    landing = tmp_path / "landing"
    specials = make_landing_specials(landing, tmp_path / "outside")
    (landing / "good.txt").write_bytes(SEED.read_bytes())
    (landing / "sub").mkdir()
    os.symlink(landing / "good.txt", landing / "sub" / "alias.txt")  # inside the root: followed
    odd = {
        b"new\nline.txt": "control character",
        b"-rf.txt": "starts with '-'",
        b"bad-\xff\xfe.txt": "not valid UTF-8",
    }
    for name in odd:
        with open(os.path.join(os.fsencode(landing), name), "wb") as f:
            f.write(SEED.read_bytes() + b"\n" + name)
    return landing, specials


def _reasons(landing) -> tuple[list[str], dict[str, str]]:
    rejected: list = []
    files = extract.scan_landing(landing, rejected)
    return [f.path for f in files], {f.path: reason for f, reason in rejected}


def test_every_hazard_is_rejected_with_its_reason(tmp_path):
    landing, _ = _landing(tmp_path)
    files, rejected = _reasons(landing)
    assert files == ["good.txt", "sub/alias.txt"]
    assert rejected["pipe.txt"] == "not a regular file (FIFO)"
    assert rejected["escape.txt"] == "symlink points outside the landing folder"
    assert rejected["dangling.txt"] == "dangling symlink"
    assert rejected["loop/up"] == "directory loop: already scanned as ."
    assert "control character" in rejected["new\\nline.txt"]
    assert "starts with '-'" in rejected["-rf.txt"]
    assert "not valid UTF-8" in rejected["bad-\\xff\\xfe.txt"]
    assert len(rejected) == 7


def test_unreadable_and_changing_files_are_rejected(tmp_path, monkeypatch):
    (tmp_path / "locked.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "growing.txt").write_bytes(SEED.read_bytes())
    real_open, real_digest = extract._open_file, extract._digest

    def open_file(path):  # root reads any mode bits, so a permission error is injected
        if path.name == "locked.txt":
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path)

    def digest(f):  # a crawler still writing the file while it is hashed
        out = real_digest(f)
        with open(tmp_path / "growing.txt", "ab") as w:
            w.write(b"more")
        return out

    monkeypatch.setattr(extract, "_open_file", open_file)
    monkeypatch.setattr(extract, "_digest", digest)
    files, rejected = _reasons(tmp_path)
    assert files == []
    assert rejected == {
        "growing.txt": "file changed while being read (size or mtime differ after hashing)",
        "locked.txt": "unreadable file (Permission denied)",
    }


@pytest.mark.e2e
def test_a_run_accounts_for_every_landing_entry(tmp_path, monkeypatch):
    monkeypatch.delenv("ETL_WAREHOUSE_URL", raising=False)
    landing, _ = _landing(tmp_path)
    result = pipeline.run(landing=str(landing), workdir=str(tmp_path / "work"))
    assert result["loaded"] == ["good.txt"]
    assert result["duplicates"] == ["sub/alias.txt"]
    assert set(result["rejected"]) == {
        "pipe.txt",
        "escape.txt",
        "dangling.txt",
        "loop/up",
        "new\\nline.txt",
        "-rf.txt",
        "bad-\\xff\\xfe.txt",
    }
    assert result["counts"]["files"] == 9
    with duckdb.connect(str(tmp_path / "work" / "warehouse.duckdb"), read_only=True) as con:
        rows = dict(con.execute("SELECT source_file, status FROM file_outcome").fetchall())
    assert rows["escape.txt"] == "rejected" and len(rows) == 9
    # nothing outside the root was read: its text is in no output
    for path in (tmp_path / "work").rglob("*.jsonl"):
        assert "outside the landing root" not in path.read_text(encoding="utf-8")
