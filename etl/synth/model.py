"""Report specs for a national synthetic corpus: who reports, for which years, with which values and errors.

Streaming and deterministic: issuers are visited county by county in a seeded national order (each county
brings its city and province along on first visit, so a city's whole-jurisdiction report sits beside its
districts' own reports: the overlap real landing folders have), and each issuer's whole series of years is
generated from its own seeded random stream. Nothing but the current series is held in memory, and an
issuer's reports do not depend on how many others are generated.

Sampling density: every government reports; departments and townships join in waves of a hash band, so a
small corpus is a few dense counties across several provinces and a large one covers the country.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from etl.spec import APPLICANT_COLUMNS, codes
from etl.synth import checks, noise
from etl.synth import values as vals
from etl.synth.places import (
    Issuer,
    chain,
    fragment_counties,
    issuers,
    jurisdictions,
    leaves,
    n_issuers,
    stable_unit,
)
from etl.synth.violations import CLASSES, broken_carry, inject

FORMATS = ("html", "text", "glued", "pdf", "docx")
YEARS = tuple(range(2019, 2025))
F_MIN = 0.04  # least share of departments/townships per visited jurisdiction (small corpora stay varied)
_REGION_SHARE = {"province": 0.85, "city": 0.85, "county": 0.75}

Number = int | float


@dataclass(frozen=True)
class Config:
    seed: int = 0
    formats: tuple[str, ...] = FORMATS
    violation_rate: float = 0.05
    noise_rate: float = 0.3
    pin_series: bool = False  # the first county government: 2021-2023, carry-over broken in 2023
    layout_rate: float = 0.15  # reports printed in a layout class (etl.synth.noise.choose_layouts)
    # reports whose issuer is printed in a heading class (etl.synth.noise.HEADINGS); with any, the counties
    # whose names hold another prefecture's name (places.fragment_counties) are visited first
    heading_rate: float = 0.25


@dataclass
class ReportSpec:
    issuer: Issuer
    scope: str  # agency | government | region
    year: int
    file_format: str
    cells: dict[str, Number]  # every code of the template, as printed (violations included)
    units: dict[str, str]
    violations: list[dict]  # every rule the values break (etl.synth.checks)
    injected: str | None  # the violation class applied, if any
    noisy: bool
    seed: str  # the report's own random stream (rendering, noise)
    layouts: tuple[str, ...] = ()  # table layouts (etl.synth.noise): form_2021 is in the template already
    form: str | None = None  # the template printed, when not the year's (a 2020 report on the 2021 form)
    heading: str | None = None  # how the issuer is printed (etl.synth.noise.HEADINGS); None: a clean title

    @property
    def template(self) -> str:
        return self.form or template_of(self.year)

    @property
    def stem(self) -> str:
        return f"{self.issuer.key}-{self.year}"


def template_of(year: int) -> str:
    return "2019" if year < 2021 else "2021"


def _scope(issuer: Issuer, seed: int) -> str:
    if issuer.kind == "dept":
        return "agency"
    if issuer.kind == "town":
        return "government"
    region = stable_unit(seed, "scope", issuer.key) < _REGION_SHARE[issuer.level]
    return "region" if region else "government"


def _years(issuer: Issuer, seed: int) -> tuple[int, ...]:
    """Most issuers publish every year; some series are shorter (new bodies, pages lost to the crawl)."""
    if stable_unit(seed, "span", issuer.key) < 0.8:
        return YEARS
    length = 1 + int(stable_unit(seed, "len", issuer.key) * 5)
    start = YEARS[0] + int(stable_unit(seed, "start", issuer.key) * (len(YEARS) - length + 1))
    return tuple(range(start, start + length))


def series(issuer: Issuer, cfg: Config, pin: bool = False) -> Iterator[ReportSpec]:
    """One issuer's reports, oldest first; 二、上年结转 follows last year's printed 结转下年度."""
    rng = random.Random(f"{cfg.seed}/{issuer.key}")
    scope = _scope(issuer, cfg.seed)
    years = (2021, 2022, 2023) if pin else _years(issuer, cfg.seed)
    prof = vals.profile(issuer.level, issuer.kind, scope, issuer.dept)
    unit = "元" if rng.random() < 0.7 else "万元"
    makes_rules = issuer.kind == "gov" and issuer.level != "county" and not issuer.name.endswith("行政公署")
    stocks: dict[str, Number] = {}
    last: dict[str, int] | None = None
    for year, n_new in zip(years, vals.yearly_counts(prof, len(years), rng), strict=True):
        # layouts draw from their own stream, so a corpus without them (layout_rate 0) is byte-identical
        lrng = random.Random(f"{cfg.seed}/{issuer.key}/{year}/layouts")
        with_layouts = cfg.layout_rate > 0 and lrng.random() < cfg.layout_rate
        fmt = rng.choice(cfg.formats)
        # glued dumps go to small issuers (their digit runs stay splittable), unless only dumps are asked for
        if fmt == "glued" and prof.mu > 4 and len(cfg.formats) > 1:
            fmt = rng.choice([f for f in cfg.formats if f != "glued"])
        old_year_on_new_form = with_layouts and year < 2021 and fmt != "glued" and lrng.random() < 0.4
        form = "2021" if old_year_on_new_form else None
        template = form or template_of(year)
        cls = None
        if rng.random() < cfg.violation_rate:
            cls = rng.choice(CLASSES if last else CLASSES[:-1])
        if pin and year == years[-1]:
            cls = "carry_over"
        carried = broken_carry(last, rng) if cls == "carry_over" and last else last
        small = fmt == "glued"
        t3 = vals.t3_values(template, min(n_new, 12) if small else n_new, carried, rng)
        t4 = vals.t4_values(prof, t3["t3.new_received.total"], rng, small)
        t2, stocks = vals.t2_values(template, issuer.kind, issuer.level, prof, stocks, rng, unit, makes_rules)
        merged = {**t2, **t3, **t4}
        values = {code: merged[code] for code in codes(template)}
        if cls and cls != "carry_over":
            inject(cls, template, values, rng)
        units = {"t2.fees.amount": "万元"} if template == "2021" else {"t2.procurement.amount": unit}
        layouts = noise.choose_layouts(fmt, issuer.kind, cls is not None, lrng) if with_layouts else ()
        # the heading class from a stream of its own too (a corpus without headings is unchanged)
        hrng = random.Random(f"{cfg.seed}/{issuer.key}/{year}/heading")
        with_heading = cfg.heading_rate > 0 and hrng.random() < cfg.heading_rate
        heading = noise.choose_heading(fmt, issuer.kind, hrng) if with_heading else None
        yield ReportSpec(
            issuer=issuer,
            scope=scope,
            year=year,
            file_format=fmt,
            cells=values,
            units=units,
            violations=checks.check(template, values, last),
            injected=cls,
            noisy=rng.random() < cfg.noise_rate,
            seed=f"{cfg.seed}/{issuer.key}/{year}/{rng.getrandbits(32)}",
            layouts=(*layouts, *(("form_2021",) if form else ())),
            form=form,
            heading=heading,
        )
        last = {c: int(values[f"t3.carried_forward.{c}"]) for c in APPLICANT_COLUMNS}


@cache
def pool_sizes() -> tuple[float, float]:
    """Expected (government reports, department and township reports) in the whole country."""
    per_issuer = 0.8 * len(YEARS) + 0.2 * 3  # _years: full series, or 1-5 years
    js = jurisdictions().values()
    return len(js) * per_issuer, sum(n_issuers(j) - 1 for j in js) * per_issuer


def density(n: int) -> float:
    gov, rest = pool_sizes()
    return min(1.0, max(F_MIN, (n - gov) / rest * 1.02))


def iter_reports(n: int, cfg: Config) -> Iterator[ReportSpec]:
    """The first n reports of the national stream for cfg.seed (fewer if n exceeds the country's pool)."""
    order = list(leaves())
    random.Random(cfg.seed).shuffle(order)
    if cfg.heading_rate > 0:  # names that trap a fragment-matching resolver: always in the corpus
        traps = set(fragment_counties())
        order = [c for c in order if c in traps] + [c for c in order if c not in traps]
    f = density(n)
    count = 0
    pinned = not cfg.pin_series
    for wave in range(math.ceil(1 / f)):
        seen: set[str] = set()
        for leaf in order:
            for j in chain(leaf):
                if j.adcode in seen:
                    continue
                seen.add(j.adcode)
                for iss in issuers(j):
                    if iss.kind == "gov":
                        if wave:
                            continue
                    elif int(stable_unit(cfg.seed, "pick", iss.key) / f) != wave:
                        continue
                    pin = not pinned and iss.kind == "gov" and iss.level == "county"
                    pinned = pinned or pin
                    for spec in series(iss, cfg, pin=pin):
                        yield spec
                        count += 1
                        if count >= n:
                            return


# Formats the heading classes are printed in (a glued dump's header always prints the clean title).
HEADING_FORMATS = ("text", "html", "pdf", "docx")


def heading_sweep(cfg: Config, n_counties: int = 12) -> Iterator[ReportSpec]:
    """Every heading class (etl.synth.noise.HEADINGS, and none) on every issuer kind, for the counties whose
    names trap a fragment-matching resolver (places.fragment_counties) and `n_counties` others. Per county:
    its government (the parent), two departments and three townships or street offices, all for one year
    the government reports (units inside a county whose parent reports the same year), the formats taken
    in turn. For tests and `make accuracy`: the metadata classes on a small known set, labelled as the
    corpus writer labels them."""
    from dataclasses import replace

    plain = replace(cfg, heading_rate=0.0, layout_rate=0.0)
    traps = fragment_counties()
    others = [c for c in leaves() if c not in set(traps) and jurisdictions()[c].level == "county"]
    random.Random(cfg.seed).shuffle(others)
    turn = 0
    for code in (*traps, *others[:n_counties]):
        pool = issuers(jurisdictions()[code])
        depts = [i for i in pool if i.kind == "dept"][:2]
        towns = [i for i in pool if i.kind == "town"][:3]
        gov = list(series(pool[0], plain))
        year = gov[int(stable_unit(cfg.seed, "sweep", code) * len(gov))].year
        for iss in (pool[0], *depts, *towns):
            reports = list(series(iss, plain))
            spec = next((s for s in reports if s.year == year), reports[0])
            for heading in (None, *noise.HEADINGS):
                fmts = [
                    f
                    for f in HEADING_FORMATS
                    if heading is None or heading in noise.heading_classes(f, iss.kind)
                ]
                if fmts:
                    yield replace(spec, heading=heading, file_format=fmts[turn % len(fmts)])
                    turn += 1
