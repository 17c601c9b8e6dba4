"""The file ledger: what became of every landing file (loaded, quarantined, rejected, duplicate).

Pure functions over small records, so the accounting rule (files = loaded + quarantined + rejected +
duplicates) is decided in one place and tested directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

# When one issuer-year arrives in several files, prefer the format that keeps cell boundaries best.
_FORMAT_RANK = {"html": 0, "docx": 1, "doc": 1, "pdf": 2, "markdown": 3, "text": 4}


@dataclass
class Outcome:
    source_file: str
    sha256: str
    file_format: str
    status: str  # loaded | quarantined | rejected | duplicate
    detail: str | None = None
    report_id: str | None = None
    year: int | None = None

    def to_dict(self) -> dict:
        return dict(vars(self))  # flat scalars: asdict's deepcopy is ~10x slower over a whole ledger


CONFLICT_RULE = "meta.issuer_year_conflict"  # one issuer-year, two reports whose tables differ


@dataclass(frozen=True)
class Candidate:
    """A parsed report competing for its issuer-year slot."""

    source_file: str
    sha256: str
    file_format: str
    report_id: str
    issuer: str | None
    year: int
    n_unresolved: int
    rule_ids: tuple[str, ...]  # blocking rules it broke; empty = clean
    cells: bytes | None = None  # Candidate.fingerprint of its parsed cells; None: not known (any match)

    @staticmethod
    def fingerprint(cells: dict) -> bytes:
        """The parsed cells (code -> value), compactly: which codes are known, which of them are 0, and a
        4-byte hash of each other value; ~250 bytes a report, so a national run's candidates stay small."""
        return cells_fingerprint(cells)


@cache
def _positions() -> dict[str, int]:
    from etl import spec

    return {c: i for i, c in enumerate(sorted(set(spec.codes("2019")) | set(spec.codes("2021"))))}


def _mask_bytes() -> int:
    return (len(_positions()) + 7) // 8


def cells_fingerprint(cells: dict) -> bytes:
    known = zero = 0
    hashes = []
    for code, i in _positions().items():  # sorted code order
        v = cells.get(code)
        if v is None:
            continue  # not determined by the source (glued digits, OCR): it cannot contradict anything
        known |= 1 << i
        if v == 0:
            zero |= 1 << i
        else:
            hashes.append(hashlib.blake2b(repr(float(v)).encode(), digest_size=4).digest())
    n = _mask_bytes()
    return known.to_bytes(n, "big") + zero.to_bytes(n, "big") + b"".join(hashes)


def _unpack(fp: bytes) -> tuple[int, int, dict[int, bytes]]:
    n = _mask_bytes()
    known, zero = int.from_bytes(fp[:n], "big"), int.from_bytes(fp[n : 2 * n], "big")
    values, k = {}, 2 * n
    for i in range(len(_positions())):
        if known >> i & 1 and not zero >> i & 1:
            values[i] = fp[k : k + 4]
            k += 4
    return known, zero, values


def same_cells(a: bytes | None, b: bytes | None) -> bool:
    """True unless a cell both reports determine has a different value in each: a cell one of them left
    undetermined (None) is no difference, so a glued dump matches the page it was crawled from."""
    if a is None or b is None or a == b:
        return True
    ka, za, va = _unpack(a)
    kb, zb, vb = _unpack(b)
    both = ka & kb
    if (za ^ zb) & both:
        return False
    return all(vb[i] == v for i, v in va.items() if i in vb)


def decide(candidates: list[Candidate], pages: dict[str, str] | None = None) -> list[Outcome]:
    """Loaded / quarantined / duplicate for parsed reports; each issuer-year is counted once.

    The kept report is the clean one with the fewest unresolved cells in the richest format; the others of
    the same issuer-year with the same cells become duplicates that name it. `pages` (attachment file -> its
    report page's file, from the fetch metadata) is evidence that two files are one report whatever their
    metadata says: an attachment and its page compete for one slot (their two issuer-year slots are merged).

    A dedupe never merges reports whose tables differ (etl.outcomes.same_cells): an issuer-year whose
    reports print different cells is a metadata conflict (a township filed under its county, two units
    read as one), not a copy. Each competing report (the best of each set of identical copies) is then
    quarantined with rule meta.issuer_year_conflict naming the others, so nothing is dropped silently and
    nothing of the slot loads until the conflict is resolved.
    """
    pages = pages or {}
    pairs = {frozenset(pair) for pair in pages.items()}
    by_file = {c.source_file: c for c in candidates}

    def slot(c: Candidate) -> tuple:
        return (c.issuer, c.year) if c.issuer else ("report", c.report_id)

    merged: dict[tuple, tuple] = {}  # union-find over slots

    def root(key: tuple) -> tuple:
        while merged.get(key, key) != key:
            key = merged[key]
        return key

    for att, page in pages.items():
        if att in by_file and page in by_file:
            a, p = root(slot(by_file[att])), root(slot(by_file[page]))
            if a != p:
                merged[a] = p
    groups: dict[tuple, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(root(slot(c)), []).append(c)
    out = []
    for group in groups.values():
        if len(group) > 1:
            group.sort(
                key=lambda c: (
                    bool(c.rule_ids),
                    c.n_unresolved,
                    _FORMAT_RANK.get(c.file_format, 9),
                    c.source_file,
                )
            )
        copies: list[list[Candidate]] = []  # sets of the same cells, each led by its best report
        for c in group:
            home = next((s for s in copies if same_cells(s[0].cells, c.cells)), None)
            if home is None:
                copies.append([c])
            else:
                home.append(c)
        leads = [s[0] for s in copies]
        for keep, *rest in copies:
            if len(leads) > 1:
                others = ", ".join(o.source_file for o in leads if o is not keep)
                rules = ",".join((CONFLICT_RULE, *keep.rule_ids))
                what = f"{keep.issuer} {keep.year}" if keep.issuer else "one report"
                out.append(
                    _outcome(
                        keep,
                        "quarantined",
                        f"{rules}; {what} is also read from {others} with different cells",
                    )
                )
            else:
                status = "quarantined" if keep.rule_ids else "loaded"
                out.append(_outcome(keep, status, ",".join(keep.rule_ids) or None))
            for c in rest:
                if frozenset((c.source_file, keep.source_file)) in pairs:
                    why = f"same report as {keep.source_file} (a report page and its attachment)"
                else:
                    why = f"same issuer-year as {keep.source_file}"
                out.append(_outcome(c, "duplicate", why))
    return out


def fetched_pages(files: list[dict]) -> dict[str, str]:
    """Attachment file -> the file of the report page that links it (both fetched, etl.fetch)."""
    by_url = {f["source_url"]: f["path"] for f in files if f.get("source_url")}
    return {f["path"]: by_url[f["page_url"]] for f in files if by_url.get(f.get("page_url") or "")}


def counted_with_partner(outcomes: list[Outcome], pages: dict[str, str]) -> list[Outcome]:
    """A page or attachment that is no report alone (a page that only links its PDF, a scan) while its
    partner is read is the same report counted once: `duplicate` with the reason, not `rejected`."""
    status = {o.source_file: o.status for o in outcomes}
    partners: dict[str, list[str]] = {}
    for att, page in pages.items():
        partners.setdefault(att, []).append(page)
        partners.setdefault(page, []).append(att)
    out = []
    for o in outcomes:
        read = [p for p in partners.get(o.source_file, []) if status.get(p) not in (None, "rejected")]
        if o.status == "rejected" and read:
            o = Outcome(
                o.source_file,
                o.sha256,
                o.file_format,
                "duplicate",
                f"same report as {read[0]} (a report page and its attachment; alone: {o.detail})",
            )
        out.append(o)
    return out


def _outcome(c: Candidate, status: str, detail: str | None) -> Outcome:
    return Outcome(c.source_file, c.sha256, c.file_format, status, detail, c.report_id, c.year)


def summary(outcomes: list[Outcome]) -> dict:
    """The run's public summary: files named relative to the landing folder."""
    by = sorted(outcomes, key=lambda o: o.source_file)
    counts = {s: sum(o.status == s for o in by) for s in ("loaded", "quarantined", "rejected", "duplicate")}
    return {
        "loaded": [o.source_file for o in by if o.status == "loaded"],
        # rule ids only: a conflict's detail goes on after "; " to name the other reports (the ledger keeps it)
        "quarantined": {
            o.source_file: (o.detail or "").split("; ", 1)[0].split(",")
            for o in by
            if o.status == "quarantined"
        },
        "rejected": {o.source_file: o.detail for o in by if o.status == "rejected"},
        "duplicates": [o.source_file for o in by if o.status == "duplicate"],
        "counts": {"files": len(by), **counts},
    }
