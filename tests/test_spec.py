"""The shipped spec copies are the shared spec, and the helpers derive the right shapes from it."""

from __future__ import annotations

import pytest

from etl import spec
from tests.conftest import PROJECT, SHARED


@pytest.mark.parametrize("template", spec.TEMPLATES)
def test_shipped_spec_equals_shared(template):
    shared = SHARED / "spec" / f"cells-{template}.tsv"
    if not shared.exists():
        pytest.skip("no ../shared/spec")
    shipped = PROJECT / "etl" / "spec" / f"cells-{template}.tsv"
    assert shipped.read_bytes() == shared.read_bytes()


def test_shapes():
    assert len(spec.codes("2021")) == 200
    assert len(spec.codes("2019")) == 198
    assert len(spec.t3_outcome_rows("2021")) == 21
    assert len(spec.t3_outcome_rows("2019")) == 19
    assert spec.t3_rows("2021")[0] == "new_received" and spec.t3_rows("2021")[-1] == "carried_forward"
    assert dict(spec.t2_rows("2019"))["procurement"] == ("projects", "amount")
