"""Report metadata from plain text: issuer, year, region, and whether the report covers a whole jurisdiction.

Pure and cheap: the title and year are looked for in the first few thousand characters only; the scope cues
(全市共受理政府信息公开申请…) anywhere in the text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from etl import regions
from etl.model import Metadata
from etl.parse.rows import normalize

_HEAD = 3000
_EVIDENCE_LEN = 120
_WRAP_MIN = 20  # a line this long that does not end a sentence was wrapped

_NOT_NAME = r"[^\s\d,，。;；:：、“”\"'《》<>()|【】\[\]_\-]"
# "平潭综合实验区2019年度政府信息公开工作年度报告", "2019年上海市人民政府办公厅政府信息公开工作年度报告";
# not the reports named inside a notice's title (…关于编制公布2021年政府信息公开工作年度报告有关事项的通知).
_TITLE = re.compile(
    rf"(?:^|(?<=[\s:：|>】\]]))(?P<pre>{_NOT_NAME}{{0,40}}?)(?P<year>(?:19|20)\d\d)年度?"
    rf"(?P<post>{_NOT_NAME}{{0,40}}?)(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:工作)?报告(?!有关|格式|的)"
)
_NOTICE_WORDS = re.compile(r"印发|通知|转发|编制|公布")
# A line that is only an agency or place name (the first line of a two-line title: 淮安市人民政府 / 2024年…).
_ORG_LINE = re.compile(
    r"^[\u4e00-\u9fff()]{2,30}(?:政府|委员会|管委会|局|厅|办公室|委|院|署|中心|省|市|县|区|州|旗|盟)$"
)
# "统计期限为2021年1月1日", "统计时限为 2022 年", "统计周期为 2024 年 1 月"
_PERIOD_YEAR = re.compile(
    r"统计(?:期限|时限|周期|时间|期间|区间|范围|时段)[^\d。]{0,8}?([12]\s*[09]\s*\d\s*\d)\s*年"
)
# Spaces PDF extraction puts around digits: "2024 年", "淮安市人民政府 2024 年".
_DIGIT_SPACE = re.compile(r"(?<=\d)\s+(?=[\d年])|(?<=[^\x00-\x7f])[ \t\u3000]+(?=\d)")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])")
# "本报告由淮安市人民政府办公室根据…编制", "区管委会办公室编制完成了本报告", "市科委编制了 2024 年度…报告"
_COMPILED_BY = re.compile(
    r"报告由(?P<a>[\u4e00-\u9fff()]{2,30}?)(?:根据|依据|按照|依照|负责|编制)"
    r"|(?P<b>[\u4e00-\u9fff()]{2,30}?)编制(?:完成)?了?[^。,，\n]{0,20}?报告"
)
_ORG_END = re.compile(
    r"(?:政府|委员会|管委会|局|厅|办公室|委|院|署|中心|办|办事处|联合会|联合社|大队|支队|馆|所|站|会)$"
)
# A government's general office compiles the government's report.
_GOV_OFFICE = re.compile(r"(?:人民)?政府办(?:公室|公厅)?$")
_ZONE_OFFICE = re.compile(r"(?:管委会|管理委员会)办公室$")
_PREFECTURE_OFFICE = re.compile(r"行政公署办(?:公室)?$")  # 地区/盟 are governed by a 行政公署
_SELF_REF = re.compile(r"[我全本]([省市区县州旗盟])")

# Common abbreviations of agency names in titles (上海市科委); the place in front is kept.
_ABBREVIATIONS = {
    "发改委": "发展和改革委员会",
    "经信委": "经济和信息化委员会",
    "住建委": "住房和城乡建设委员会",
    "卫健委": "卫生健康委员会",
    "科委": "科学技术委员会",
    "教委": "教育委员会",
    "发改局": "发展和改革局",
    "住建局": "住房和城乡建设局",
    "卫健局": "卫生健康局",
    "人社局": "人力资源和社会保障局",
    "市监局": "市场监督管理局",
    "管委会": "管理委员会",
}
# Agency names that start with 市/区 as a word, not as "this city": 市场监督管理局, 区域…
_NOT_IMPLIED = ("市场", "市政", "市容", "区域", "县域", "省级")
_GOVERNMENT = ("人民政府", "管理委员会", "行政公署")
_ZONE_END = re.compile(r"(?:开发区|实验区|试验区|新区|园区|示范区|合作区|高新区|保税区|管理区)$")
_PLACE_END = re.compile(r"(?:省|市|县|区|州|旗|盟)$")

# Counts for the whole jurisdiction (scope "region"), looked for in the text with wrapped lines rejoined.
_UNITS = r"(?:各级行政机关|各级各部门|各级政府|各部门|各单位|各有关单位|各?政府信息公开(?:工作)?单位|各?政务公开单位|各乡镇(?:街道)?)"
_REGION_CUES = [
    # 全市共受理政府信息公开申请 3119 件 / 全区各级行政机关共受理…21件 / 本年度全区共收到70件申请
    re.compile(
        r"全[省市区县州旗盟][^。；;！？，,\n]{0,10}?(?:受理|收到|新收|接收)了?"
        r"(?:[^。；;！？\n]{0,12}?申请\s*\d[\d,]*\s*件|\s*\d[\d,]*\s*件[^。；;！？\n]{0,10}?申请)"
    ),
    # 全区共主动公开政府信息14571条
    re.compile(rf"全[省市区县州旗盟]{_UNITS}?共?(?:累计)?主动公开(?:各类)?(?:政府)?信息\s*\d"),
    # 我区政府信息公开单位共公布政府信息2599条
    re.compile(rf"[我全][省市区县州旗盟]{_UNITS}共?(?:公布|主动公开|公开|受理|收到)"),
    # 汇总平潭综合实验区各有关单位政府信息公开工作情况编制而成
    re.compile(r"汇总[^。；;\n]{0,30}?各(?:有关)?(?:单位|部门|地区|县区|区县|乡镇)"),
]
# An agency speaking of itself (本机关 is left out: it is a row label of every report's table).
_AGENCY_CUE = re.compile(r"本(?:部门|委|局|厅)(?!不掌握)")
_SENTENCE_END = re.compile(r"[。；;！？!?\n]")
_CLAUSE_END = re.compile(r"[，,、：:]")


@dataclass(frozen=True)
class _Title:
    text: str
    name: str  # the agency or place as printed; may be empty
    year: int


@lru_cache(maxsize=65536)
def _tidy(line: str) -> str:
    return _DIGIT_SPACE.sub("", line.strip())


def _title_in(line: str) -> re.Match[str] | None:
    for m in _TITLE.finditer(line):
        if not _NOTICE_WORDS.search(m.group("pre") + m.group("post")):
            return m
    return None


def _find_title(lines: list[str]) -> _Title | None:
    """The first title line; a title broken over two lines (…工作 / 年度报告, or name / year-title) is joined."""
    lines = [t for t in (_tidy(x) for x in lines) if t]
    for i, line in enumerate(lines):
        if "公开" not in line and not _ORG_LINE.match(line):
            continue
        candidates = [line, line + lines[i + 1]] if i + 1 < len(lines) else [line]
        if len(line) <= 60:  # a short line may be a letter-spaced title: 政 府 信 息 公 开
            candidates.append(re.sub(r"\s+", "", line))
        for cand in candidates:
            m = _title_in(cand)
            if m is None:
                continue
            name = re.sub(r"^关于|(?:关于|的)$", "", m.group("pre") + m.group("post"))
            if not name and i > 0 and _ORG_LINE.match(lines[i - 1]):
                name = lines[i - 1]
            return _Title(text=cand[m.start() : m.end()], name=name, year=int(m.group("year")))
    return None


def _home_place(head: str) -> str | None:
    """The place the body keeps naming, preferring the level it calls 我县/全市 (遂昌县 for 我县)."""
    counts = Counter(regions.find_places(head))
    if not counts:
        return None
    refs = Counter(_SELF_REF.findall(head))
    if refs:
        level = refs.most_common(1)[0][0]
        same = {p: n for p, n in counts.items() if p.endswith(level)}
        if same:
            counts = Counter(same)
    return counts.most_common(1)[0][0]


def _compiled_by(head: str) -> str | None:
    """The agency the body says compiled the report; a government's office stands for the government (it
    compiles the government's report), unless the body speaks as a department (本部门…) and never for a
    whole place (我县, 全县): then the report is the office's own."""
    flat = _flatten(head)
    for m in _COMPILED_BY.finditer(flat):
        org = m.group("a") or m.group("b")
        if _ORG_END.search(org):
            if _GOV_OFFICE.search(org) and _AGENCY_CUE.search(flat) and not _SELF_REF.search(flat):
                return org
            org = _ZONE_OFFICE.sub("管理委员会", org)
            org = _PREFECTURE_OFFICE.sub("行政公署", org)
            return _GOV_OFFICE.sub("人民政府", org)
    return None


def _expand(name: str) -> str:
    """Full agency name from a title's short one: 上海市科委 -> 上海市科学技术委员会, 市政府 -> 市人民政府."""
    name = re.sub(r"(?<!人民)政府(?=办公厅|办公室|办$|$)", "人民政府", name)
    name = re.sub(r"人民政府办$", "人民政府办公室", name)
    for short, full in _ABBREVIATIONS.items():
        if name.endswith(short):
            return name[: -len(short)] + full
    return name


def _issuer(raw: str, head: str) -> str | None:
    name = _expand(re.sub(r"\s+", "", raw))
    if not name:
        return None
    place, rest = regions.split_place(name)
    if not place and name[0] in "省市区县州旗盟" and not name.startswith(_NOT_IMPLIED):  # 市科委
        home = _home_place(head)
        if home and home.endswith(name[0]):
            name, rest = home + name[1:], name[1:]
    places = regions.find_places(name)
    if _ZONE_END.search(name) and not (places and regions.is_division(places[-1])):
        return name + "管理委员会"  # 平潭综合实验区: a zone is run by a management committee
    if not rest or _PLACE_END.search(rest):  # a place alone (or one the table lacks): its government
        return name + "人民政府"
    return name


def _is_government(issuer: str) -> bool:
    _, rest = regions.split_place(issuer)
    if rest in _GOVERNMENT:
        return True
    # a township's government or a street office (the district's 派出机关 for the street): 城关镇人民政府;
    # judged on the whole name, as the place split may take the town's own name for a place (白沙镇)
    if re.fullmatch(r"[\u4e00-\u9fff]{2,40}(?:镇|乡|苏木)人民政府|[\u4e00-\u9fff]{2,40}街道办事处", issuer):
        return True
    # a zone's committee with the zone named in full: 昆山经济技术开发区管理委员会
    return bool(
        re.fullmatch(r".*(?:开发区|实验区|试验区|新区|园区|示范区|合作区|高新区)(?:管理委员会|管委会)", rest)
    )


def _year(head: str, title: _Title | None) -> int | None:
    m = _PERIOD_YEAR.search(head)
    candidates = [int(re.sub(r"\s", "", m.group(1)))] if m else []
    if title:
        candidates.append(title.year)
    return next((y for y in candidates if 2000 <= y <= 2100), None)


def _flatten(text: str) -> str:
    """Rejoin lines wrapped inside a sentence (PDF, page dumps); short lines (titles, headings) stay apart."""
    out: list[str] = []
    for line in (x.strip() for x in text.splitlines()):
        if not line:
            continue
        prev = out[-1] if out else ""
        wrapped = len(prev) >= _WRAP_MIN and prev[-1] not in "。；;！？!?:：" and not prev.endswith("报告")
        if wrapped:
            out[-1] += line
        else:
            out.append(line)
    return _CJK_SPACE.sub("", "\n".join(out))


def _sentence(flat: str, start: int, end: int) -> str:
    """The sentence around flat[start:end], cut to about _EVIDENCE_LEN characters from near the match."""
    left = max((m.end() for m in _SENTENCE_END.finditer(flat, max(0, start - 300), start)), default=0)
    if start - left > 30:  # a long sentence: begin at the clause holding the match
        clause = max((m.end() for m in _CLAUSE_END.finditer(flat, start - 30, start)), default=start - 30)
        left = max(left, clause)
    right_m = _SENTENCE_END.search(flat, end)
    right = right_m.start() if right_m else len(flat)
    return flat[left : min(right, left + _EVIDENCE_LEN)].strip()


def _scope(text: str, issuer: str | None, title: _Title | None) -> tuple[str | None, str | None]:
    flat = _flatten(text)
    if issuer and not _is_government(issuer):
        m = _AGENCY_CUE.search(flat)
        if m:
            return "agency", _sentence(flat, m.start(), m.end())
        return "agency", (title.text if title else issuer)[:_EVIDENCE_LEN]
    hits = [m for cue in _REGION_CUES if (m := cue.search(flat))]
    if hits:
        first = min(hits, key=lambda m: m.start())
        return "region", _sentence(flat, first.start(), first.end())
    if issuer:
        return "government", (title.text if title else issuer)[:_EVIDENCE_LEN]
    return None, None


def extract_metadata(text: str, title: str | None = None) -> Metadata:
    """Issuer, year, region and scope of one report. `title` is the document's own title (HTML <title>, PDF
    metadata), used only when the text has no title line of its own: it is often generic or the site's name."""
    text = normalize(text)
    head = text[:_HEAD]
    found = _find_title(head.splitlines())
    if (found is None or not found.name) and title:
        found = _find_title(normalize(title).splitlines()) or found
    raw = found.name if found and found.name else (_compiled_by(head) or _home_place(head) or "")
    issuer = _issuer(raw, head)
    meta = Metadata(issuer=issuer, year=_year(head, found))
    if issuer:
        region, note = regions.resolve(issuer, context=text)
        meta.region_note = note
        if region is not None:
            meta.adcode, meta.city, meta.province = region.adcode, region.city, region.province
    meta.scope, meta.scope_evidence = _scope(text, issuer, found)
    return meta
