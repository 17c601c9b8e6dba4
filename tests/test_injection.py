"""Issue 13: names and report text are data. Markup and SQL in a landing file's name, its issuer line and its
narrative are stored as text, and no HTML the run writes (dashboard, Data Docs) executes any of it."""

from __future__ import annotations

import re

import duckdb
import pytest

from etl import pipeline
from tests.conftest import SEED
from tests.test_dashboard import _run_chromium

PWN = "document.body.setAttribute('data-pwned','{n}')"
NAME = "<svg onload=" + PWN.format(n=1) + ">'); drop table fact_cell;--.txt"
SCRIPT = "<script>" + PWN.format(n=2) + "</script>'); DROP TABLE dim_report;--"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("injection")
    landing = root / "landing"
    landing.mkdir()
    text = SEED.read_text(encoding="utf-8")
    (landing / NAME).write_text(
        text.replace("遂昌县", "遂昌县" + SCRIPT, 1) + "\n" + SCRIPT, encoding="utf-8"
    )
    # a quarantined copy (another county, a broken total) so the failure pages carry the text too
    broken = text.replace("遂昌", "松阳").replace(
        "(一)予以公开 | 25 | 0 | 0 | 0 | 0 | 0 | 25 |", "(一)予以公开 | 25 | 0 | 0 | 0 | 0 | 0 | 26 |"
    )
    (landing / ("q" + NAME)).write_text(broken + "\n" + SCRIPT, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ETL_WAREHOUSE_URL", raising=False)
        result = pipeline.run(landing=str(landing), workdir=str(root / "work"))
    return root / "work", result


def test_names_and_text_are_stored_as_text(workdir):
    work, result = workdir
    assert NAME in result["loaded"] + list(result["quarantined"])
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        files = [r[0] for r in con.execute("SELECT source_file FROM file_outcome").fetchall()]
        assert NAME in files
        assert con.execute("SELECT count(*) FROM fact_cell").fetchone()[0] > 0  # nothing dropped
        assert con.execute("SELECT count(*) FROM dim_report").fetchone()[0] > 0


def test_no_html_the_run_writes_executes_the_text(workdir, tmp_path):
    work, _ = workdir
    pages = [work / "dashboard.html"]
    docs = sorted((work / "runs").glob("*/data_docs/**/*.html"))
    pages += docs[:6]
    assert len(pages) > 1
    for i, page in enumerate(pages):
        dom = _run_chromium(["--virtual-time-budget=3000", "--dump-dom", page.as_uri()], tmp_path / f"p{i}")
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert not re.search(r"data-pwned=\"", dom.stdout), page
