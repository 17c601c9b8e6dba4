"""The static dashboard: written by every run's marts step, self-contained, and rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from etl import pipeline
from etl.dashboard import render, write_dashboard
from etl.load import mart_rows
from etl.warehouse import Target
from tests.test_warehouse import build_landing, in_ci

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WINDOW = (1280, 2000)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    if in_ci():
        pytest.fail("CI: no chromium binary on PATH (.ci/run should install it: apt-get install -y chromium)")
    pytest.skip("no chromium binary on PATH: install it with `apt-get install -y chromium` to run this test")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dashboard")
    landing = build_landing(root / "landing")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ETL_WAREHOUSE_URL", raising=False)
        pipeline.run(landing=str(landing), workdir=str(root / "work"))
    return root / "work"


def test_every_run_writes_the_dashboard(workdir):
    page = (workdir / "dashboard.html").read_text(encoding="utf-8")
    for province in ("浙江省", "江苏省", "福建省"):
        assert f'data-province="{province}"' in page
    # self-contained: nothing fetched from anywhere, no scripts
    assert not re.search(r"https?://|<script|<link|<img|src=|@import", page, re.IGNORECASE)


def test_write_dashboard_replaces_the_file(workdir, tmp_path):
    out = write_dashboard(Target(duckdb_path=workdir / "warehouse.duckdb"), tmp_path / "d" / "dash.html")
    assert out.read_text(encoding="utf-8") == (workdir / "dashboard.html").read_text(encoding="utf-8")
    assert not list(out.parent.glob("*.tmp"))


def test_names_are_escaped(workdir):
    row = {**mart_rows(Target(duckdb_path=workdir / "warehouse.duckdb"))[0], "province": "<script>x</script>"}
    page = render([row], [], {})
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def _run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_dashboard_renders_in_headless_chromium(workdir, tmp_path):
    url = (workdir / "dashboard.html").as_uri()
    dom = _run_chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    sections = re.findall(r'<section class="province" id="p-\d+" data-province="([^"]+)"', text)
    assert sections == ["江苏省", "浙江省", "福建省"]
    # 江苏 2021: applications 105 + 40, disclosure rate 116 / 140; 浙江 2021: 59 applications, 41 / 57
    js = text[text.index('data-province="江苏省"') : text.index('data-province="浙江省"')]
    assert ">145<" in js and ">82.9%<" in js and "reconciliation warnings" in js
    zj = text[text.index('data-province="浙江省"') : text.index('data-province="福建省"')]
    assert ">59<" in zj and ">71.9%<" in zj and ">75.0%<" in zj  # 3 of 4 reports pass the blocking rules
    assert text.count("<svg") >= 6

    shot = tmp_path / "dashboard.png"
    png = _run_chromium(
        [f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url], tmp_path / "profile-shot"
    )
    assert png.returncode == 0, png.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == WINDOW
    assert len(data) > 20_000  # a page with text and charts, not a blank canvas
