"""Who issued it, in the wild (issue 10 part 3): the metadata classes, each as a class.

1. The real reports' own headings re-laid as each class: every labelled report of ../shared/corpus/real is
   read at test time, its title taken out of its text, and its issuer printed back in front of its own body
   as a two- or three-line title, glued to a site breadcrumb and captions, with the year first, as
   "关于…的年度报告", quoted in a sentence, or named only in the body. Townships and street offices are made
   inside the real reports' own counties and districts and printed the ways that used to file them under
   their parent (place line / unit line, the county printed apart, the unit only in the body).
2. Regions: names holding another prefecture's name, parents printed in the text, the site hint.
3. The generator's heading classes at scale (etl.synth.model.heading_sweep and the corpus stream).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from etl.model import Metadata
from etl.outcomes import Candidate, decide
from etl.parse import document_text, parse_bytes, parse_file
from etl.parse.metadata import extract_metadata, strip_chrome
from etl.synth.document import build, label
from etl.synth.model import Config, heading_sweep, iter_reports
from etl.synth.places import fragment_counties, issuers, jurisdictions, township_stems
from etl.synth.render import render
from tests.conftest import labelled_reports, load_label

FIELDS = ("issuer", "year", "adcode", "city", "province")
REAL = labelled_reports()
needs_real = pytest.mark.skipif(not REAL, reason="no labelled corpus under ../shared/corpus/real")
_REPORT = "政府信息公开工作年度报告"
# a title inside the head of a real report (its own, not a notice's: no 《 before it)
_REAL_TITLE = re.compile(
    r"[^\s《》<>:：]{0,40}?(?:19|20)\d\d\s*年度?[^\s《》<>]{0,40}?(?:政府信息公开|政务公开)(?:工作)?\s*(?:年度)?\s*报告"
)
_ORG_ONLY = re.compile(r"^[\u4e00-\u9fff]{2,20}(?:政府|委员会|办公厅|局)$")


def _fields(meta: Metadata) -> dict:
    return {f: getattr(meta, f) for f in FIELDS}


def _body(report: Path) -> tuple[str, dict]:
    """The report's text with its own title taken out (and the name line printed above a title), and its
    label: the body a re-laid heading is put in front of."""
    text, _ = document_text(report)
    head = _REAL_TITLE.sub("", text[:3000])  # the part metadata extraction reads
    kept = [x for x in head.splitlines() if not _ORG_ONLY.match(x.strip())]
    body = "\n".join(kept) + text[3000:]
    meta = extract_metadata(body)
    how = meta.evidence.get("issuer", {}).get("how", "")
    assert not how.startswith(("title", "the name on its own line")), (report.name, meta.evidence["issuer"])
    return body, load_label(report)


def _expect(meta: Metadata, lab: dict, case: str) -> None:
    assert _fields(meta) == {f: lab[f] for f in FIELDS}, (case, meta.evidence, meta.region_note)
    if lab.get("scope"):
        assert meta.scope == lab["scope"], (case, meta.scope_evidence)
    for f in FIELDS:
        ev = meta.evidence[f]
        assert ev["line"] and ev["how"], (case, f, ev)


def _headings(issuer: str, year: int, site: str) -> dict[str, str]:
    """The heading classes, each printing `issuer` for `year` as real sites and PDFs do."""
    title = f"{issuer}{year}年{_REPORT}"
    return {
        "one line": title + "\n",
        "unit / year": f"{issuer}\n{year}年{_REPORT}\n",
        "unit / year / title": f"{issuer}\n{year}年度\n{_REPORT}\n",
        "crumb with separators and captions": (
            f"当前位置：首页 > 政务公开 > 政府信息公开年报 > {title} 发布时间：{year + 1}-01-20 "
            f"来源：{site} 浏览次数：31\n"
        ),
        "crumb glued": f"首页政务公开政府信息公开年报{title}\n",
        "crumb line, then title": f"您当前的位置：首页 » 信息公开 » 年度报告\n{title}\n来源：{site} 发布时间：{year + 1}-02-03\n",
        "正文 line": f"正文\n{title}\n",
        "正文 glued": f"正文{title}\n",
        "year first": f"{year}年{issuer}{_REPORT}\n",
        "year first, spaced": f"{year}年度 {issuer} {_REPORT}\n",
        "关于…的年度报告": f"{issuer}关于{year}年度政府信息公开工作的年度报告\n",
        "quoted in a sentence": f"按照《中华人民共和国政府信息公开条例》要求，现将《{title}》予以公布。\n",
        "year line / issuer+title": f"{year}年度\n{issuer}{_REPORT}\n",
        **_place_apart(issuer, year),
    }


def _place_apart(issuer: str, year: int) -> dict[str, str]:
    """An agency's place printed on the line above, or before it on the same line, apart from its name."""
    from etl import regions

    place, rest = regions.split_place(issuer)
    if not place or not rest or rest in ("人民政府", "管理委员会"):
        return {}
    return {
        "place line / agency+year line": f"{place}\n{rest}{year}年{_REPORT}\n",
        "place printed apart": f"{place} {rest} {year}年{_REPORT}\n",
    }


def _site(lab: dict) -> str:
    return (lab["city"] if lab["city"] and lab["city"] != lab["province"] else lab["province"]) + "人民政府"


# -- 1. real headings re-laid --------------------------------------------------------------------------------
@needs_real
@pytest.mark.parametrize("report", REAL, ids=lambda p: p.name)
def test_real_heading_relaid_as_each_class(report: Path):
    body, lab = _body(report)
    for case, heading in _headings(lab["issuer"], lab["year"], _site(lab)).items():
        _expect(extract_metadata(heading + body), lab, case)


@needs_real
@pytest.mark.parametrize("report", REAL, ids=lambda p: p.name)
def test_real_report_named_only_in_its_body(report: Path):
    """No title at all: the issuer named by the body, the way reports say who compiled them. (A general
    office compiling stands for its government there, so the office's own report is left out: in a body
    with no title, 'compiled by the office' says the report is the government's.)"""
    body, lab = _body(report)
    if re.search(r"人民政府办公(?:厅|室)$", lab["issuer"]):
        pytest.skip("a government's general office: compiling in the body names the government")
    for sentence in (
        f"本报告由{lab['issuer']}根据《中华人民共和国政府信息公开条例》编制。",
        f"{lab['issuer']}根据《中华人民共和国政府信息公开条例》要求编制本报告。",
    ):
        _expect(extract_metadata(_REPORT + "\n" + sentence + "\n" + body), lab, sentence)


def _county_reports() -> list[Path]:
    """Real reports of a county-level government (洪泽区人民政府, 遂昌县人民政府): the parents of townships."""
    from etl import regions

    out = []
    for report in REAL:
        lab = load_label(report)
        place, rest = regions.split_place(lab["issuer"])
        if rest == "人民政府" and regions.is_county(place):
            out.append(report)
    return out


def _units(place: str, n: int = 2) -> list[str]:
    stems = township_stems()
    start = sum(map(ord, place)) % len(stems)
    return [
        f"{stems[(start + 3 * k) % len(stems)]}{'镇人民政府' if k % 2 == 0 else '街道办事处'}"
        for k in range(n)
    ]


def _short(unit: str) -> str:
    return unit.replace("镇人民政府", "镇").replace("街道办事处", "街道")


@needs_real
@pytest.mark.parametrize("report", _county_reports(), ids=lambda p: p.name)
def test_township_of_a_real_county_is_never_its_county(report: Path):
    """A township or street office inside the real report's own county, printed the ways that used to file
    it under "X县/区人民政府": its issuer is the unit (with its county in front), its region the county's."""
    body, lab = _body(report)
    from etl import regions

    place = regions.split_place(lab["issuer"])[0]
    year = lab["year"]
    for unit in _units(place):
        layouts = {
            "place line / unit+year line": f"{place}\n{_short(unit)}{year}年{_REPORT}\n",
            "unit line / year line": f"{place}{_short(unit)}\n{year}年{_REPORT}\n",
            "county printed apart": f"{place} {unit} {year}年{_REPORT}\n",
            "crumb, county as source": (
                f"首页 > 政务公开 > 政府信息公开年报 > {place}{unit}{year}年{_REPORT} 来源：{place}人民政府\n"
            ),
            "unit only in the body": f"{_REPORT}\n本报告由{place}{unit}编制。\n",
            "unit only in the body, bare": f"{place}人民政府\n{_REPORT}\n本报告由{unit}负责编制。\n",
            "unit compiles, sentence start": f"{_REPORT}\n{place}{unit}根据《条例》要求编制本报告。\n",
            "统计期限 sentence": f"本报告所列数据的统计期限为{year}年1月1日至{year}年12月31日，由{place}{unit}负责编制。\n",
            "quoted title": f"现将《{place}{unit}{year}年{_REPORT}》予以公布。\n",
            "year first": f"{year}年{place}{unit}{_REPORT}\n",
        }
        for case, heading in layouts.items():
            meta = extract_metadata(heading + body)
            want = {**{f: lab[f] for f in FIELDS}, "issuer": place + unit}
            assert _fields(meta) == want, (case, meta.evidence.get("issuer"))
            assert meta.issuer != lab["issuer"]  # never filed under its parent
            assert meta.scope in ("government", "region")  # a township's government, not an agency


@needs_real
@pytest.mark.parametrize("report", _county_reports(), ids=lambda p: p.name)
def test_township_and_its_county_are_two_reports_not_a_duplicate(report: Path):
    """The unit's report and its county's share a body here (the same cells): filed under the county it
    would be dropped as a duplicate. Read right, they are two issuer-years and both load."""
    from etl import regions

    body, lab = _body(report)
    place = regions.split_place(lab["issuer"])[0]
    unit_text = f"{place}\n{_short(_units(place)[0])}{lab['year']}年{_REPORT}\n" + body
    parent = parse_file(report)
    unit = parse_bytes(unit_text.encode("utf-8"), "unit.txt")
    cands = [
        Candidate(name, name, "text", name, r.meta.issuer, r.meta.year, 0, (), Candidate.fingerprint(r.cells))
        for name, r in (("parent", parent), ("unit", unit))
    ]
    assert {o.source_file: o.status for o in decide(cands)} == {"parent": "loaded", "unit": "loaded"}


# -- chrome and titles -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "clean"),
    [
        (
            "当前位置：首页 > 政务公开 > 政府信息公开年报 > 遂昌县2022年政府信息公开工作年度报告",
            "遂昌县2022年政府信息公开工作年度报告",
        ),
        (
            "首页政务公开政府信息公开年报遂昌县城关镇人民政府2022年政府信息公开工作年度报告",
            "遂昌县城关镇人民政府2022年政府信息公开工作年度报告",
        ),
        (
            "正文 遂昌县2022年政府信息公开工作年度报告 发布时间：2023-01-02 浏览次数：33",
            "遂昌县2022年政府信息公开工作年度报告",
        ),
        ("遂昌县2022年政府信息公开工作年度报告 来源：遂昌县人民政府", "遂昌县2022年政府信息公开工作年度报告"),
        ("年度报告", "年度报告"),  # the end of a wrapped title is no chrome
        ("首页", ""),
    ],
)
def test_strip_chrome(line, clean):
    assert strip_chrome(line) == clean


def test_notice_of_the_parent_is_not_the_title():
    """A unit's report cites its county's notice: a year beside 年度报告 and the parent's name, inside 《》."""
    text = (
        "政府信息公开工作年度报告\n本报告按照《遂昌县人民政府办公室关于做好2022年度政府信息公开工作年度报告编制"
        "发布工作的通知》要求编制发布。本报告由遂昌县城关镇人民政府编制。统计期限为2022年1月1日至2022年12月31日。"
    )
    meta = extract_metadata(text)
    assert (meta.issuer, meta.year, meta.adcode, meta.scope) == (
        "遂昌县城关镇人民政府",
        2022,
        "331123",
        "government",
    )


def test_unit_speaking_as_itself_is_the_issuer():
    text = (
        "政府信息公开工作年度报告\n根据《条例》规定编制本报告。统计期限为2022年1月1日至2022年12月31日。\n"
        "2022年，遂昌县妙高街道办事处深入贯彻落实《条例》。本街道共收到政府信息公开申请3件，本街道均按时答复。"
    )
    assert extract_metadata(text).issuer == "遂昌县妙高街道办事处"


def test_county_report_naming_its_towns_stays_the_county():
    text = (
        "遂昌县人民政府2022年政府信息公开工作年度报告\n统计期限为2022年1月1日至2022年12月31日。\n"
        "2022年，城关镇人民政府等单位积极配合。全县共受理政府信息公开申请30件。我县……"
    )
    meta = extract_metadata(text)
    assert (meta.issuer, meta.scope) == ("遂昌县人民政府", "region")


def test_year_from_period_sentence_when_the_title_has_none():
    meta = extract_metadata(
        "遂昌县城关镇人民政府政府信息公开工作年度报告\n本报告统计期限为2023年1月1日至12月31日。"
    )
    assert meta.year == 2023 and meta.evidence["year"]["line"] == 2
    assert "统计期限" in meta.evidence["year"]["how"]


# -- 2. regions ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("adcode", fragment_counties())
def test_county_holding_another_prefectures_name(adcode: str):
    """五大连池市 holds 大连, 峨眉山市 holds 眉山市, 西安区 holds 西安: the longest full name decides, for the
    government, a department and a township, printed with the parents the report prints."""
    j = jurisdictions()[adcode]
    for iss in (issuers(j)[0], issuers(j)[1], issuers(j)[-1]):
        text = f"{iss.name}2022年{_REPORT}\n本报告所列数据的统计期限为2022年1月1日至2022年12月31日。\n{j.province}……"
        meta = extract_metadata(text)
        assert (meta.issuer, meta.adcode, meta.city, meta.province) == (
            iss.name,
            adcode,
            j.city,
            j.province,
        ), meta.region_note


def test_a_fragment_of_a_longer_name_is_no_region():
    meta = extract_metadata(f"大同县人民政府2018年{_REPORT}\n")  # 大同县 is gone from the table; not 大同市
    assert meta.adcode is None and "part of a longer name" in meta.region_note


@pytest.mark.parametrize(
    ("printed", "adcode"),
    [("吉林省辽源市西安区", "220403"), ("黑龙江省牡丹江市西安区", "231005"), ("牡丹江市西安区", "231005")],
)
def test_parent_names_printed_in_the_text_settle_a_shared_name(printed, adcode):
    meta = extract_metadata(f"西安区人民政府2022年{_REPORT}\n根据《条例》，{printed}人民政府编制本报告。")
    assert meta.adcode == adcode, meta.region_note
    assert printed in meta.evidence["adcode"]["text"]


def test_site_hint_settles_an_ambiguous_name_and_the_text_wins_when_it_disagrees():
    text = f"西安区人民政府2022年{_REPORT}\n"
    assert extract_metadata(text).adcode is None
    meta = extract_metadata(text, hints={"adcode": "231005"})
    assert meta.adcode == "231005" and meta.evidence["adcode"]["line"] == "hint"
    meta = extract_metadata(f"遂昌县人民政府2022年{_REPORT}\n", hints={"adcode": "231005", "year": 2021})
    assert meta.adcode == "331123"  # the text names its county: the hint is overruled, and says so
    assert "disagrees; the text wins" in meta.evidence["adcode"]["how"]
    assert meta.year == 2022 and "the hint says 2021" in meta.evidence["year"]["how"]


def test_hints_fill_what_the_text_leaves_open():
    meta = extract_metadata(
        "政府信息公开工作年度报告\n本局共收到申请3件。", hints={"issuer": "遂昌县财政局", "year": 2022}
    )
    assert (meta.issuer, meta.year, meta.adcode) == ("遂昌县财政局", 2022, "331123")
    assert meta.evidence["issuer"]["line"] == meta.evidence["year"]["line"] == "hint"


def test_hints_travel_from_the_fetch_sidecar(tmp_path: Path):
    """The fetch manifest's hints are in the file's sidecar (etl.fetch.store): the run's SourceFile and
    parse_file (as the parse worker) see them. A township report that never names its county gets it from
    the site's adcode, and says so."""
    from etl import regions
    from etl.extract import fetch_metadata
    from etl.model import SourceFile

    spec = next(
        s
        for s in heading_sweep(Config(seed=5), n_counties=3)
        if s.issuer.kind == "town"
        and s.heading == "unit_bare"
        and s.file_format == "text"
        and regions.lookup(s.issuer.adcode).name == s.issuer.jurisdiction.name
    )
    doc = build(spec)
    county = spec.issuer.jurisdiction.name
    report = tmp_path / "r.txt"
    report.write_bytes(render(doc).decode("utf-8").replace(county, "").encode("utf-8"))
    side = {"sources": [{"url": "http://x/r", "fetched_at": "t", "hints": {"adcode": spec.issuer.adcode}}]}
    report.with_name("r.txt.fetch.json").write_text(json.dumps(side), encoding="utf-8")
    assert SourceFile("r.txt", "0" * 64, 1, "text", **fetch_metadata(report)).hints == {
        "adcode": spec.issuer.adcode
    }
    meta = parse_file(report).meta
    assert (meta.issuer, meta.adcode) == (spec.issuer.name, spec.issuer.adcode)
    assert "site hint" in meta.evidence["issuer"]["how"]
    report.with_name("r.txt.fetch.json").unlink()
    assert parse_file(report).meta.adcode is None  # without the hint the text does not say


# -- 3. the generator at scale ---------------------------------------------------------------------------------
def _score(specs) -> tuple[int, dict[str, list], int]:
    """(reports, wrong field -> examples, units filed under their parent)."""
    from etl.accuracy import filed_under_parent

    n, wrong, under = 0, {}, 0
    for spec in specs:
        doc = build(spec)
        lab = label(doc)
        meta = parse_bytes(render(doc), doc.file_name).meta
        n += 1
        for f in (*FIELDS, "scope"):
            if getattr(meta, f) != lab[f]:
                wrong.setdefault(f, []).append((doc.file_name, spec.heading, getattr(meta, f), lab[f]))
        under += filed_under_parent(lab["issuer"], meta.issuer)
    return n, wrong, under


def test_heading_sweep_every_field_right():
    """Every heading class on governments, departments and townships, in the counties whose names hold
    another prefecture's name and in others, every format that prints the class."""
    specs = list(heading_sweep(Config(seed=3), n_counties=2))
    kinds = {(s.issuer.kind, s.heading) for s in specs}
    assert {
        ("town", "after_county"),
        ("town", "body_only"),
        ("dept", "unit_bare"),
        ("gov", "quoted"),
    } <= kinds
    n, wrong, under = _score(specs[::2])  # half of them (the other half: `make accuracy`)
    assert n > 300 and not wrong and under == 0, {k: v[:5] for k, v in wrong.items()}


def test_corpus_stream_with_headings_and_layouts():
    """The national stream with every report in a heading class (tables in their layout classes too, one
    cell per line among them): metadata right on all."""
    cfg = Config(seed=21, heading_rate=1.0, layout_rate=0.5, formats=("text", "html", "docx"))
    specs = list(iter_reports(160, cfg))
    assert any("stacked" in s.layouts for s in specs)
    n, wrong, under = _score(specs)
    assert n == 160 and not wrong and under == 0, {k: v[:5] for k, v in wrong.items()}


def test_stacked_tables_with_headings():
    """Tables printed one cell per line with bare "|" lines (a layout class) under each heading class."""
    specs = [s for s in heading_sweep(Config(seed=4), n_counties=1) if s.file_format == "text"][:40]
    stacked = [replace(s, layouts=("stacked",)) for s in specs]
    n, wrong, under = _score(stacked)
    assert n == len(specs) and not wrong and under == 0, wrong
