"""Every labelled real report in ../shared/corpus/real: cells and metadata as the label says."""

from __future__ import annotations

import pytest

from etl.model import RejectedInput
from etl.parse import parse_file
from tests.conftest import labelled_reports, load_label

REPORTS = labelled_reports()


def _scored(label: dict) -> dict:
    skip = set(label.get("uncertain_cells", []))
    unresolvable = set(label.get("unresolvable_cells", []))
    return {c: (None if c in unresolvable else v) for c, v in label["cells"].items() if c not in skip}


@pytest.mark.parametrize("report", REPORTS, ids=[p.name for p in REPORTS])
def test_labelled_report(report):
    label = load_label(report)
    try:
        rep = parse_file(report)
    except RejectedInput as e:
        pytest.fail(f"rejected: {e}")
    assert rep.template == label["format"]
    wrong = {c: (rep.cells.get(c), v) for c, v in _scored(label).items() if rep.cells.get(c) != v}
    assert wrong == {}, f"{len(wrong)} cells differ (got, expected)"
    if "blank_cells" in label:
        assert sorted(rep.blank_cells) == sorted(label["blank_cells"])
    for code, unit in label.get("units", {}).items():
        assert rep.units.get(code) == unit
    m = rep.meta
    assert (m.year, m.adcode, m.city, m.province) == (
        label["year"],
        label["adcode"],
        label["city"],
        label["province"],
    )
    assert m.issuer == label["issuer"]
    if "scope" in label:
        assert m.scope == label["scope"]


def test_legacy_report_rejected(shared_corpus):
    legacy = shared_corpus.parent / "legacy"
    for path in legacy.iterdir():
        with pytest.raises(RejectedInput, match=r"legacy format \(pre-2019\)"):
            parse_file(path)
