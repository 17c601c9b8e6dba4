"""The file ledger: what became of every landing file (loaded, quarantined, rejected, duplicate).

Pure functions over small records, so the accounting rule (files = loaded + quarantined + rejected +
duplicates) is decided in one place and tested directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

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
        return asdict(self)


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


def decide(candidates: list[Candidate], pages: dict[str, str] | None = None) -> list[Outcome]:
    """Loaded / quarantined / duplicate for parsed reports; each issuer-year is counted once.

    The kept report is the clean one with the fewest unresolved cells in the richest format; the others of
    the same issuer-year become duplicates that name it. `pages` (attachment file -> its report page's
    file, from the fetch metadata) is evidence that two files are one report whatever their metadata
    says: an attachment and its page compete for one slot (their two issuer-year slots are merged).
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
        keep, *rest = group
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
        "quarantined": {o.source_file: (o.detail or "").split(",") for o in by if o.status == "quarantined"},
        "rejected": {o.source_file: o.detail for o in by if o.status == "rejected"},
        "duplicates": [o.source_file for o in by if o.status == "duplicate"],
        "counts": {"files": len(by), **counts},
    }
