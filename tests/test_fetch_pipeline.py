"""Fetched reports through `python -m etl run`: a report page and its attachment are one report, the
warehouse says which version of a URL it holds, and the run summary and dashboard show the fetch."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from fetch_site import Site, html

from etl.fetch.run import fetch

PROJECT = Path(__file__).resolve().parents[1]
SEED = PROJECT / "sample" / "landing" / "suichang-2021.txt"


def synthetic_pair(n: int) -> list[tuple[str, int, bytes, bytes]]:
    """n generated reports, each rendered as an HTML page and as a PDF: (issuer, year, html, pdf)."""
    from etl.synth.document import build
    from etl.synth.model import Config, iter_reports
    from etl.synth.render import render

    specs = iter_reports(40, Config(seed=5, violation_rate=0, noise_rate=0, formats=("html",)))
    out = []
    for spec in specs:
        if spec.scope == "region":
            continue
        out.append(
            (
                spec.issuer.name,
                spec.year,
                render(build(spec)),
                render(build(replace(spec, file_format="pdf"))),
            )
        )
        if len(out) == n:
            return out
    raise AssertionError("the generator gave too few reports")


@pytest.fixture
def site():
    s = Site().start()
    yield s
    s.stop()


@pytest.mark.e2e
def test_page_and_attachment_are_one_report_and_versions_are_recorded(site, tmp_path, monkeypatch):
    for key, value in {"ETL_FETCH_ALLOW_HOSTS": "127.0.0.1", "ETL_FETCH_DELAY": "0"}.items():
        monkeypatch.setenv(key, value)
    (a_issuer, a_year, a_html, a_pdf), (b_issuer, b_year, _, b_pdf) = synthetic_pair(2)
    # A: the page holds the whole report and links the same report as PDF
    link = b'<p><a href="/files/a.pdf">\xe9\x99\x84\xe4\xbb\xb6</a></p></body>'
    site.routes["/a.html"] = (200, {"Content-Type": "text/html"}, a_html.replace(b"</body>", link, 1))
    site.routes["/files/a.pdf"] = (200, {"Content-Type": "application/pdf"}, a_pdf)
    # B: the page only links its PDF (alone it is no report)
    site.routes["/b.html"] = html(
        f'<h1>{b_issuer}{b_year}年政府信息公开工作年度报告</h1><a href="/files/b.pdf">下载</a>'
    )
    site.routes["/files/b.pdf"] = (200, {"Content-Type": "application/pdf"}, b_pdf)
    # the seed: fetched, then changed on the site
    site.routes["/suichang.txt"] = (200, {"Content-Type": "text/plain", "ETag": '"1"'}, SEED.read_bytes())
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(
        "\n".join(json.dumps({"url": site.url(p)}) for p in ("/a.html", "/b.html", "/suichang.txt")) + "\n"
    )
    landing, work = tmp_path / "landing", tmp_path / "work"
    from etl.fetch.manifest import read_manifest

    first = fetch(read_manifest(manifest), landing, progress=False)
    assert first["totals"]["fetched"] == 5
    changed = SEED.read_bytes() + "\n（本报告已更新。）\n".encode()
    site.routes["/suichang.txt"] = (200, {"Content-Type": "text/plain", "ETag": '"2"'}, changed)
    second = fetch(read_manifest(manifest), landing, progress=False)
    assert (second["totals"]["changed"], second["totals"]["unchanged"]) == (1, 4)

    proc = subprocess.run(
        [sys.executable, "-m", "etl", "run", "--landing", str(landing), "--workdir", str(work)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    state = json.loads((landing / ".fetch" / "state.json").read_text())
    path = {url.rsplit("/", 1)[1]: s["path"] for url, s in state.items()}
    assert sorted(result["loaded"]) == sorted([path["a.html"], path["b.pdf"], path["suichang.txt"]])
    assert sorted(result["duplicates"]) == sorted([path["a.pdf"], path["b.html"]])
    assert not result["rejected"] and not result["quarantined"]

    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT source_file, source_url, fetch_version, fetched_at FROM dim_report"
        ).fetchall()
        ledger = dict(
            con.execute("SELECT source_file, detail FROM file_outcome WHERE status = 'duplicate'").fetchall()
        )
    finally:
        con.close()
    by_file = {r[0]: r[1:] for r in rows}
    assert by_file[path["suichang.txt"]][:2] == (site.url("/suichang.txt"), 2)
    assert by_file[path["a.html"]][:2] == (site.url("/a.html"), 1)
    assert all(r[2] for r in rows)  # fetched_at
    assert "a report page and its attachment" in ledger[path["a.pdf"]]
    assert path["a.html"] in ledger[path["a.pdf"]]
    assert (
        "a report page and its attachment" in ledger[path["b.html"]]
        and path["b.pdf"] in ledger[path["b.html"]]
    )

    summary = subprocess.run(
        [sys.executable, "-m", "etl", "summary", "--workdir", str(work), "--json"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    fetched = json.loads(summary.stdout)["fetch"]
    assert fetched["hosts"]["127.0.0.1"]["changed"] == 1
    text = subprocess.run(
        [sys.executable, "-m", "etl", "summary", "--workdir", str(work)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "last fetch" in text and "127.0.0.1: fetched 0  changed 1  unchanged 4" in text
    dashboard = (work / "dashboard.html").read_text(encoding="utf-8")
    assert 'id="fetch"' in dashboard and "127.0.0.1" in dashboard
