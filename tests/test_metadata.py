from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.model import Metadata
from etl.parse.metadata import extract_metadata

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
LABELS = sorted((CORPUS / "real").glob("*.expected.json")) if (CORPUS / "real").is_dir() else []
FIELDS = ("issuer", "year", "adcode", "city", "province")


def read_text(path: Path) -> tuple[str, str | None]:
    """Plain text and document title of a corpus file (a stand-in for the extract stage)."""
    if path.suffix == ".html":
        doc = lxml.html.fromstring(path.read_bytes())
        title = doc.find(".//title")
        return doc.text_content(), title.text_content() if title is not None else None
    if path.suffix == ".pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
            return text, pdf.get_metadata_dict().get("Title") or None
        finally:
            pdf.close()
    return path.read_text(encoding="utf-8"), None


@pytest.mark.skipif(not LABELS, reason=f"no labelled corpus under {CORPUS}")
@pytest.mark.parametrize("label_path", LABELS, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_labelled_reports(label_path: Path):
    label = json.loads(label_path.read_text(encoding="utf-8"))
    text, title = read_text(label_path.parent / label["file"])
    meta = extract_metadata(text, title)
    got = {f: getattr(meta, f) for f in FIELDS}
    assert got == {f: label[f] for f in FIELDS}, meta.region_note
    if label.get("scope"):
        assert meta.scope == label["scope"], meta.scope_evidence
        assert meta.scope_evidence and len(meta.scope_evidence) <= 120


@pytest.mark.skipif(not (CORPUS / "legacy").is_dir(), reason="no legacy corpus")
def test_legacy_report():
    path = next((CORPUS / "legacy").glob("fj-pingtan-2018*"))
    meta = extract_metadata(*read_text(path))
    assert (meta.issuer, meta.year, meta.adcode) == ("平潭综合实验区管理委员会", 2018, "350128")
    assert meta.scope == "region"


# --- titles and issuers ---


@pytest.mark.parametrize(
    ("text", "issuer", "year"),
    [
        (
            "淮安市人民政府\n2024 年政府信息公开工作年度报告\n本报告由淮安市人民政府办公室编制。",
            "淮安市人民政府",
            2024,
        ),
        ("2019年上海市人民政府办公厅政府信息公开工作年度报告\n", "上海市人民政府办公厅", 2019),
        ("正文\n2024 年上海市科委政府信息公开工作\n年度报告\n", "上海市科学技术委员会", 2024),
        ("上海市发改委2022年政府信息公开工作年度报告\n", "上海市发展和改革委员会", 2022),
        ("平潭综合实验区2019年度政府信息公开工作年度报告 根据《条例》", "平潭综合实验区管理委员会", 2019),
        ("浦东新区2020年政府信息公开工作年度报告\n", "浦东新区人民政府", 2020),  # a real district, not a zone
        (
            "南京市鼓楼区２０２２年政府信息公开工作年度报告\n",
            "南京市鼓楼区人民政府",
            2022,
        ),  # full-width digits
        (
            "宿迁市沐阳县人民政府\n2 0 2 1 年政府信息公开工作年度报告\n",
            "宿迁市沐阳县人民政府",
            2021,
        ),  # spaced digits
        ("遂昌县人民政府关于2023年度政府信息公开工作年度报告\n", "遂昌县人民政府", 2023),
        ("昆山经济技术开发区2022年政府信息公开工作年度报告\n", "昆山经济技术开发区管理委员会", 2022),
    ],
)
def test_title_gives_issuer_and_year(text, issuer, year):
    meta = extract_metadata(text)
    assert (meta.issuer, meta.year) == (issuer, year)


def test_abbreviation_with_implied_place_takes_place_from_body():
    text = (
        "2021年市科委政府信息公开年度报告\n根据《上海市政府信息公开规定》，市科委编制了本报告。上海市科委……"
    )
    meta = extract_metadata(text)
    assert meta.issuer == "上海市科学技术委员会"
    assert (meta.adcode, meta.scope) == ("310000", "agency")


def test_notice_title_in_body_is_not_the_report_title():
    text = (
        "根据《福建省人民政府办公厅关于编制公布2021年政府信息公开工作年度报告有关事项的通知》要求，"
        "我县编制了本报告。统计期限为2021年1月1日至2021年12月31日。遂昌县……我县……遂昌县"
    )
    meta = extract_metadata(text)
    assert meta.issuer == "遂昌县人民政府" and meta.year == 2021


def test_no_title_issuer_from_body_place():
    text = "本报告所列数据的统计期限为2021年1月1日至2021年12月31日。\n2021年,遂昌县始终……我县全面梳理……遂昌县"
    meta = extract_metadata(text)
    assert (meta.issuer, meta.year, meta.adcode, meta.city) == ("遂昌县人民政府", 2021, "331123", "丽水市")


def test_no_title_issuer_from_compiler():
    text = "政 府 信 息 公 开 工 作 年 度 报 告\n本报告由遂昌县财政局编制，统计期限为 2021 年 1 月 1 日至 2021 年 12 月 31 日。"
    meta = extract_metadata(text)
    assert (meta.issuer, meta.year, meta.adcode, meta.scope) == ("遂昌县财政局", 2021, "331123", "agency")


def test_government_office_compiling_stands_for_the_government():
    text = "区管委会办公室编制完成了本报告。平潭综合实验区……平潭综合实验区……我区"
    assert extract_metadata(text).issuer == "平潭综合实验区管理委员会"


@pytest.mark.parametrize(
    ("voice", "issuer", "scope"),
    [
        ("2021年，县政府本级共收到政府信息公开申请3件。", "滦南县人民政府", "government"),
        ("2021年，全县各级行政机关共受理政府信息公开申请30件。", "滦南县人民政府", "region"),
        ("2021年，本部门共收到政府信息公开申请3件。", "滦南县人民政府办公室", "agency"),
    ],
)
def test_no_title_government_office_report_is_its_own_when_it_speaks_as_a_department(voice, issuer, scope):
    """The office compiles the government's report, and also prints its own: with no title, the body's voice
    (a department's 本部门, or the place's 全县 / 县政府本级) tells which one this is."""
    text = (
        "本报告由滦南县人民政府办公室根据《中华人民共和国政府信息公开条例》编制。"
        "本报告所列数据的统计期限为2021年1月1日至2021年12月31日。\n" + voice
    )
    meta = extract_metadata(text)
    assert (meta.issuer, meta.adcode, meta.scope) == (issuer, "130224", scope)


def test_generic_document_title_is_ignored_but_a_named_one_is_used():
    body = "统计期限自2023年1月1日起至2023年12月31日止。"
    assert extract_metadata(body, "政府信息公开工作年度报告").issuer is None
    meta = extract_metadata(body, "洪泽区人民政府2023年政府信息公开工作年度报告")
    assert (meta.issuer, meta.adcode, meta.year) == ("洪泽区人民政府", "320813", 2023)


def test_implied_place_is_not_read_into_words():
    text = "2023年市场监督管理局政府信息公开工作年度报告\n遂昌县……我县"
    assert extract_metadata(text).issuer == "市场监督管理局"


def test_title_in_text_beats_document_title():
    meta = extract_metadata("淮安市人民政府\n2024年政府信息公开工作年度报告\n", "某某网站")
    assert meta.issuer == "淮安市人民政府"


def test_year_from_period_sentence_or_title():
    assert extract_metadata("统计期限为2021年1月1日至2021年12月31日").year == 2021
    assert extract_metadata("本年度报告中所列数据的统计周期\n为 2024 年 1 月 1 日至 12 月 31 日").year == 2024
    assert extract_metadata("遂昌县2020年政府信息公开工作年度报告\n").year == 2020
    assert extract_metadata("没有年份的文字").year is None


# --- region and scope ---


def test_ambiguous_region_is_left_empty_with_a_note():
    meta = extract_metadata("鼓楼区人民政府2023年政府信息公开工作年度报告\n本报告由区政府办编制。")
    assert meta.issuer == "鼓楼区人民政府"
    assert meta.adcode is None and meta.region_note.startswith("ambiguous")


def test_ambiguous_region_settled_by_report_text():
    text = "鼓楼区人民政府2023年政府信息公开工作年度报告\n根据《福建省政府信息公开办法》，福州市鼓楼区……"
    meta = extract_metadata(text)
    assert (meta.adcode, meta.city, meta.province) == ("350102", "福州市", "福建省")


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        (
            "淮安市人民政府\n2024年政府信息公开工作年度报告\n2024 年，全市共受理政府信息公开申请 3119 件，答复。",
            "region",
        ),
        (
            "洪泽区人民政府2023年政府信息公开工作年度报告\n依申请公开受理渠。2023 年全区受理政府信息公开\n申请 21 件，均在法定期限答复。",
            "region",
        ),
        (
            "平潭综合实验区2021年政府信息公开工作年度报告\n本年度全区共收到70件申请，及时依法依规办结69件。",
            "region",
        ),
        (
            "平潭综合实验区2019年政府信息公开工作年度报告\n今年，我区政府信息公开单位共公布政府信息2599条。",
            "region",
        ),
        ("遂昌县人民政府2021年政府信息公开工作年度报告\n我县今年共收到依申请公开44件。", "government"),
        (
            "上海市人民政府2019年政府信息公开工作年度报告\n实现全市依申请统一受理入口和统一办理功能。",
            "government",
        ),
        ("2019年上海市人民政府办公厅政府信息公开工作年度报告\n全市共受理政府信息公开申请859件。", "agency"),
        ("遂昌县财政局2021年政府信息公开工作年度报告\n本局共受理申请3件。", "agency"),
    ],
)
def test_scope(text, scope):
    meta = extract_metadata(text)
    assert meta.scope == scope
    assert meta.scope_evidence and len(meta.scope_evidence) <= 120


def test_region_evidence_is_the_deciding_sentence():
    text = "淮安市人民政府\n2024年政府信息公开工作年度报告\n一、总体情况\n2024 年，全市共受理政府信息公开申请 3119 件，答复 3050 件。"
    assert (
        extract_metadata(text).scope_evidence == "2024 年,全市共受理政府信息公开申请 3119 件,答复 3050 件"
    )  # NFKC commas


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400), st.one_of(st.none(), st.text(max_size=60)))
def test_never_raises(text, title):
    meta = extract_metadata(text, title)
    assert isinstance(meta, Metadata)
    assert meta.scope in (None, "agency", "government", "region")


def test_township_government_whose_name_holds_a_place_name():
    """白沙 is also a county's short name: the township's government is still a government, not an agency."""
    text = "北京市通州区白沙镇人民政府2020年政府信息公开工作年度报告\n2020年，本镇共收到政府信息公开申请4件。"
    meta = extract_metadata(text)
    assert (meta.issuer, meta.scope) == ("北京市通州区白沙镇人民政府", "government")
