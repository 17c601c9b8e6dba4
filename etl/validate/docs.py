"""Great Expectations Data Docs for a run, readable offline.

Built from summarised results: GE's COMPLETE results (which drive quarantine) list every failing report,
150,000 ids at national scale; the docs keep what result_format SUMMARY keeps (counts, percentages and a
sample of 20 failing report ids per expectation), so their cost does not grow with the batch. The static
index lists each failing rule with its severity, count and first report ids.

Offline: GE's pages pull Bootstrap, jQuery, bootstrap-table and Font Awesome from CDNs, and its index page
is an empty table that bootstrap-table fills in with JavaScript. So the remote <link>/<script> tags (and
the inline scripts that need them) are stripped, a small vendored stylesheet replaces Bootstrap, the GE
logo points at the copy GE ships in static/, and index.html is a static page of its own linking GE's
validation and expectation-suite pages.
"""

from __future__ import annotations

import copy
import html
import re
import shutil
from pathlib import Path

import great_expectations as gx
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from etl.validate.failures import failing_ids
from etl.validate.run import SuiteRun

SITE = "run"
OFFLINE_CSS = "static/styles/offline.css"
# What SUMMARY leaves out of COMPLETE: the full unexpected lists (and GE's pandas query naming every row).
_COMPLETE_ONLY = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
SAMPLE = 20
_REMOTE_TAG = re.compile(
    r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>|<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>",
    re.I,
)
_INLINE_SCRIPT = re.compile(r"<script>.*?</script>", re.S | re.I)
_REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"]*/logo-long\.png[^\"]*")

# Enough of Bootstrap's look for GE's markup to read well: layout, tables, cards, badges, alerts.
STYLESHEET = """\
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  margin:0;color:#212529;background:#fff;line-height:1.45;font-size:15px}
a{color:#0b5cad}
nav,.navbar{display:flex;align-items:center;gap:1rem;padding:.4rem 1rem;border-bottom:1px solid #dee2e6}
.container-fluid{padding:1rem 1.5rem}.row{display:flex;flex-wrap:wrap;gap:1rem}
.col-12,.col-md-10,.col-lg-10,.col-xs-12{flex:1 1 0;min-width:0}
.col-md-2,.col-lg-2,.col-sm-12{flex:0 0 16rem;max-width:16rem}
.sticky,.sticky-top{position:static}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #dee2e6;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f5}
.card{border:1px solid #dee2e6;border-radius:.3rem;margin:.75rem 0}
.card-header{background:#f8f9fa;padding:.5rem .75rem;border-bottom:1px solid #dee2e6;font-weight:600}
.card-body{padding:.5rem .75rem}
.alert{padding:.5rem .75rem;border:1px solid #d6d8db;border-radius:.3rem;background:#e2e3e5}
.alert-info{background:#d1ecf1}.alert-danger{background:#f8d7da}.alert-success{background:#d4edda}
.badge{display:inline-block;padding:.1rem .4rem;border-radius:.25rem;background:#e9ecef;font-size:85%}
.text-danger,.failed{color:#b02a37}.text-success,.passed{color:#146c43}
.ok{color:#146c43}.blocking{color:#b02a37;font-weight:600}.warning{color:#8a5a00;font-weight:600}
.d-none,.invisible,.btn,button,.cooltip>span,#ge-cta-footer,footer{display:none}
.fas{font-style:normal;font-weight:700}.fa-check-circle::before{content:"✓ passed"}.fa-times::before{content:"✗ failed"}
img{max-height:48px}
ul.nav{list-style:none;padding:0;display:flex;gap:1rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:90%}
"""


def summarised(result: ExpectationSuiteValidationResult, run_name: str) -> ExpectationSuiteValidationResult:
    """A copy of a COMPLETE result trimmed to what SUMMARY keeps, stamped with the pipeline's run name."""
    out = copy.copy(result)
    out.results = []
    for r in result.results:
        trimmed = copy.copy(r)
        trimmed.result = {k: v for k, v in (r.result or {}).items() if k not in _COMPLETE_ONLY}
        if ids := failing_ids(r.result):
            trimmed.result["partial_unexpected_index_list"] = [{"report_id": ids[:SAMPLE]}]
        out.results.append(trimmed)
    out.meta = dict(result.meta)
    run_time = getattr(result.meta.get("run_id"), "run_time", None)
    out.meta["run_id"] = RunIdentifier(run_name=run_name, run_time=run_time)
    return out


def _fresh(suite: ExpectationSuite) -> ExpectationSuite:
    """The suite as a new object: one already added to a (dropped) context keeps that context's ids."""
    data = suite.to_json_dict()
    data.pop("id", None)
    for e in data["expectations"]:
        e.pop("id", None)
    return ExpectationSuite(**data)


def _slug(batch: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", batch).strip("_") or "batch"


def _offline(page: Path, root: Path) -> None:
    text = page.read_text(encoding="utf-8")
    up = "../" * (len(page.relative_to(root).parts) - 1)
    text = _REMOTE_TAG.sub("", text)
    text = _INLINE_SCRIPT.sub("", text)
    text = _REMOTE_LOGO.sub(f"{up}static/images/logo-long.png", text)
    text = text.replace("</head>", f'<link rel="stylesheet" href="{up}{OFFLINE_CSS}">\n</head>', 1)
    page.write_text(text, encoding="utf-8")


def _index(
    root: Path,
    run_name: str,
    pages: list[tuple[SuiteRun, ExpectationSuiteValidationResult, Path]],
    suite_pages: dict[str, Path],
) -> str:
    esc = html.escape
    rows, failing = [], []
    for run, page in pages:
        result = run.result
        stats = result.statistics
        status = '<span class="ok">passed</span>' if result.success else '<span class="failed">failed</span>'
        rows.append(
            f'<tr><td><a href="{esc(page.relative_to(root).as_posix())}">{esc(run.batch)}</a></td>'
            f"<td>{esc(run.suite.name)}</td><td>{status}</td><td>{stats['evaluated_expectations']}</td>"
            f"<td>{stats['unsuccessful_expectations']}</td><td>{stats['success_percent'] or 0:.1f}%</td></tr>"
        )
        for r in result.results:
            if not r.success:
                meta = r.expectation_config.meta
                count = (r.result or {}).get("unexpected_count", "")
                failing.append(
                    f"<tr><td>{esc(run.batch)}</td><td>{esc(meta.get('rule_id', ''))}</td>"
                    f'<td class="{esc(meta.get("severity", ""))}">{esc(meta.get("severity", ""))}</td>'
                    f"<td>{count}</td><td>{esc(r.expectation_config.description or '')}</td></tr>"
                )
    suites = "".join(
        f'<li><a href="{esc(p.relative_to(root).as_posix())}">{esc(name)}</a></li>'
        for name, p in sorted(suite_pages.items())
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Validation — {esc(run_name)}</title>
<link rel="stylesheet" href="{OFFLINE_CSS}"></head>
<body><div class="container-fluid">
<h1>Validation — {esc(run_name)}</h1>
<p>Great Expectations Data Docs of this run: one validation per batch and suite. Blocking failures
quarantine a report; warnings load it with the warning recorded (warehouse table report_warning).
The pages show counts per expectation; every failing report, with the cells, expected and found
numbers, is in validation/failures.parquet.</p>
<h2>Validations</h2>
<table><tr><th>Batch</th><th>Suite</th><th>Status</th><th>Expectations</th><th>Failed</th><th>Success</th></tr>
{"".join(rows)}</table>
<h2>Failing rules</h2>
<table><tr><th>Batch</th><th>Rule</th><th>Severity</th><th>Reports</th><th>First report ids</th>
<th>Expectation</th></tr>
{"".join(failing) or '<tr><td colspan="6">none</td></tr>'}</table>
<h2>Expectation suites</h2><ul>{suites}</ul>
</div></body></html>
"""


def build_data_docs(runs: list[SuiteRun], out_dir: Path, run_name: str) -> Path:
    """GE Data Docs of a run's validations under out_dir (replaced), made readable offline; the index path."""
    shutil.rmtree(out_dir, ignore_errors=True)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for suite in {run.suite.name: run.suite for run in runs}.values():
        context.suites.add(_fresh(suite))
    stored = []
    for run in runs:
        result = summarised(run.result, run_name)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=run.suite.name),
            run_id=result.meta["run_id"],
            batch_identifier=_slug(run.batch),
        )
        context.validation_results_store.set(key, result)
        stored.append((run, key))
    context.build_data_docs(site_names=[SITE])
    pages = []
    for run, key in stored:
        (page,) = (out_dir / "validations" / run.suite.name / run_name).glob(f"*/{key.batch_identifier}.html")
        pages.append((run, page))
    suite_pages = {p.stem: p for p in (out_dir / "expectations").glob("*.html")}
    for page in out_dir.rglob("*.html"):
        _offline(page, out_dir)
    (out_dir / OFFLINE_CSS).parent.mkdir(parents=True, exist_ok=True)
    (out_dir / OFFLINE_CSS).write_text(STYLESHEET, encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(_index(out_dir, run_name, pages, suite_pages), encoding="utf-8")
    return index
