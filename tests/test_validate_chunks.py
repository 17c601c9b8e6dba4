"""Validation in chunks of staging parts gives the same failures as one chunk (memory is bounded by the chunk,
results are not)."""

from __future__ import annotations

import shutil

import pandas as pd

from etl import pipeline
from etl.validate.stage import validate_staging
from tests.conftest import PROJECT


def test_chunked_validation_equals_whole(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    shutil.copytree(PROJECT / "sample" / "landing" / "generated" / "33", landing)
    monkeypatch.setenv("ETL_BATCH_SIZE", "4")  # many small staging parts
    plan = pipeline.extract("chunks", str(landing), str(tmp_path / "work"))
    parsed = [pipeline.parse_batch(b) for b in plan["batches"]]
    pipeline.transform(plan["run_dir"], parsed)
    run = tmp_path / "work" / "runs" / "chunks"

    def failures(chunk: int) -> pd.DataFrame:
        validate_staging(run, None, chunk_reports=chunk)
        df = pd.read_parquet(run / "validation" / "failures.parquet")
        return df.sort_values(["report_id", "rule_id"]).reset_index(drop=True)

    whole = failures(10**6)
    assert not whole.empty  # the sample carries labelled violations
    pd.testing.assert_frame_equal(failures(3), whole)
