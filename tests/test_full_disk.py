"""A real full disk (issue 13): the workdir on a small tmpfs, filled to a few free bytes, so the run meets
ENOSPC wherever it first writes (stat cache, run folder, parse cache, staging, DuckDB's WAL or checkpoint).
The warehouse must stay as it was and readable, and the run after space returns must converge.

Mounting needs root (CI runs as root); elsewhere the test skips, and tests/test_faults.py injects ENOSPC."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from etl import pipeline
from etl.warehouse import Target, connect
from tests.conftest import SEED
from tests.test_warehouse import checksums, in_ci

SAMPLE = Path(__file__).resolve().parent.parent / "sample" / "landing" / "generated"


@pytest.fixture
def tmpfs(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        if in_ci() and os.geteuid() == 0:
            pytest.fail(f"CI runs as root: mounting a tmpfs must work: {proc.stderr}")
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(mount: Path, leave_bytes: int) -> Path:
    """Fill the filesystem until `leave_bytes` are free (a real file, as a runaway log would)."""
    filler = mount / f"filler-{uuid.uuid4().hex}"
    st = os.statvfs(mount)
    free = st.f_bavail * st.f_frsize
    with filler.open("wb") as f:
        remaining = max(free - leave_bytes, 0)
        chunk = b"\0" * (1 << 20)
        while remaining > 0:
            n = min(len(chunk), remaining)
            try:
                f.write(chunk[:n])
                f.flush()
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
            remaining -= n
    return filler


def _landing(root: Path) -> Path:
    landing = root / "landing"
    landing.mkdir()
    shutil.copy(SEED, landing / "suichang-2021.txt")
    for p in sorted(SAMPLE.rglob("*.txt"))[:15]:
        shutil.copy(p, landing / p.name)
    return landing


@pytest.mark.parametrize("free_kb", [0, 64, 512, 4096, 5632, 6144, 7168])
def test_a_full_disk_fails_the_run_and_leaves_the_warehouse_as_it_was(tmpfs, tmp_path, free_kb, monkeypatch):
    monkeypatch.delenv("ETL_WAREHOUSE_URL", raising=False)
    landing = _landing(tmp_path)
    work = tmpfs / "work"
    pipeline.run(landing=str(landing), workdir=str(work), run_id="good")
    db = Target(duckdb_path=work / "warehouse.duckdb")
    before = checksums(db)
    # new files, so the run has a delta to parse, stage, validate and publish
    for p in sorted(SAMPLE.rglob("*.txt"))[15:30]:
        shutil.copy(p, landing / p.name)
    filler = _fill(tmpfs, free_kb * 1024)
    with pytest.raises(Exception) as failed:  # OSError, or DuckDB naming the OS error (a failed WAL write)
        pipeline.run(landing=str(landing), workdir=str(work), run_id="disk-full")
    assert _is_disk_full(failed.value), repr(failed.value)
    filler.unlink()
    with connect(db, read_only=True) as wh:  # readable whatever the disk did
        published = wh.fetchone("SELECT count(*) FROM run_log WHERE run_id = 'disk-full'")[0]
    if published:  # it failed after its commit: only the marts or the dashboard can be what is missing
        assert any(entry.name == "build_marts" for entry in failed.traceback), failed.traceback
    else:
        assert checksums(db) == before  # nothing of the failed run published
    pipeline.run(landing=str(landing), workdir=str(work), run_id="after")  # space again: it converges
    scratch = tmp_path / "scratch"
    pipeline.run(landing=str(landing), workdir=str(scratch), run_id="scratch")
    assert checksums(db) == checksums(Target(duckdb_path=scratch / "warehouse.duckdb"))


def _is_disk_full(e: BaseException) -> bool:
    """ENOSPC as Python raises it, or as DuckDB reports it (an IOException naming the OS error)."""
    while e is not None:
        if getattr(e, "errno", None) == errno.ENOSPC or "No space left" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False
