"""`make bench` end to end on a tiny N: every stage runs, the report is written, the last line is the JSON the
issue asks for. (The numbers themselves are measured by `make bench`, never asserted by a test.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PROJECT

KEYS = {
    "n_reports",
    "parse_text_html_floor_ratio",
    "pdf_reports_per_s_per_core",
    "validate_s",
    "validate_vs_pandas_ratio",
    "load_s",
    "mart_query_s",
    "peak_rss_mb",
    "airflow_overhead_ratio",
}


def test_bench_runs_every_stage_and_reports(tmp_path):
    env = os.environ | {"ETL_BENCH_DIR": str(tmp_path / "bench"), "ETL_BENCH_DOC": str(tmp_path / "bench.md")}
    args = [
        "--n",
        "40",
        "--scale-n",
        "3000",
        "--mart-n",
        "4000",
        "--skip-airflow",
        "--workers",
        "2",
        "--ocr-n",
        "1",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "etl.bench", *args], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS
    assert result["n_reports"] == 40 and result["scale_reports"] == 3000
    assert result["parse_text_html_floor_ratio"] > 1  # parsing costs more than decoding plus one regex
    assert result["valid_quarantined"] == 0
    assert result["incremental_rerun_warehouse_identical"] is True  # the unchanged second run wrote nothing
    assert 0 < result["incremental_rerun_ratio"] < 1
    # metadata per field on the generated corpus (heading classes among it): every field right, no unit
    # filed under its parent, no issuer-year with two different tables
    assert (
        result["metadata_wrong"],
        result["units_filed_under_parent"],
        result["issuer_year_conflicts"],
    ) == (0, 0, 0)
    assert "issuer 40/40" in result["metadata_fields_right"]
    if result["ocr_cells_exact_pct"] is not None:  # None without a CJK font to render generated PDFs
        assert result["ocr_cells_wrong_unflagged"] == 0
    doc = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "make bench N=40" in doc
    for stage in ("extract", "parse", "transform", "validate", "load", "marts"):
        assert f"| {stage} |" in doc
