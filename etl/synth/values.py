"""Cell values that satisfy every table rule: counts are drawn per applicant column and outcome row, and every
total is computed from its parts, so the identities hold by construction.

Magnitudes follow the issuer: most cells 0, a township a handful of applications a year, a city's
whole-jurisdiction report thousands. `small` caps 表三/表四 at mostly single-digit cells (glued crawler dumps,
whose digit runs must stay splittable).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, t3_outcome_rows

Number = int | float
APPLICANTS = tuple(c for c in APPLICANT_COLUMNS if c != "total")
_APPLICANT_WEIGHTS = (0.9, 0.06, 0.004, 0.004, 0.015, 0.017)
# Base shares of the outcome rows (予以公开 and 本机关不掌握 dominate real reports).
_OUTCOME_WEIGHTS = {
    "granted": 0.34,
    "partially_granted": 0.08,
    "denied_state_secret": 0.003,
    "denied_prohibited_by_law": 0.01,
    "denied_three_security_one_stability": 0.003,
    "denied_third_party_rights": 0.01,
    "denied_internal_affairs": 0.01,
    "denied_process_information": 0.015,
    "denied_enforcement_file": 0.008,
    "denied_administrative_query": 0.02,
    "unable_not_held": 0.25,
    "unable_needs_creation": 0.03,
    "unable_still_unclear": 0.02,
    "not_processed_petition": 0.04,
    "not_processed_duplicate": 0.02,
    "not_processed_publication": 0.004,
    "not_processed_mass_repeated": 0.004,
    "not_processed_confirm_existing": 0.01,
    "other": 0.07,
    "other_no_correction": 0.04,
    "other_no_fee": 0.002,
    "other_other": 0.03,
}
_T4_WEIGHTS = (0.55, 0.1, 0.25, 0.1)  # 维持, 纠正, 其他, 尚未审结
# Departments that get many more applications than the rest (land, housing, police, markets).
_BUSY_DEPTS = {"自然资源": 3.0, "住房": 2.0, "公安": 2.0, "人力资源": 1.5, "市场监督": 1.5, "规划": 2.0}


@dataclass(frozen=True)
class Profile:
    """How big an issuer is: log-mean and spread of yearly applications, chance of none at all, and a factor
    for the 表二 counts (licences, penalties)."""

    mu: float
    sigma: float
    p_zero: float
    activity: float


def profile(level: str, kind: str, scope: str, dept: str | None) -> Profile:
    if kind == "town":
        return Profile(0.3, 0.9, 0.45, 0.3)
    if kind == "dept":
        base = {"province": 3.4, "city": 2.2, "county": 1.1}[level]
        boost = next((f for k, f in _BUSY_DEPTS.items() if dept and k in dept), 1.0)
        return Profile(base + math.log(boost), 1.1, 0.25 if level == "county" else 0.1, 1.0)
    base = {"province": 5.0, "city": 3.5, "county": 2.3}[level]
    if scope == "region":
        base += {"province": 3.0, "city": 2.8, "county": 2.0}[level]
    return Profile(base, 0.7, 0.0, 10.0 if scope == "region" else 2.0)


def split(n: int, weights: tuple[float, ...], rng: random.Random) -> list[int]:
    """n items over len(weights) categories, multinomial-like; exact for small n, proportional + random rest
    for large n (cheap at national scale)."""
    k = len(weights)
    if n <= 0:
        return [0] * k
    if n <= 200:
        counts = Counter(rng.choices(range(k), weights, k=n))
        return [counts[i] for i in range(k)]
    total = sum(weights)
    out = [int(n * w / total) for w in weights]
    for i in rng.choices(range(k), weights, k=n - sum(out)):
        out[i] += 1
    return out


def _binomial(n: int, p: float, rng: random.Random) -> int:
    if n <= 100:
        return sum(rng.random() < p for _ in range(n))
    return max(0, min(n, round(n * p + rng.gauss(0, math.sqrt(n * p * (1 - p))))))


def yearly_counts(prof: Profile, years: int, rng: random.Random) -> list[int]:
    """New applications per year for one issuer: a level of its own, modest swings around it (a body that
    gets 300 applications one year does not get 3 or 3,000 the next)."""
    level = rng.gauss(prof.mu, prof.sigma)
    return [
        0 if rng.random() < prof.p_zero else int(math.exp(level + rng.gauss(0, 0.25))) for _ in range(years)
    ]


@dataclass
class Carry:
    """What one year hands the next for the same issuer: 表三 结转 per column and running 表二 stocks."""

    forward: dict[str, int] = field(default_factory=dict)  # applicant column -> 四、结转下年度继续办理
    stocks: dict[str, Number] = field(default_factory=dict)


def t3_values(
    template: str, n_new: int, carried: dict[str, int] | None, rng: random.Random
) -> dict[str, int]:
    """表三 with every row total, column total and balance exact."""
    rows = t3_outcome_rows(template)
    jitter = tuple(w * rng.gammavariate(4.0, 0.25) for w in _APPLICANT_WEIGHTS)
    new = dict(zip(APPLICANTS, split(n_new, jitter, rng), strict=True))
    if carried is None:  # first report of a series: some backlog from a year we do not have
        carried = {c: _binomial(new[c], 0.05, rng) if rng.random() < 0.4 else 0 for c in APPLICANTS}
    rate = rng.random() * 0.08 if rng.random() < 0.5 else 0.0
    weights = tuple(_OUTCOME_WEIGHTS[r] * rng.gammavariate(1.5, 1 / 1.5) for r in rows)
    out: dict[str, int] = {}
    for c in APPLICANTS:
        available = new[c] + carried[c]
        forward = _binomial(available, rate, rng)
        out[f"t3.new_received.{c}"] = new[c]
        out[f"t3.carried_over.{c}"] = carried[c]
        out[f"t3.carried_forward.{c}"] = forward
        for r, v in zip(rows, split(available - forward, weights, rng), strict=True):
            out[f"t3.{r}.{c}"] = v
        out[f"t3.total.{c}"] = available - forward
    return fill_t3_totals(template, out)


def fill_t3_totals(template: str, out: dict[str, int]) -> dict[str, int]:
    rows = ("new_received", "carried_over", *t3_outcome_rows(template), "total", "carried_forward")
    for r in rows:
        out[f"t3.{r}.total"] = sum(out[f"t3.{r}.{c}"] for c in APPLICANTS)
    return out


def t4_values(prof: Profile, n_apps: int, rng: random.Random, small: bool) -> dict[str, int]:
    """表四: each block's 总计 is the sum of its four results."""
    rate = rng.random() * (0.12 if prof.activity >= 10 else 0.05) if rng.random() < 0.6 else 0.0
    review = _binomial(n_apps, rate, rng)
    sizes = {
        "review": review,
        "litigation_direct": _binomial(n_apps, rate * 0.4, rng),
        "litigation_after_review": _binomial(review, 0.3, rng),
    }
    out: dict[str, int] = {}
    for block in T4_BLOCKS:
        n = min(sizes[block], 8) if small else sizes[block]
        parts = split(n, _T4_WEIGHTS, rng)
        for col, v in zip(T4_COLUMNS[:-1], parts, strict=True):
            out[f"t4.{block}.{col}"] = v
        out[f"t4.{block}.total"] = sum(parts)
    return out


def _amount(rng: random.Random, scale: float) -> Number:
    """A money amount: a whole number or two decimals, as printed."""
    cents = int(math.exp(rng.gauss(math.log(max(scale, 1.0)), 1.2)) * 100)
    if rng.random() < 0.5:
        return cents // 100
    return cents / 100 if cents % 100 else cents // 100


def _count(rng: random.Random, scale: float, p_zero: float = 0.3) -> int:
    if scale <= 0 or rng.random() < p_zero:
        return 0
    return int(math.exp(rng.gauss(math.log(scale), 1.0)))


def t2_values(
    template: str,
    kind: str,
    level: str,
    prof: Profile,
    stocks: dict[str, Number],
    rng: random.Random,
    procurement_unit: str = "元",
    makes_rules: bool = False,
) -> tuple[dict[str, Number], dict[str, Number]]:
    """表二 and the stocks carried to next year (现行有效件数, 上一年项目数量 follow from last year).
    makes_rules: the issuer may make 规章 (provincial and 设区的市 governments only)."""
    a = prof.activity
    regs = 3.0 if makes_rules else 0.0
    docs = {"gov": 15.0, "dept": 3.0, "town": 0.5}[kind] * (2 if level != "county" else 1)
    out: dict[str, Number] = {}
    new_stocks = dict(stocks)
    if template == "2021":
        for row, scale in (("regulation", regs), ("normative_document", docs)):
            issued, repealed = _count(rng, scale), _count(rng, scale / 3, 0.6)
            base = stocks.get(row)
            start = base if base is not None else _count(rng, scale * 8, 0.1 if scale else 1.0)
            repealed = min(repealed, int(start) + issued)
            out[f"t2.{row}.issued"], out[f"t2.{row}.repealed"] = issued, repealed
            out[f"t2.{row}.in_force"] = new_stocks[row] = int(start) + issued - repealed
        out["t2.licensing.decisions"] = _count(rng, 300 * a, 0.4)
        out["t2.penalty.decisions"] = _count(rng, 200 * a, 0.4)
        out["t2.coercion.decisions"] = _count(rng, 10 * a, 0.6)
        out["t2.fees.amount"] = _amount(rng, 50 * a) if rng.random() < 0.5 else 0
        return out, new_stocks
    for row, scale in (("regulation", regs), ("normative_document", docs)):
        produced = _count(rng, scale)
        published = produced if rng.random() < 0.8 else _count(rng, scale)
        total = stocks.get(row)
        total = int(total) + published if total is not None else published + _count(rng, scale * 8, 0.2)
        out[f"t2.{row}.produced"], out[f"t2.{row}.published"] = produced, published
        out[f"t2.{row}.published_total"] = new_stocks[row] = total
    for row, scale in (
        ("licensing", 30 * a),
        ("other_management_service", 10 * a),
        ("penalty", 40 * a),
        ("coercion", 5 * a),
        ("fees", 5 * a),
    ):
        last = stocks.get(row)
        last = int(last) if last is not None else _count(rng, scale / 10, 0.4)
        change = rng.randint(-min(int(last), 5), 5) if rng.random() < 0.4 else 0
        out[f"t2.{row}.items_last_year"], out[f"t2.{row}.items_change"] = last, change
        new_stocks[row] = last + change
        if row != "fees":
            out[f"t2.{row}.decisions"] = _count(rng, scale * 8, 0.4)
    out["t2.procurement.projects"] = _count(rng, 5 * a, 0.5)
    scale = 2e5 * a if procurement_unit == "元" else 20 * a
    out["t2.procurement.amount"] = _amount(rng, scale) if out["t2.procurement.projects"] else 0
    return out, new_stocks
