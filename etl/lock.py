"""One run per workdir at a time (issue 13): `python -m etl run` holds an flock on <workdir>/.run.lock for
the whole run, so a second run on the same workdir waits (up to ETL_RUN_LOCK_WAIT_S) or refuses with the
holder's pid and run id; it never interleaves with the first. The kernel drops the lock when its process
dies, so a kill -9 never leaves a stale lock behind."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class WorkdirLocked(RuntimeError):  # noqa: N818 - an outcome the CLI reports, not a bug
    """Another run holds the workdir."""


@contextmanager
def workdir_lock(workdir: Path, run_id: str, wait_s: float = 0.0) -> Iterator[Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / ".run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(path)
                    raise WorkdirLocked(
                        f"another run is using the workdir {workdir} ({holder}); waited {wait_s:g} s"
                        " (ETL_RUN_LOCK_WAIT_S). Nothing was done."
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        info = {
            "pid": os.getpid(),
            "run_id": run_id,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.write(fd, json.dumps(info).encode())
        yield path
    finally:
        os.close(fd)  # releases the flock


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return f"pid {info.get('pid')}, run {info.get('run_id')}, since {info.get('since')}"
