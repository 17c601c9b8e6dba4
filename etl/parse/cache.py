"""The parse cache: one parse result per (file content, format, parser version), content-addressed.

<store>/parse/<parser version>/<key[:2]>/<key>.json   {"report": …} or {"rejected": reason}, and parse_ms

A file is parsed once per parser version: a run looks its key up first and parses only the misses. The key
holds the content hash and the format the extract stage detected (a suffix can change the format of the same
bytes), so a file copied or renamed elsewhere in the landing area is a hit. Bumping PARSER_VERSION starts an
empty folder: every file is parsed again, and the old folder can be deleted at leisure.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from etl import config, storage


def cache_key(sha256: str, file_format: str) -> str:
    return f"{sha256}.{file_format}"


class ParseCache:
    """`store`: a local folder, or a URL under the storage root (etl.storage) that every worker reaches."""

    def __init__(self, store: str | os.PathLike, parser_version: str | None = None) -> None:
        version = parser_version or config.PARSER_VERSION
        local = storage.local_dir(store)
        # local: plain file calls (150,000 lookups a national run); remote: etl.storage
        self.root: Path | str = (
            local / "parse" / version if local is not None else storage.join(store, "parse", version)
        )

    def path(self, key: str) -> Path | str:
        if isinstance(self.root, Path):
            return self.root / key[:2] / f"{key}.json"
        return f"{self.root}/{key[:2]}/{key}.json"

    def has(self, key: str) -> bool:
        path = self.path(key)
        return path.is_file() if isinstance(path, Path) else storage.exists(path)

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8") if isinstance(path, Path) else storage.read_text(path)
            return json.loads(text)
        except FileNotFoundError:
            return None
        except ValueError:  # a torn write from a killed worker: a miss, parsed again
            return None

    def put(self, key: str, record: dict) -> None:
        path = self.path(key)
        text = json.dumps(record, ensure_ascii=False)
        if not isinstance(path, Path):  # an object store's PUT is whole or nothing
            storage.write_text(path, text)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # one writer per key at a time is not guaranteed (two batches may hold copies of one file): write a
        # private temp file and rename it, so a reader sees a whole record or none
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
