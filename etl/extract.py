"""Extract: scan the landing area, identify every file by content hash, detect format and encoding."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
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
_FETCH_SUFFIX = ".fetch.json"  # fetch metadata beside a file fetched from the web (etl.fetch.store)
_FETCH_SUFFIX_B = _FETCH_SUFFIX.encode("ascii")


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return _digest(f)


def _digest(f) -> str:
    h = hashlib.sha256()
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


# -- landing-area hygiene (issue 13) ----------------------------------------------------------------------
# A landing folder holds whatever a site served or a crawler saved. Every entry the scan meets is either a
# file to parse or a rejection with its reason, so nothing in the folder disappears from the ledger.
_KINDS = {stat.S_IFIFO: "FIFO", stat.S_IFCHR: "character device", stat.S_IFBLK: "block device"}
_KINDS[stat.S_IFSOCK] = "socket"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class LandingEntry:
    """One entry of the landing area: a file to read, or a rejection (reason set)."""

    path: Path  # the real path to open (for rejections, where it was met)
    rel: str  # its ledger name: the path under the landing root, printable
    reason: str | None = None
    # what the walk already knows, so a sweep of 150,000 unchanged files costs one stat each: the file's
    # stat, and whether a fetch sidecar lies beside it (None: not known, look)
    st: os.stat_result | None = None
    sidecar: bool | None = None


def _ledger_name(rel_bytes: bytes) -> str:
    """A printable, JSON- and UTF-8-safe name: invalid bytes as \\xNN, control characters escaped."""
    name = rel_bytes.decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), name)


def _name_problem(name: bytes) -> str | None:
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return "file name is not valid UTF-8"
    if _CONTROL.search(text):
        return "file name contains a control character (newline, tab, …)"
    if text.startswith("-"):
        return "file name starts with '-' (would read as an option to a command)"
    return None


def _inside(root: str, target: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def iter_landing_entries(landing: Path) -> Iterator[LandingEntry]:
    """Every entry under the landing root, in a stable order: regular files (symlinks followed only when
    they resolve inside the root) and rejections for everything else. Hidden entries and labels are not
    landing files and are skipped."""
    root = os.path.realpath(landing)
    seen_dirs: dict[tuple[int, int], str] = {}

    def walk(real_dir: str, rel: bytes) -> Iterator[LandingEntry]:
        st = os.stat(real_dir)
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            yield LandingEntry(
                Path(real_dir),
                _ledger_name(rel),
                f"directory loop: already scanned as {seen_dirs[key] or '.'}",
            )
            return
        seen_dirs[key] = _ledger_name(rel)
        try:
            names = sorted(os.listdir(os.fsencode(real_dir)))
        except OSError as e:
            yield LandingEntry(Path(real_dir), _ledger_name(rel), f"unreadable directory ({e.strerror})")
            return
        listed = set(names)
        for name in names:
            if name.startswith(b"."):
                continue
            child_rel = rel + b"/" + name if rel else name
            shown = _ledger_name(child_rel)
            if shown.endswith((_LABEL_SUFFIX, _FETCH_SUFFIX)):
                continue
            path = os.path.join(os.fsencode(real_dir), name)
            try:
                lst = os.lstat(path)
            except OSError as e:
                yield LandingEntry(Path(os.fsdecode(path)), shown, f"unreadable entry ({e.strerror})")
                continue
            sidecar: bool | None = name + _FETCH_SUFFIX_B in listed
            if stat.S_ISLNK(lst.st_mode):
                sidecar = None  # the sidecar is looked up beside the link's target
                target = os.path.realpath(path)
                if not _inside(root, os.fsdecode(target)):
                    yield LandingEntry(
                        Path(os.fsdecode(path)), shown, "symlink points outside the landing folder"
                    )
                    continue
                if not os.path.exists(target):
                    yield LandingEntry(Path(os.fsdecode(path)), shown, "dangling symlink")
                    continue
                path = target
                lst = os.stat(path)
            if stat.S_ISDIR(lst.st_mode):
                yield from walk(os.fsdecode(path), child_rel)
                continue
            problem = _name_problem(name)
            if problem is None and not stat.S_ISREG(lst.st_mode):
                problem = f"not a regular file ({_KINDS.get(stat.S_IFMT(lst.st_mode), 'special file')})"
            yield LandingEntry(Path(os.fsdecode(path)), shown, problem, lst, sidecar)

    yield from walk(root, b"")


def iter_landing(landing: Path) -> Iterator[Path]:
    """Every readable regular file under the landing folder, in a stable order."""
    for entry in iter_landing_entries(landing):
        if entry.reason is None:
            yield entry.path


def _open_file(path: Path):
    # O_NONBLOCK: a file swapped for a FIFO after the scan must not block the open
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)), "rb")


def _read_stable(path: Path) -> tuple[str, int, bytes]:
    """(sha256, size, head) of a file that did not change while it was read: its size and mtime are the
    same before and after hashing, and the path still names the same file."""
    with _open_file(path) as f:
        before = os.fstat(f.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise RejectedInput("not a regular file")
        head = f.read(8192)
        f.seek(0)
        digest = _digest(f)
        after = os.fstat(f.fileno())
    now = os.stat(path)
    same = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
    if not same or (now.st_ino, now.st_size, now.st_mtime_ns) != (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    ):
        raise RejectedInput("file changed while being read (size or mtime differ after hashing)")
    return digest, before.st_size, head


def _stat_key(path: Path, st: os.stat_result | None = None) -> list[int]:
    st = st if st is not None else os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def scan_landing(
    landing: Path,
    rejected: list[tuple[SourceFile, str]] | None = None,
    stat_cache: dict[str, list] | None = None,
) -> list[SourceFile]:
    """The landing files to parse; every entry that cannot be (see iter_landing_entries, _read_stable) is
    appended to `rejected` with its reason, so a run can account for it.

    `stat_cache` (ledger name -> [size, mtime_ns, ctime_ns, inode, sha256, format]) skips reading a file
    whose size, times and inode are those it had when it was last hashed: a sweep over an unchanged landing
    area of 150,000 files stats them instead of reading gigabytes. It is updated in place. (ctime cannot be
    set back by a user, so a rewrite that restores the mtime still shows.)"""
    out = []
    seen: set[str] = set()
    for entry in iter_landing_entries(landing):
        seen.add(entry.rel)
        reason = entry.reason
        digest, size, fmt = "", 0, "unknown"
        if reason is None:
            try:
                known = stat_cache.get(entry.rel) if stat_cache is not None else None
                key = _stat_key(entry.path, entry.st) if stat_cache is not None else None
                if known is not None and known[:4] == key:
                    size, digest, fmt = known[0], known[4], known[5]
                else:
                    digest, size, head = _read_stable(entry.path)
                    fmt = detect_format(Path(entry.rel), head)
                    if stat_cache is not None:
                        stat_cache[entry.rel] = [*_stat_key(entry.path), digest, fmt]
            except RejectedInput as e:
                reason = str(e)
            except OSError as e:
                reason = f"unreadable file ({e.strerror or e})"
        if reason is not None and stat_cache is not None:
            stat_cache.pop(entry.rel, None)
        if reason is None:
            fetched = fetch_metadata(entry.path) if entry.sidecar is not False else {}
            src = SourceFile(path=entry.rel, sha256=digest, size=size, file_format=fmt, **fetched)
            out.append(src)
        elif rejected is not None:
            rejected.append((SourceFile(path=entry.rel, sha256=digest, size=size, file_format=fmt), reason))
    if stat_cache is not None:
        for gone in set(stat_cache) - seen:
            del stat_cache[gone]
    return out


def sidecar_of(path: Path) -> Path:
    """Where a fetched file's metadata lies (etl.fetch.store writes it beside the file)."""
    return path.with_name(path.name + _FETCH_SUFFIX)


def _latest_source(path: Path) -> dict | None:
    side = sidecar_of(path)
    if not side.is_file():
        return None
    import json

    try:
        sources = json.loads(side.read_text(encoding="utf-8")).get("sources") or []
        return max(sources, key=lambda s: s.get("fetched_at") or "") if sources else None
    except (OSError, ValueError, AttributeError, TypeError):
        return None  # a broken sidecar loses the metadata, never the file


def fetch_metadata(path: Path) -> dict:
    """The sidecar of a file fetched from the web: its most recent URL, time, version, page and hints."""
    s = _latest_source(path)
    if s is None:
        return {}
    return {
        "source_url": s.get("url"),
        "fetched_at": s.get("fetched_at"),
        "fetch_version": s.get("version"),
        "page_url": s.get("page_url"),
        "hints": fetch_hints(path, s) or None,
    }


def fetch_hints(path: Path, source: dict | None = None) -> dict:
    """The fetch manifest's issuer / adcode / year hints for a fetched file (evidence for its metadata)."""
    s = source if source is not None else _latest_source(path)
    hints = (s or {}).get("hints")
    if not isinstance(hints, dict):
        return {}
    return {k: hints[k] for k in ("issuer", "adcode", "year") if hints.get(k) not in (None, "")}


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
