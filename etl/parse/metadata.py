"""Report metadata from plain text: issuer, year, region, and whether the report covers a whole jurisdiction.

Pure and cheap: the title and year are looked for in the first few thousand characters only; the scope cues
(全市共受理政府信息公开申请…) anywhere in the text.

Every field carries its evidence (Metadata.evidence): the line that decided it (1-based, in the text the
reader produced), "document title" (HTML <title>, PDF metadata), "hint" (the fetch manifest's, etl.fetch)
or "default", with the line's text and how it was read.

Classes of headings handled (each is a class of real reports, tests/test_metadata_classes.py):
- the title on one line, on two or three (place / unit+year, unit / year, unit / year / 政府信息公开…), with
  the county printed before the unit on the same line (某某县 某某镇人民政府 2022年…);
- site chrome glued onto the title (首页 > 政务公开 > … > 政府信息公开年报, 当前位置, 正文, 来源, 发布时间);
- the year before the issuer, "关于2021年度…的年度报告", the title quoted in a sentence (现将《…报告》公布);
- no title: the issuer named by the body (本报告由XX镇人民政府编制, XX街道办事处根据…编制本报告, a unit
  that speaks of itself as 本镇/本街道), else the place the body keeps naming.
A township or street office is never its county's government: the unit is the issuer, with the county's
name in front when the report prints it apart from the unit (二行标题, the body, the site hint).
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
# "平潭综合实验区2019年度政府信息公开工作年度报告", "2019年上海市人民政府办公厅政府信息公开工作年度报告",
# "遂昌县人民政府关于2021年度政府信息公开工作的年度报告", "现将《城关镇2022年…报告》公布";
# not the reports named inside a notice's title (…关于编制公布2021年政府信息公开工作年度报告有关事项的通知).
_TITLE = re.compile(
    rf"(?:^|(?<=[\s:：|>】\]《]))(?P<pre>{_NOT_NAME}{{0,40}}?)(?P<year>(?:19|20)\d\d)年度?"
    rf"(?P<post>{_NOT_NAME}{{0,40}}?)(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:情况)?的?(?:年度)?(?:工作)?报告"
    r"(?!有关|格式|的|编制|发布|工作|要求)"
)
_NOTICE_WORDS = re.compile(r"印发|通知|转发|编制|公布|做好|关于做|报送")
_YEAR_LINE = re.compile(r"^(?:19|20)\d\d年度?$")
# A line that is only an agency, unit or place name (the first line of a two-line title: 淮安市人民政府 /
# 2024年…, 某某县 / 某某镇2022年…, 某某街道办事处 / 2022年…).
_ORG_LINE = re.compile(
    r"^[\u4e00-\u9fff()]{2,30}(?:政府|委员会|管委会|局|厅|办公室|委|院|署|中心|省|市|县|区|州|旗|盟|镇|乡|街道|"
    r"办事处|苏木)$"
)
# "统计期限为2021年1月1日", "统计时限为 2022 年", "统计周期为 2024 年 1 月"
_PERIOD_YEAR = re.compile(
    r"统计(?:期限|时限|周期|时间|期间|区间|范围|时段)[^\d。]{0,8}?([12]\s*[09]\s*\d\s*\d)\s*年"
)
# Spaces PDF extraction puts around digits: "2024 年", "淮安市人民政府 2024 年".
_DIGIT_SPACE = re.compile(r"(?<=\d)\s+(?=[\d年])|(?<=[^\x00-\x7f])[ \t\u3000]+(?=\d)")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])")
# Who compiled the report: "本报告由淮安市人民政府办公室根据…编制", "区管委会办公室编制完成了本报告",
# "市科委编制了 2024 年度…报告", "某某街道办事处根据《条例》要求编制本报告", "由某某镇人民政府负责编制".
_COMPILED_BY = re.compile(
    r"(?:报告|[，,])由(?P<a>[\u4e00-\u9fff()]{2,30}?)(?:根据|依据|按照|依照|负责|编制|组织)"
    r"|(?:^|(?<=[。；;！？\n，,]))(?P<c>[\u4e00-\u9fff()]{2,30}?)(?:根据|依据|按照|依照)[^。\n]{0,80}?编制(?:完成)?了?"
    r"(?:本|此|该)?(?:年度)?报告"
    r"|(?P<b>[\u4e00-\u9fff()]{2,30}?)编制(?:完成)?了?[^。,，\n]{0,20}?报告"
)
_ORG_END = re.compile(
    r"(?:政府|委员会|管委会|局|厅|办公室|室|委|院|署|中心|办|办事处|联合会|联合社|大队|支队|馆|所|站|会|队)$"
)
# A government's general office compiles the government's report.
_GOV_OFFICE = re.compile(r"(?:人民)?政府办(?:公室|公厅)?$")
_ZONE_OFFICE = re.compile(r"(?:管委会|管理委员会)办公室$")
_PREFECTURE_OFFICE = re.compile(r"行政公署办(?:公室)?$")  # 地区/盟 are governed by a 行政公署
_SELF_REF = re.compile(r"[我全本]([省市区县州旗盟])")

# Townships and street offices: 城关镇人民政府, 妙高街道办事处, 某某乡, 某某苏木.
_UNIT_END = re.compile(r"(?:镇|乡|苏木|街道)(?:人民政府|政府|办事处|办)?$")
_UNIT_SHORT = {"镇": "镇人民政府", "乡": "乡人民政府", "苏木": "苏木人民政府", "街道": "街道办事处"}
_UNIT_STEM = re.compile(r"^(?:镇|乡|苏木|街道)")
# A unit the body names in full, at the start of a sentence or after 由 (本报告由…编制): the issuer when the
# report speaks as the unit (本镇, 我街道) more than as its county.
_BODY_UNIT = re.compile(
    r"(?:^|(?<=[。；;！？\n，,：:由]))(?:(?:19|20)\d\d年度?[，,]?)?"
    r"(?P<u>[\u4e00-\u9fff]{2,24}?(?:镇人民政府|乡人民政府|苏木人民政府|街道办事处))"
)
_UNIT_VOICE = re.compile(r"[本我全](?:镇|乡|街道|苏木)")
_COUNTY_VOICE = re.compile(r"[本我全](?:县|区|市|旗)")

# Site chrome around a title (breadcrumbs, captions) and the words a crumb is made of.
_CRUMB_START = re.compile(r"^(?:(?:您)?(?:当前|现在)?(?:的)?(?:所在)?位置[:：]?\s*)?(?:网站首页|首页|主页)")
_CRUMB_SEP = re.compile(r"\s*(?:>|＞|»|›|→|/|\\)\s*")
_CHROME_WORDS = re.compile(
    r"^(?:(?:您)?(?:当前|现在)?(?:的)?(?:所在)?位置|网站首页|首页|主页|正文|政务公开|政府信息公开年报|"
    r"政府信息公开年度报告|政府信息公开专栏|政府信息公开|信息公开年报|信息公开|年度报告|公开年报|年报|"
    r"法定主动公开内容|部门信息公开|乡镇信息公开|详情|通知公告|[:：>＞»]+)"
)
_CHROME_LEAD = re.compile(r"^(?:正文|详情|[:：>＞»]|(?:您)?(?:当前|现在)?(?:的)?(?:所在)?位置)")
_CAPTION = re.compile(
    r"\s*(?:发布时间|发布日期|更新时间|时间|来源|信息来源|发布机构|浏览次数|点击数|阅读次数|字号|"
    r"【字体|字体|打印|分享到)\s*[:：]"
)

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

Line = tuple[int, str]  # (1-based line number, tidied text)


@dataclass(frozen=True)
class _Title:
    text: str
    name: str  # the agency, unit or place as printed (prefixes printed apart joined on); may be empty
    year: int
    line: int | str  # where: a line number, or "document title"
    line_text: str
    how: str


@dataclass(frozen=True)
class _Found:
    """A value and the line that decided it."""

    value: str
    line: int | str
    text: str
    how: str

    def evidence(self) -> dict:
        return {"line": self.line, "text": self.text[:_EVIDENCE_LEN], "how": self.how}


@lru_cache(maxsize=65536)
def _tidy(line: str) -> str:
    return _DIGIT_SPACE.sub("", line.strip())


# a line without any of these holds no chrome: most lines of a report (the check is cheaper than the strip)
_CHROME_HINT = re.compile(r"首页|主页|位置|正文|详情|[>＞»›→/\\:：]")


def strip_chrome(line: str) -> str:
    """A title line without the site's breadcrumb in front and its captions behind: "当前位置：首页 > 政务公开
    > 政府信息公开年报 > X" -> "X"; "正文 X" -> "X"; "X 发布时间：2023-01-02 浏览次数：33" -> "X"."""
    line = line.strip()
    if _CRUMB_START.match(line) or len(_CRUMB_SEP.findall(line)) >= 2:
        parts = _CRUMB_SEP.split(line)
        if len(parts) > 1:
            line = parts[-1]
    prev = None
    # crumb words glued without separators: 首页政务公开政府信息公开年报X (a line that is only 年度报告 is
    # the end of a wrapped title, not chrome)
    crumb = bool(_CRUMB_START.match(line) or _CHROME_LEAD.match(line))
    while crumb and prev != line:
        prev = line
        line = _CHROME_WORDS.sub("", line, count=1).lstrip()
    cut = _CAPTION.search(line)
    if cut and cut.start() > 0:
        line = line[: cut.start()]
    return line.strip()


def _title_in(line: str) -> re.Match[str] | None:
    for m in _TITLE.finditer(line):
        if _NOTICE_WORDS.search(m.group("pre") + m.group("post")):
            continue
        quoted = m.start("pre") > 0 and line[m.start("pre") - 1] == "《"
        if quoted and line[m.end() : m.end() + 1] != "》":  # a quoted notice, not the report's own title
            continue
        return m
    return None


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", "", name)
    prev = None
    while prev != name:
        prev = name
        name = _CHROME_WORDS.sub("", name, count=1)
    return re.sub(r"^关于|(?:关于|的)$", "", name)


def own_place(name: str) -> str:
    """The places a unit's name prints for itself: "遂昌县" of 遂昌县城关镇人民政府, "" of 城关镇人民政府 and of
    白沙镇人民政府 (白沙 is the town's own name there, though it is also a county's short form)."""
    chain = regions.place_chain(name)
    rest = regions.split_place(name)[1]
    if chain and _UNIT_STEM.match(rest):
        chain = chain[:-1]
    return "".join(chain)


def _is_unit(name: str) -> bool:
    return bool(_UNIT_END.search(name))


def _needs_place(name: str) -> bool:
    """A unit or department printed without any place of its own (城关镇人民政府, 财政局; not 市科委, whose
    市 is the place)."""
    if _is_unit(_expand(name)):
        return not own_place(name)
    if name[0] in "省市区县州旗盟" and not name.startswith(_NOT_IMPLIED):
        return False
    return not regions.split_place(name)[0]


def _place_of_line(line: str) -> str | None:
    """The place a line names on its own: "遂昌县" for "遂昌县" or "遂昌县人民政府"; None for anything else."""
    line = re.sub(r"\s+", "", line)
    place, rest = regions.split_place(line)
    if place and rest in ("", "人民政府", "政府"):
        return place
    return None


def _prefix_tokens(before: str) -> str:
    """Place names printed before the name on the title's own line, apart from it: "遂昌县 " -> "遂昌县"."""
    out = ""
    for tok in reversed(before.split()):
        place = _place_of_line(tok)
        if place is None:
            break
        out = place + out
    return out


def _find_title(lines: list[Line], where: str | None = None) -> _Title | None:
    """The first title: on one line, or broken over two or three (…工作 / 年度报告; 2022年度 / 政府信息公开…),
    with a name printed apart from it joined on (the line above: 淮安市人民政府 / 2024年…, 某某县 /
    某某镇2022年…; the same line: 某某县 某某镇人民政府 2022年…)."""
    clean = [(no, strip_chrome(t) if _CHROME_HINT.search(t) else t) for no, t in lines]
    clean = [(no, t) for no, t in clean if t]
    for i, (no, line) in enumerate(clean):
        if "公开" not in line and "年" not in line:
            continue
        flat = re.sub(r"\s+", "", line)
        if "公开" not in flat and not _YEAR_LINE.match(flat):
            continue
        following = [t for _, t in clean[i + 1 : i + 3]]
        cands = [line]
        if following:
            cands.append(line + following[0])
            if len(following) > 1 and _YEAR_LINE.match(flat):  # 2022年度 / 政府信息公开工作 / 年度报告
                cands.append(line + following[0] + following[1])
        if len(line) <= 60:  # a short line may be a letter-spaced title: 政 府 信 息 公 开
            cands.append(flat + (following[0] if following else ""))
            cands.insert(1, flat)
        for cand in cands:
            m = _title_in(cand)
            if m is None:
                continue
            if m.start("year") >= len(line) and not _clean_name(cand[m.start("pre") : len(line)]):
                break  # the title is the next line's (this one is chrome before it): found there
            name = _clean_name(m.group("pre") + m.group("post"))
            how = "title line"
            above = clean[i - 1][1] if i > 0 else ""
            same_line = _prefix_tokens(cand[: m.start("pre")])
            line_no, line_text = where or no, line
            if not name and i > 0 and _ORG_LINE.match(re.sub(r"\s+", "", above)):
                name, how = re.sub(r"\s+", "", above), f"the name on its own line above the title (line {no})"
                line_no, line_text = where or clean[i - 1][0], f"{above} / {line}"
            elif name and _needs_place(name):
                place = same_line or (_place_of_line(above) if above else None)
                if place:
                    where_from = "the same line" if same_line else f"the line above (line {clean[i - 1][0]})"
                    name, how = place + name, f"title line; the place printed apart on {where_from}"
                    if not same_line:
                        line_no, line_text = where or clean[i - 1][0], f"{above} / {line}"
            return _Title(
                text=cand[m.start() : m.end()],
                name=name,
                year=int(m.group("year")),
                line=line_no,
                line_text=line_text,
                how=how,
            )
    return None


def _numbered(text: str) -> list[Line]:
    return [(i + 1, t) for i, raw in enumerate(text.splitlines()) if (t := _tidy(raw))]


def _locate(lines: list[Line], needle: str) -> tuple[int | str, str]:
    """The first line holding `needle` (spaces ignored; a needle wrapped over lines by its first 8 chars)."""
    key = re.sub(r"\s+", "", needle)
    for probe in dict.fromkeys((key, key[:8], key[:4])):
        if not probe:
            break
        for no, t in lines:
            if probe in re.sub(r"\s+", "", t):
                return no, t
    return "body", needle


def _line_of(text: str, needle: str) -> tuple[int | str, str]:
    """The line of the whole text where `needle` (a sentence of its flattened text) starts, without
    numbering every line: its first characters found in the text as printed."""
    for probe in dict.fromkeys((needle[:12], needle[:6], needle[:3])):
        at = text.find(probe) if probe else -1
        if at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            return text.count("\n", 0, at) + 1, _tidy(text[start : end if end >= 0 else len(text)])
    return "body", needle


def _home_place(head: str, county: bool = False) -> str | None:
    """The place the body keeps naming, preferring the level it calls 我县/全市 (遂昌县 for 我县); with
    `county`, only county-level places (the county a township lies in)."""
    places = regions.find_places(head)
    if county:
        places = [p for p in places if regions.is_county(p)]
    counts = Counter(places)
    if not counts:
        return None
    refs = Counter(_SELF_REF.findall(head))
    if refs:
        level = refs.most_common(1)[0][0]
        same = {p: n for p, n in counts.items() if p.endswith(level)}
        if same:
            counts = Counter(same)
    return counts.most_common(1)[0][0]


def _compiled_by(flat: str) -> str | None:
    """The agency the body says compiled the report; a government's office stands for the government (it
    compiles the government's report), unless the body speaks as a department (本部门…) and never for a
    whole place (我县, 全县): then the report is the office's own."""
    for m in _COMPILED_BY.finditer(flat):
        org = m.group("a") or m.group("c") or m.group("b")
        org = re.sub(r"^(?:本报告|报告|本年度报告|现)", "", org)
        if _ORG_END.search(org) and len(org) >= 2:
            if _GOV_OFFICE.search(org) and _AGENCY_CUE.search(flat) and not _SELF_REF.search(flat):
                return org
            org = _ZONE_OFFICE.sub("管理委员会", org)
            org = _PREFECTURE_OFFICE.sub("行政公署", org)
            return _GOV_OFFICE.sub("人民政府", org)
    return None


def _body_unit(flat: str) -> str | None:
    """A township or street office the body names in full while it speaks as that unit (本镇, 我街道) at
    least as often as a county would (我县, 全区): a county's report may name its towns, but not as itself."""
    unit_voice = len(_UNIT_VOICE.findall(flat))
    if not unit_voice or unit_voice < len(_COUNTY_VOICE.findall(flat)):
        return None
    m = _BODY_UNIT.search(flat)
    return m.group("u") if m else None


def _place_before(flat: str, unit: str) -> str | None:
    """The places the text prints right before a unit's own name (遂昌县城关镇…), the longest run."""
    core = re.sub(r"(?:人民政府|政府|办事处|办)$", "", unit)
    best = None
    for m in re.finditer(re.escape(core), flat):
        window = flat[max(0, m.start() - 16) : m.start()]
        for k in range(len(window), 1, -1):
            cand = window[-k:]
            place, rest = regions.split_place(cand)
            if place and not rest:
                if best is None or len(cand) > len(best):
                    best = cand
                break
    return best


def _expand(name: str) -> str:
    """Full agency name from a title's short one: 上海市科委 -> 上海市科学技术委员会, 市政府 -> 市人民政府,
    城关镇 -> 城关镇人民政府, 妙高街道 -> 妙高街道办事处."""
    name = re.sub(r"(?<!人民)政府(?=办公厅|办公室|办$|$)", "人民政府", name)
    name = re.sub(r"人民政府办$", "人民政府办公室", name)
    name = re.sub(r"街道办$", "街道办事处", name)
    for short, full in _UNIT_SHORT.items():
        if name.endswith(short) and len(name) > len(short) + 1:
            return name[: -len(short)] + full
    for short, full in _ABBREVIATIONS.items():
        if name.endswith(short):
            return name[: -len(short)] + full
    return name


def _issuer(raw: str, head: str) -> str | None:
    name = _expand(re.sub(r"\s+", "", raw))
    if not name:
        return None
    if _is_unit(name):
        return name
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


def _scope(flat: str, issuer: str | None, title: _Title | None) -> tuple[str | None, str | None, str]:
    """(scope, its evidence sentence, how it was decided)."""
    if issuer and not _is_government(issuer):
        m = _AGENCY_CUE.search(flat)
        if m:
            return "agency", _sentence(flat, m.start(), m.end()), "an agency speaking of itself"
        return "agency", (title.text if title else issuer)[:_EVIDENCE_LEN], "the issuer is an agency"
    hits = [m for cue in _REGION_CUES if (m := cue.search(flat))]
    if hits:
        first = min(hits, key=lambda m: m.start())
        return "region", _sentence(flat, first.start(), first.end()), "counts for the whole jurisdiction"
    if issuer:
        why = "the issuer is a government; no counts for the whole jurisdiction (default)"
        return "government", (title.text if title else issuer)[:_EVIDENCE_LEN], why
    return None, None, ""


def _raw_issuer(lines: list[Line], head: str, flat: str, found: _Title | None) -> _Found | None:
    """The issuer's name as the report prints it, and where: the title, else the body."""
    org = _compiled_by(flat)
    if found and found.name:
        title = _Found(found.name, found.line, found.line_text, found.how)
        if (
            org
            and _needs_place(found.name)
            and org.endswith(_expand(found.name))
            and org != _expand(found.name)
        ):
            # 审计局2022年… compiled by 北京市审计局: the body prints the name the title shortened
            line, text = _locate(lines, org)
            return _Found(
                org, found.line, found.line_text, f"title line; its place from the body (line {line}: {org})"
            )
        if _place_of_line(found.name) is None:
            return title
        # a title that names only the place (the site's header, 某某县 / 2022年…) over a unit's report: the
        # unit the body names (本报告由某某镇人民政府编制, or a unit speaking as 本镇) is the issuer
        unit = org if org and _is_unit(org) else _body_unit(flat)
        if unit is None:
            return title
        place = _place_of_line(found.name) or ""
        name = unit if own_place(unit) else place + unit
        line, text = _locate(lines, unit)
        return _Found(name, line, text, f"the body names the unit ({unit}); the title names only {place}")
    if org:
        return _Found(org, *_locate(lines, org), "the body names who compiled the report")
    unit = _body_unit(flat)
    if unit:
        return _Found(unit, *_locate(lines, unit), "the body names the unit and speaks as it (本镇/本街道)")
    home = _home_place(head)
    if home:
        return _Found(home, *_locate(lines, home), "the place the body keeps naming")
    return None


def _with_parent(raw: _Found, flat: str, head: str, hint_place: str | None) -> _Found:
    """A township or street office printed without its county gets the county in front: the place the text
    prints before the unit's name elsewhere, else the county the body keeps naming, else the site hint."""
    name = _expand(re.sub(r"\s+", "", raw.value))
    if not _is_unit(name) or own_place(name):
        return raw
    before = _place_before(flat, name)
    if before:
        return _Found(before + name, raw.line, raw.text, raw.how + f"; county from the body ({before}{name})")
    home = _home_place(head, county=True)
    if home:
        return _Found(home + name, raw.line, raw.text, raw.how + f"; county the body keeps naming ({home})")
    if hint_place:
        return _Found(
            hint_place + name, raw.line, raw.text, raw.how + f"; county from the site hint ({hint_place})"
        )
    return raw


def _year(lines: list[Line], head: str, title: _Title | None) -> _Found | None:
    m = _PERIOD_YEAR.search(head)
    period = int(re.sub(r"\s", "", m.group(1))) if m else None
    if period is not None and 2000 <= period <= 2100:
        line, text = _locate(lines, m.group(0)[:8])
        how = "the 统计期限 sentence"
        if title and title.year != period:
            how += f" (the title says {title.year})"
        elif title:
            how += " and the title"
        return _Found(str(period), line, text, how)
    if title and 2000 <= title.year <= 2100:
        return _Found(str(title.year), title.line, title.line_text, "the title")
    return None


def _hint(hints: dict | None, key: str) -> str | None:
    v = (hints or {}).get(key)
    return str(v) if v not in (None, "") else None


def extract_metadata(text: str, title: str | None = None, hints: dict | None = None) -> Metadata:
    """Issuer, year, region and scope of one report, each with its evidence.

    `title` is the document's own title (HTML <title>, PDF metadata), used only when the text has no title
    line of its own: it is often generic or the site's name. `hints` are the fetch manifest's (issuer,
    adcode, year of the page a report was fetched from): evidence that fills what the text leaves open and
    settles an ambiguous region; when the text disagrees, the text wins and the evidence says so."""
    text = normalize(text)
    head = text[:_HEAD]
    lines = _numbered(head)
    flat = _flatten(head)
    found = _find_title(lines)
    if (found is None or not found.name) and title:
        found = _find_title(_numbered(normalize(title)), where="document title") or found
    evidence: dict[str, dict] = {}
    hint_code = _hint(hints, "adcode")
    site = regions.lookup(hint_code) if hint_code else None

    raw = _raw_issuer(lines, head, flat, found)
    if raw is not None:
        raw = _with_parent(raw, flat, head, site.name if site and site.level == "county" else None)
    issuer = _issuer(raw.value, head) if raw else None
    hint_issuer = _hint(hints, "issuer")
    if issuer:
        how = raw.how
        if hint_issuer and hint_issuer != issuer:
            how += f"; the hint says {hint_issuer}: the text wins"
        evidence["issuer"] = {**raw.evidence(), "how": how}
    elif hint_issuer:
        issuer = hint_issuer
        evidence["issuer"] = {
            "line": "hint",
            "text": hint_issuer,
            "how": "fetch manifest hint (no name in the text)",
        }

    year_found = _year(lines, head, found)
    hint_year = _hint(hints, "year")
    year = int(year_found.value) if year_found else None
    if year_found:
        how = year_found.how
        if hint_year and hint_year != year_found.value:
            how += f"; the hint says {hint_year}: the text wins"
        evidence["year"] = {**year_found.evidence(), "how": how}
    elif hint_year and hint_year.isdigit():
        year = int(hint_year)
        evidence["year"] = {
            "line": "hint",
            "text": hint_year,
            "how": "fetch manifest hint (no year in the text)",
        }

    meta = Metadata(issuer=issuer, year=year)
    region, note = regions.resolve(issuer, context=text, hint=hint_code) if issuer else (site, "")
    if issuer is None and site is not None:
        note = f"no issuer in the text; the site hint {hint_code}"
    meta.region_note = note or None
    if region is not None:
        meta.adcode, meta.city, meta.province = region.adcode, region.city, region.province
        if issuer and "site hint" in note and ("settled by" in note or "; the site hint" in note):
            where = {"line": "hint", "text": f"adcode {hint_code}", "how": note}
        elif issuer:
            line, line_text = evidence["issuer"]["line"], evidence["issuer"]["text"]
            if "the text prints" in note:
                printed = note.rsplit("the text prints ", 1)[1].split(";")[0]
                line, line_text = _line_of(text, printed)
            where = {"line": line, "text": line_text[:_EVIDENCE_LEN], "how": note}
        else:
            where = {"line": "hint", "text": f"adcode {hint_code}", "how": note}
        for f in ("adcode", "city", "province"):
            evidence[f] = where
    meta.scope, meta.scope_evidence, how = _scope(_flatten(text), issuer, found)
    if meta.scope:
        if how.endswith("(default)") or not meta.scope_evidence:
            evidence["scope"] = {"line": "default", "text": meta.scope_evidence or "", "how": how}
        else:
            line, line_text = _line_of(text, meta.scope_evidence)
            evidence["scope"] = {"line": line, "text": meta.scope_evidence, "how": how}
    meta.evidence = evidence
    return meta
