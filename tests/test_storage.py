"""etl.storage: one root for shared files; plain paths, file:// URLs, and a remote filesystem.

fsspec's in-memory filesystem (memory://) stands in for an object store such as s3://: it is not the local
filesystem, so every remote code path (downloads and uploads in local_path, PUT instead of rename) runs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import fsspec
import pytest

from etl import storage


@pytest.fixture
def memory_root():
    root = f"memory://etl-test-{uuid.uuid4().hex[:8]}"
    yield root
    fs = fsspec.filesystem("memory")
    path = fsspec.core.url_to_fs(root)[1]
    if fs.exists(path):
        fs.rm(path, recursive=True)


def test_default_root_is_the_workdir(monkeypatch, tmp_path):
    monkeypatch.delenv("ETL_STORAGE_ROOT", raising=False)
    monkeypatch.setenv("ETL_WORKDIR", str(tmp_path / "work"))
    assert storage.root() == str((tmp_path / "work").resolve())
    assert storage.resolve("runs/r1/manifest.json") == str(
        (tmp_path / "work" / "runs" / "r1" / "manifest.json").resolve()
    )


def test_configured_root_wins_over_the_workdir(monkeypatch, tmp_path):
    monkeypatch.setenv("ETL_WORKDIR", str(tmp_path / "work"))
    monkeypatch.setenv("ETL_STORAGE_ROOT", "s3://bucket/etl/")
    assert storage.root() == "s3://bucket/etl/"
    assert (
        storage.resolve("runs/r1/parsed/batch-0000.jsonl")
        == "s3://bucket/etl/runs/r1/parsed/batch-0000.jsonl"
    )
    # absolute paths and URLs are used as they are
    assert storage.resolve("/data/landing/a.pdf") == "/data/landing/a.pdf"
    assert storage.resolve("file:///data/x") == "file:///data/x"


def test_a_relative_path_cannot_leave_the_root(tmp_path):
    with pytest.raises(ValueError, match="leave the root"):
        storage.resolve("runs/../../etc/passwd", base=str(tmp_path))
    assert storage.resolve("runs/a..b", base=str(tmp_path)) == str(tmp_path / "runs" / "a..b")


def test_plain_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("ETL_STORAGE_ROOT", str(tmp_path))
    written = storage.write_text("runs/r1/manifest.json", '{"a": "数据"}')
    assert written == str(tmp_path / "runs" / "r1" / "manifest.json")
    assert (tmp_path / "runs" / "r1" / "manifest.json").read_text(encoding="utf-8") == '{"a": "数据"}'
    assert storage.read_text("runs/r1/manifest.json") == '{"a": "数据"}'
    assert storage.exists("runs/r1/manifest.json") and not storage.exists("runs/r1/nothing.json")
    assert storage.is_local("runs/r1/manifest.json")

    storage.write_bytes("runs/r1/parsed/batch-0001.jsonl", b"2\n")
    storage.write_bytes("runs/r1/parsed/batch-0000.jsonl", b"1\n")
    storage.write_bytes("runs/r1/parsed/other.txt", b"x")
    found = storage.glob("runs/r1/parsed/batch-*.jsonl")
    assert found == [
        str(tmp_path / "runs/r1/parsed/batch-0000.jsonl"),
        str(tmp_path / "runs/r1/parsed/batch-0001.jsonl"),
    ]
    with storage.open("runs/r1/parsed/batch-0000.jsonl", "rb") as f:
        assert f.read() == b"1\n"
    with storage.open("runs/r2/new/out.txt", "w") as f:  # parents are made
        f.write("w")
    assert (tmp_path / "runs/r2/new/out.txt").read_text() == "w"

    storage.remove("runs/r1/parsed/other.txt")
    storage.remove("runs/r1/parsed/other.txt")  # gone already: no error
    assert not (tmp_path / "runs/r1/parsed/other.txt").exists()
    storage.remove("runs/r1/parsed", recursive=True)
    assert not (tmp_path / "runs/r1/parsed").exists()


def test_write_replaces_atomically_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a" / "summary.json"
    storage.write_text(str(target), "old")
    storage.write_text(str(target), "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["summary.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    storage.write_text(str(target), "old")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        storage.write_text(str(target), "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_file_urls(tmp_path):
    base = tmp_path.as_uri()  # file:///…
    storage.write_text("runs/r1/a.json", "A", base=base)
    storage.write_text("runs/r1/b.json", "B", base=base)
    assert (tmp_path / "runs/r1/a.json").read_text() == "A"
    assert storage.is_local("runs/r1/a.json", base=base)
    found = storage.glob("runs/r1/*.json", base=base)
    assert found == [f"{base}/runs/r1/a.json", f"{base}/runs/r1/b.json"]
    assert [storage.read_text(u) for u in found] == ["A", "B"]  # what glob names, the other calls read
    with storage.local_path("runs/r1/a.json", base=base) as p:
        assert p == tmp_path / "runs/r1/a.json"  # local storage: the file itself, nothing copied


def test_local_path_of_local_storage_is_the_path_itself(tmp_path):
    with storage.local_path("out/warehouse.duckdb", "w", base=str(tmp_path)) as p:
        assert p == tmp_path / "out" / "warehouse.duckdb"
        assert p.parent.is_dir()
        p.write_bytes(b"db")
    assert (tmp_path / "out" / "warehouse.duckdb").read_bytes() == b"db"


def test_remote_storage_round_trip(memory_root):
    assert not storage.is_local("x", base=memory_root)
    storage.write_text("runs/r1/parsed/batch-0000.jsonl", "one\n", base=memory_root)
    storage.write_text("runs/r1/parsed/batch-0001.jsonl", "two\n", base=memory_root)
    assert storage.exists("runs/r1/parsed/batch-0000.jsonl", base=memory_root)
    found = storage.glob("runs/r1/parsed/batch-*.jsonl", base=memory_root)
    assert len(found) == 2 and all(u.startswith("memory://") for u in found)
    assert [storage.read_text(u) for u in found] == ["one\n", "two\n"]
    with storage.open("runs/r1/parsed/batch-0000.jsonl", "rt", base=memory_root) as f:
        assert f.read() == "one\n"
    storage.remove("runs/r1/parsed", base=memory_root, recursive=True)
    assert storage.glob("runs/r1/parsed/*", base=memory_root) == []


def test_remote_local_path_downloads_and_uploads(memory_root):
    storage.write_bytes("runs/r1/staging/cells/year=2021/part-0.parquet", b"P21", base=memory_root)
    storage.write_bytes("runs/r1/staging/cells/year=2022/part-0.parquet", b"P22", base=memory_root)
    # a folder, read: downloaded whole, partition folders kept
    with storage.local_path("runs/r1/staging/cells", "r", base=memory_root) as p:
        assert sorted(str(f.relative_to(p)) for f in p.rglob("*.parquet")) == [
            "year=2021/part-0.parquet",
            "year=2022/part-0.parquet",
        ]
        assert (p / "year=2021" / "part-0.parquet").read_bytes() == b"P21"
        downloaded = p
    assert not downloaded.exists()  # the temporary copy is removed

    # a file, written: uploaded on exit
    with storage.local_path("dashboard.html", "w", base=memory_root) as p:
        assert not p.exists()
        p.write_text("<html>看板</html>", encoding="utf-8")
    assert storage.read_text("dashboard.html", base=memory_root) == "<html>看板</html>"

    # a folder, written: replaces the old one
    with storage.local_path("runs/r1/staging/cells", "w", base=memory_root) as p:
        (p / "year=2023").mkdir(parents=True)
        (p / "year=2023" / "part-0.parquet").write_bytes(b"P23")
    found = storage.glob("runs/r1/staging/cells/*/*.parquet", base=memory_root)
    assert [u.split("/cells/")[1] for u in found] == ["year=2023/part-0.parquet"]


def test_remote_write_is_not_uploaded_when_the_block_fails(memory_root):
    storage.write_text("report.json", "old", base=memory_root)
    with pytest.raises(RuntimeError), storage.local_path("report.json", "w", base=memory_root) as p:
        Path(p).write_text("half")
        raise RuntimeError("the tool crashed")
    assert storage.read_text("report.json", base=memory_root) == "old"


def test_local_path_mode_is_checked(tmp_path):
    with pytest.raises(ValueError, match="mode"), storage.local_path("x", "a", base=str(tmp_path)):
        pass
