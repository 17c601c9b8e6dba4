"""One storage root for the files that workers share: a local folder by default, an fsspec URL on a cluster.

``ETL_STORAGE_ROOT`` (etl/config.py) names the root; unset, it is the workdir. A path handed to these
functions is either absolute, used as it is (a local path, or a URL: ``file://``, ``s3://``, ``gs://``,
``memory://``, any protocol fsspec knows), or relative, taken under the root. On one machine every call is
plain local file I/O; with ``ETL_STORAGE_ROOT=s3://bucket/etl`` the same calls reach the bucket, so a parse
batch written by one Celery worker is read by the transform on another.

    from etl import storage
    storage.write_text("runs/r1/manifest.json", text)        # <root>/runs/r1/manifest.json, atomically
    storage.read_text("runs/r1/manifest.json")
    storage.glob("runs/r1/parsed/batch-*.jsonl")             # sorted, in the form of the pattern
    with storage.local_path("runs/r1/staging", "r") as p:    # DuckDB, pyarrow, GX want a real path:
        read(p)                                              # downloaded first when the root is remote
    with storage.local_path("runs/r1/dashboard.html", "w") as p:
        write(p)                                             # uploaded on a clean exit

``s3://`` needs the ``s3fs`` package (``uv add s3fs``; not a dependency of the one-machine setup) and takes
its credentials from the usual AWS variables or an instance role (docs/deploy.md).
"""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

PathLike = str | os.PathLike


def root() -> str:
    """The configured storage root (ETL_STORAGE_ROOT, else the workdir)."""
    from etl.config import load_settings

    return load_settings().storage_root


def is_url(path: PathLike) -> bool:
    return "://" in str(path)


def resolve(path: PathLike, base: str | None = None) -> str:
    """`path` as an absolute local path or URL: relative paths go under `base` (default: the root).

    A relative path may not climb out of the root ('..'): what a run names is always inside it."""
    text = os.fspath(path)
    if is_url(text) or os.path.isabs(text):
        return text
    parts = PurePosixPath(text.replace(os.sep, "/")).parts
    if ".." in parts:
        raise ValueError(f"a storage path may not leave the root: {text!r}")
    base = base if base is not None else root()
    if is_url(base):
        return base.rstrip("/") + "/" + "/".join(parts)
    return str(Path(base, *parts))


def _fs(path: PathLike, base: str | None) -> tuple[fsspec.AbstractFileSystem, str, str]:
    """(filesystem, its path, the resolved path as given) for one storage path."""
    full = resolve(path, base)
    fs, fs_path = fsspec.core.url_to_fs(full)
    return fs, fs_path, full


def is_local(path: PathLike, base: str | None = None) -> bool:
    """True when the path is on this machine's filesystem (a plain path or a file:// URL)."""
    fs, _, _ = _fs(path, base)
    return isinstance(fs, LocalFileSystem)


def open(path: PathLike, mode: str = "rb", *, base: str | None = None, **kwargs: Any) -> IO:  # noqa: A001
    """An open file (fsspec's); writing creates the parent folders."""
    fs, fs_path, _ = _fs(path, base)
    if any(m in mode for m in "wax"):
        fs.makedirs(fs._parent(fs_path), exist_ok=True)
    return fs.open(fs_path, mode, **kwargs)


def read_bytes(path: PathLike, *, base: str | None = None) -> bytes:
    fs, fs_path, _ = _fs(path, base)
    return fs.cat_file(fs_path)


def read_text(path: PathLike, *, base: str | None = None, encoding: str = "utf-8") -> str:
    return read_bytes(path, base=base).decode(encoding)


def write_bytes(path: PathLike, data: bytes, *, base: str | None = None) -> str:
    """Write a whole file so that a reader sees the old content or the new, never half; returns the path.

    Locally: a temporary file beside it, then a rename. An object store's PUT is already all-or-nothing."""
    fs, fs_path, full = _fs(path, base)
    fs.makedirs(fs._parent(fs_path), exist_ok=True)
    if isinstance(fs, LocalFileSystem):
        tmp = f"{fs_path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            with builtins.open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, fs_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        fs.pipe_file(fs_path, data)
    return full


def write_text(path: PathLike, text: str, *, base: str | None = None, encoding: str = "utf-8") -> str:
    return write_bytes(path, text.encode(encoding), base=base)


def exists(path: PathLike, *, base: str | None = None) -> bool:
    fs, fs_path, _ = _fs(path, base)
    return fs.exists(fs_path)


def remove(path: PathLike, *, base: str | None = None, recursive: bool = False) -> None:
    """Delete a file (or, recursive, a folder); a path that is not there is no error."""
    fs, fs_path, _ = _fs(path, base)
    if fs.exists(fs_path):
        fs.rm(fs_path, recursive=recursive)


def glob(pattern: PathLike, *, base: str | None = None) -> list[str]:
    """Sorted matches, each in the form of the pattern: plain paths for a plain pattern, URLs for a URL."""
    fs, fs_path, full = _fs(pattern, base)
    matches = sorted(fs.glob(fs_path))
    if not is_url(full):
        return matches
    return [fs.unstrip_protocol(m) for m in matches]


@contextmanager
def local_path(path: PathLike, mode: str = "r", *, base: str | None = None) -> Iterator[Path]:
    """A local path for tools that need one (DuckDB, pyarrow datasets, Great Expectations, Chromium).

    Local storage: the path itself, nothing copied. Remote storage: "r" downloads the file or folder into a
    temporary folder first; "w" hands out an empty temporary path and uploads what was written there (file
    or folder) when the block ends without an exception. The temporary copy is removed either way."""
    if mode not in ("r", "w"):
        raise ValueError(f"mode is 'r' or 'w', not {mode!r}")
    fs, fs_path, _ = _fs(path, base)
    if isinstance(fs, LocalFileSystem):
        local = Path(fs_path)
        if mode == "w":
            local.parent.mkdir(parents=True, exist_ok=True)
        yield local
        return
    tmp = Path(tempfile.mkdtemp(prefix="etl-storage-"))
    try:
        local = tmp / PurePosixPath(fs_path).name
        if mode == "r":
            _get(fs, fs_path, local)
        yield local
        if mode == "w" and local.exists():
            _put(fs, local, fs_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _get(fs: fsspec.AbstractFileSystem, fs_path: str, local: Path) -> None:
    """Download a remote file or folder to `local`."""
    if fs.isdir(fs_path):
        fs.get(fs_path.rstrip("/") + "/", str(local), recursive=True)
    else:
        fs.get_file(fs_path, str(local))


def _put(fs: fsspec.AbstractFileSystem, local: Path, fs_path: str) -> None:
    """Upload a local file or folder to `fs_path`; a folder replaces the remote one (what was written is all
    there is)."""
    if local.is_dir():
        if fs.exists(fs_path):
            fs.rm(fs_path, recursive=True)
        fs.put(str(local) + "/", fs_path, recursive=True)
    else:
        fs.makedirs(fs._parent(fs_path), exist_ok=True)
        fs.put_file(str(local), fs_path)


def filesystem(path: PathLike, *, base: str | None = None) -> fsspec.AbstractFileSystem:
    return _fs(path, base)[0]


def upload(local: PathLike, path: PathLike, *, base: str | None = None) -> str:
    """Copy a local file to a storage path (streamed, not read into memory); returns the path."""
    fs, fs_path, full = _fs(path, base)
    fs.makedirs(fs._parent(fs_path), exist_ok=True)
    fs.put_file(os.fspath(local), fs_path)
    return full


def local_dir(path: PathLike, *, base: str | None = None) -> Path | None:
    """The folder on this machine a path names (a plain path or a file:// URL), else None (remote)."""
    fs, fs_path, _ = _fs(path, base)
    return Path(fs_path) if isinstance(fs, LocalFileSystem) else None


def join(folder: PathLike, *parts: str) -> str:
    """`folder`/parts, for a local folder or a URL alike."""
    text = os.fspath(folder)
    if is_url(text):
        return "/".join([text.rstrip("/"), *parts])
    return str(Path(text, *parts))


@contextmanager
def working_copy(
    folder: PathLike, reads: tuple[str, ...] = (), writes: tuple[str, ...] = ()
) -> Iterator[Path]:
    """A run folder as a local folder for one stage, whose tools (DuckDB, pyarrow, GE) want real paths.

    Local storage: the folder itself; nothing is copied and every write lands in place at once. Remote
    storage: a temporary folder of the same name, holding the files and folders named in `reads` (those that
    exist); after the block ends without an exception, the files and folders named in `writes` that the
    stage wrote are uploaded (a folder replaces the remote one), so the next task, on any worker, reads them.
    A stage that fails uploads nothing: its task is retried from the same inputs."""
    local = local_dir(folder)
    if local is not None:
        local.mkdir(parents=True, exist_ok=True)
        yield local
        return
    fs, fs_path, _ = _fs(folder, None)
    tmp = Path(tempfile.mkdtemp(prefix="etl-run-"))
    work = tmp / PurePosixPath(fs_path.rstrip("/")).name  # the run's own name: stages record it
    work.mkdir()
    try:
        for rel in reads:
            src = f"{fs_path.rstrip('/')}/{rel}"
            if not fs.exists(src):
                continue
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            _get(fs, src, dest)
        yield work
        for rel in writes:
            if (work / rel).exists():
                _put(fs, work / rel, f"{fs_path.rstrip('/')}/{rel}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
