"""Who may make 规章 (立法法 art. 93): the people's governments of provinces and of 设区的市 / 自治州.

Decided from what the reports table already knows (scope, adcode): an agency (a department, an office)
cannot, nor can a county-level government or a 地区行政公署 / 盟. Unknown (no scope or no adcode, an adcode
outside the division table) stays unknown: the rule is then silent rather than guessing.
"""

from __future__ import annotations

import math

import pandas as pd

from etl.regions import lookup

_NO_POWER_PREFECTURES = ("地区", "盟")  # prefecture-level, but run by a 行政公署 / 盟 office, not a 设区的市


def regulation_power(scope: str | None, adcode: str | None) -> float:
    """1.0 if the issuer can make 规章, 0.0 if it cannot, NaN if the report does not tell."""
    if not isinstance(scope, str) or not isinstance(adcode, str):
        return math.nan
    if scope == "agency":
        return 0.0
    region = lookup(adcode)
    if region is None:
        return math.nan
    if region.level == "province":
        return 1.0
    if region.level == "city":
        return 0.0 if region.name.endswith(_NO_POWER_PREFECTURES) else 1.0
    return 0.0


def regulation_powers(scope: pd.Series, adcode: pd.Series) -> pd.Series:
    """regulation_power per row, computed once per distinct (scope, adcode)."""

    def plain(s: pd.Series) -> list:
        return s.astype(object).where(s.notna(), None).tolist()  # None, not NaN: hashable and equal to itself

    keys = pd.Series(list(zip(plain(scope), plain(adcode), strict=True)), index=scope.index, dtype=object)
    powers = {k: regulation_power(*k) for k in keys.unique()}
    return keys.map(powers).astype("float64")
