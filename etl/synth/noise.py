"""How a report prints its values and labels: clean, or with the noise seen in real reports.

The catalogue: SEO spam injected into cells and headers, "00" for 0, zeros printed blank / "/" / "-" / "—" /
"无" (listed in the label's blank_cells, value 0), full-width digits, label typos, "1、" numbering instead of
"1.", notes inside cells ("22（其中修订16件）" = 22). Values in the label never change: noise is printing only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from etl.synth.checks import sum_rules

SPAM = "365bet提款规则_365bet中国客服电话_怎样获得免费office365"
BLANK_MARKS = ("", "/", "-", "—", "无")
# Official label fragment -> a misprint of it seen in (or typical of) real reports.
TYPOS = {
    "其他法律行政法规禁止公开": "其他法律行政止公开",
    "本机关不掌握相关政府信息": "本机关不掌握相关政府信",
    "要求行政机关确认或重新出具已获取信息": "要求行政机关确认或重新出具已获取的信息",
    "没有现成信息需要另行制作": "没有现成信息需另行制作",
    "政府信息公开行政复议、行政诉讼情况": "政府信息公开行政法复议、行政诉讼情况",
    "补正后申请内容仍不明确": "补正后申请内容仍不明晰",
}
KINDS = ("spam", "double_zero", "blank", "fullwidth", "typo", "numbering", "cell_note")
# Glued crawler dumps lose cell boundaries: noise that adds or removes characters between digits would change
# what the digit runs say, so only noise outside the digit runs is used there.
GLUED_KINDS = ("spam", "fullwidth", "typo", "numbering")
_FULLWIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９．－")

Number = int | float

# Layouts real reports print their tables in (beside the cell noise above): each changes how the tables are
# laid out, never a value the label holds. Which formats draw which (etl.synth.layout, etl.synth.render.text):
# - note_cells: counts with a note inside their cell, spaced as printed "22（其中修订 16 件）", or a unit "3件";
# - t2_items: 表二 rows labelled only by their 第二十条 item ("第二十条第（一）项"), in the template's order;
# - t2_order: 表二 sections and rows printed in another order;
# - t4_blocks: 表四 printed one labelled row per block (行政复议 / 未经复议直接起诉 / 复议后起诉);
# - missing_rows: a department report without whole 表二 or 表四 rows (null, not zero: quarantined incomplete);
# - no_labels: an extract that drops 表三's headers and row labels (numbers only, in template order);
# - page_break: a table split across pages: a page footer and the repeated header row inside 表三;
# - two_years: last year's tables printed too, before or after this year's, each under its year heading;
# - stacked: tables printed one cell per line, a bare "|" line for each blank cell;
# - form_2021: a 2019/2020 report printed on the 2021 form (chosen in etl.synth.model: it is the template).
GRID_LAYOUTS = ("note_cells", "t2_items", "t2_order", "t4_blocks", "missing_rows")
TEXT_LAYOUTS = (*GRID_LAYOUTS, "no_labels", "page_break", "two_years", "stacked")
LAYOUT_FORMATS = {"text": TEXT_LAYOUTS, "html": GRID_LAYOUTS}
# layouts that change which cells can be read: only on reports without labelled violations, so that what a
# report is quarantined for stays what its label says
_READ_CHANGING = ("missing_rows", "no_labels")


def choose_layouts(fmt: str, kind: str, violations: bool, rng: random.Random) -> tuple[str, ...]:
    """One or two layouts for a report in format `fmt` from issuer kind `kind` (form_2021 aside)."""
    pool = [
        k
        for k in LAYOUT_FORMATS.get(fmt, ())
        if not (violations and k in _READ_CHANGING) and (k != "missing_rows" or kind == "dept")
    ]
    if not pool:
        return ()
    picked = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))
    if "missing_rows" in picked and "t2_items" in picked:  # rows known only by their item and some gone:
        picked.remove("t2_items")  # which is which would be unknown (left null as undecided, not missing)
    if "stacked" in picked:  # one cell per line: the other text layouts are about rows
        picked = [k for k in picked if k not in ("no_labels", "page_break", "two_years")]
    return tuple(sorted(picked, key=TEXT_LAYOUTS.index))


# Headings real reports print who issued them in (issue 10 part 3), beside the tables' layouts: each changes
# where and how the issuer and year are printed, never the label (etl.synth.narrative.heading_blocks):
# - crumb: the site's breadcrumb and captions glued onto the title or on lines around it (首页 > 政务公开 >
#   政府信息公开年报 > …, 正文, 来源：<the county's government>, 发布时间：…, 浏览次数：…);
# - two_line: the title over two or three lines (place / unit+year, unit / year, unit / 2022年度 / 政府信息…);
# - after_county: a township's or department's name printed after its county's, apart (某某县 某某镇人民政府 2022年…);
# - unit_bare: a township or department titled by its own name only (城关镇2022年…), the county in the body;
# - body_only: no title line: the unit named only in the body (本报告由…编制, …根据《条例》要求编制本报告,
#   the 统计期限 sentence, or a unit speaking as 本镇/本街道);
# - year_first: the year before the issuer (2022年度 某某镇人民政府 政府信息公开…), or 关于2021年度…的年度报告;
# - quoted: no title line; the title quoted in the opening sentence (现将《…年度报告》予以公布).
# Reports of units (townships, street offices, departments) also quote their county's notice on the report
# (《某某县人民政府办公室关于做好2022年度政府信息公开工作年度报告编制发布工作的通知》): the parent's name and a
# year beside 年度报告, which must not become the issuer.
HEADINGS = ("crumb", "two_line", "after_county", "unit_bare", "body_only", "year_first", "quoted")
_UNIT_HEADINGS = ("after_county", "unit_bare")  # a county printed apart from its unit's name
# formats whose body carries the heading (a glued dump's header always prints the clean title; an HTML page
# without a title line still has its <title>, so title-less headings go to the other formats)
_HEADING_FORMATS = {
    "text": HEADINGS,
    "pdf": HEADINGS,
    "docx": HEADINGS,
    "html": ("crumb", "two_line", "after_county", "unit_bare", "year_first"),
}


def heading_classes(fmt: str, kind: str) -> tuple[str, ...]:
    """The heading classes a report in format `fmt` from an issuer of kind `kind` (gov | dept | town) may
    be printed in: a government has no county printed apart from its name."""
    return tuple(h for h in _HEADING_FORMATS.get(fmt, ()) if kind != "gov" or h not in _UNIT_HEADINGS)


def choose_heading(fmt: str, kind: str, rng: random.Random) -> str | None:
    """One heading class for a report in format `fmt` from an issuer of kind `kind`."""
    pool = heading_classes(fmt, kind)
    return rng.choice(pool) if pool else None


def fmt_value(v: Number) -> str:
    return str(v)


@dataclass
class Printed:
    """The printed text of every cell and the label variants of one report."""

    text: dict[str, str]
    blank: list[str] = field(default_factory=list)
    typos: dict[str, str] = field(default_factory=dict)
    numbering: str = "."
    spam_headers: set[str] = field(default_factory=set)  # t2.section.<i>, t3.header
    kinds: list[str] = field(default_factory=list)
    layouts: tuple[str, ...] = ()  # table layouts (choose_layouts)
    missing: list[str] = field(default_factory=list)  # cells of rows the tables do not print (missing_rows)
    last_year: dict[str, str] = field(default_factory=dict)  # two_years: last year's printed cells
    rng_seed: str = (
        ""  # the layouts' own random stream (never the noise's: a sample without layouts is unchanged)
    )

    def label(self, text: str) -> str:
        """An official label as this report prints it."""
        for official, typo in self.typos.items():
            text = text.replace(official, typo)
        if self.numbering != ".":
            text = _renumber(text, self.numbering)
        return text


def _renumber(text: str, mark: str) -> str:
    # "1.属于国家秘密" -> "1、属于国家秘密"; only a leading item number, never a decimal inside a label
    if len(text) > 2 and text[0].isdigit() and text[1] == ".":
        return text[0] + mark + text[2:]
    return text


def clean(values: dict[str, Number], units: dict[str, str]) -> Printed:
    text = {code: fmt_value(v) for code, v in values.items()}
    if "t2.procurement.amount" in text:  # printed with its unit, as real 2019 tables do: 251000元
        text["t2.procurement.amount"] += units.get("t2.procurement.amount", "")
    return Printed(text=text)


def _totals_of_nonzero_parts(values: dict[str, Number]) -> set[str]:
    out: set[str] = set()
    for template in ("2021", "2019"):
        for _, parts, totals in sum_rules(template):
            if (
                len(totals) == 1
                and all(c in values for c in (*parts, *totals))
                and any(values[p] for p in parts)
            ):
                out.add(totals[0])
    return out


def apply(
    values: dict[str, Number], units: dict[str, str], rng: random.Random, glued: bool = False
) -> Printed:
    """Print the values with 1-3 noise kinds from the catalogue (for a glued dump: only GLUED_KINDS, and spam
    only in headers)."""
    kinds = GLUED_KINDS if glued else KINDS
    out = clean(values, units)
    chosen = rng.sample(kinds, k=min(len(kinds), rng.choice((1, 1, 2, 3))))
    out.kinds = sorted(chosen, key=KINDS.index)
    touched: set[str] = set()
    # a total printed blank beside non-zero parts reads as left unfilled (the pipeline derives it from its
    # parts), not as 0: only zeros that are not such totals may print blank
    unfilled = _totals_of_nonzero_parts(values)
    zeros = [c for c, v in values.items() if v == 0 and not c.startswith("t2.")]
    blankable = [c for c in zeros if c not in unfilled]
    for kind in out.kinds:
        if kind == "spam":
            where = rng.choice(
                ("t2.section.1", "t3.header") if glued else ("t2.section.1", "t3.header", "cell")
            )
            if where == "cell":
                code = rng.choice([c for c in values if c.startswith("t3.") and c not in touched])
                out.text[code] += " " + SPAM  # glued to a digit, the value could not be read back
                touched.add(code)
            else:
                out.spam_headers.add(where)
        elif kind == "double_zero":
            for code in rng.sample(zeros, k=min(len(zeros), rng.randint(1, 3))):
                if code not in touched:
                    out.text[code] = "00"
                    touched.add(code)
        elif kind == "blank":
            every = rng.random() < 0.4
            picked = blankable if every else rng.sample(blankable, k=min(len(blankable), rng.randint(1, 6)))
            mark = rng.choice(BLANK_MARKS)
            for code in picked:
                if code in touched:
                    continue
                out.text[code] = mark if every else rng.choice(BLANK_MARKS)
                out.blank.append(code)
                touched.add(code)
        elif kind == "fullwidth":
            codes = list(values) if rng.random() < 0.5 else rng.sample(list(values), k=8)
            for code in codes:
                if code not in touched:
                    out.text[code] = out.text[code].translate(_FULLWIDTH)
        elif kind == "typo":
            for official in rng.sample(sorted(TYPOS), k=rng.randint(1, 2)):
                out.typos[official] = TYPOS[official]
        elif kind == "numbering":
            out.numbering = "、"
        elif kind == "cell_note":
            counts = [
                c
                for c, v in values.items()
                if c.startswith("t2.")
                and isinstance(v, int)
                and v >= 2
                and c not in touched
                and not c.endswith((".items_change", ".amount"))
            ]
            for code in rng.sample(counts, k=min(len(counts), rng.randint(1, 2))):
                v = int(values[code])
                note = rng.choice(("其中修订{}件", "含上级转办{}件", "其中新增{}件"))
                out.text[code] = f"{out.text[code]}（{note.format(rng.randint(1, v - 1))}）"
                touched.add(code)
    out.blank.sort(key=list(values).index)
    return out


def apply_layouts(
    p: Printed, values: dict[str, Number], layouts: tuple[str, ...], rng: random.Random
) -> None:
    """The printing side of the layouts: notes and units in cells, the rows a department leaves out, last
    year's figures. Layout transforms of the grids themselves are in etl.synth.layout.grids."""
    p.layouts = layouts
    if "note_cells" in layouts:
        counts = [
            c
            for c, v in values.items()
            if c.startswith(("t2.", "t4."))
            and isinstance(v, int)
            and v >= 0
            and not c.endswith((".items_change", ".amount", ".items_last_year"))
            and p.text[c] == fmt_value(v)
        ]
        for code in rng.sample(counts, k=min(len(counts), rng.randint(2, 5))):
            v = int(values[code])
            if v >= 2 and code.startswith("t2.") and rng.random() < 0.6:
                note = rng.choice(("其中修订 {} 件", "含自然失效 {} 件", "其中新增{}件", "含上级转办 {} 件"))
                p.text[code] = f"{v}（{note.format(rng.randint(1, v - 1))}）"
            else:
                p.text[code] = f"{v}件"
    if "missing_rows" in layouts:
        t2_rows = sorted({".".join(c.split(".")[:2]) for c in values if c.startswith("t2.")})
        gone = [r for r in t2_rows if r.endswith(("regulation", "coercion"))]  # rows a department has not
        gone = rng.sample(gone, k=rng.randint(1, len(gone))) if rng.random() < 0.6 else []
        if not gone or rng.random() < 0.5:
            gone.append(rng.choice(("t4.litigation_direct", "t4.litigation_after_review")))
        p.missing = [c for c in values if ".".join(c.split(".")[:2]) in gone]
        p.blank = [c for c in p.blank if c not in p.missing]
    if "stacked" in layouts:
        # a cell with spam after its number would print as a text line; the class prints blanks as "|"
        for code, text in p.text.items():
            if SPAM in text:
                p.text[code] = text.replace(" " + SPAM, "")
        if not p.blank:
            unfilled = _totals_of_nonzero_parts(values)
            zeros = [c for c, v in values.items() if v == 0 and c.startswith("t3.") and c not in unfilled]
            p.blank = sorted(rng.sample(zeros, k=min(len(zeros), 3)), key=list(values).index)
        for code in p.blank:
            p.text[code] = ""
    if "no_labels" in layouts:  # a nameless row of empty cells would read as padding: blanks print "/"
        for code in p.blank:
            if code.startswith("t3.") and not p.text[code]:
                p.text[code] = "/"
    if "two_years" in layouts:
        for code, v in values.items():  # last year's figures: different numbers, printed plainly
            last = v + rng.randint(1, 9) if isinstance(v, int) else round(v * 1.1 + 1, 2)
            p.last_year[code] = fmt_value(last) + (
                p.text[code][len(fmt_value(v)) :] if code == "t2.procurement.amount" else ""
            )
