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
from pathlib import Path

from etl import config


def cache_key(sha256: str, file_format: str) -> str:
    return f"{sha256}.{file_format}"


class ParseCache:
    def __init__(self, store: Path, parser_version: str | None = None) -> None:
        self.root = store / "parse" / (parser_version or config.PARSER_VERSION)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict | None:
        try:
            return json.loads(self.path(key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:  # a torn write from a killed worker: a miss, parsed again
            return None

    def put(self, key: str, record: dict) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # one writer per key at a time is not guaranteed (two batches may hold copies of one file): write a
        # private temp file and rename it, so a reader sees a whole record or none
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
