"""Map a stream of rows onto the template's cells (表二, 表三, 表四).

Rows are matched by what their labels say, not by position, so reordered, split, typo'd or spam-ridden
tables still land on the right codes. Values are kept exactly as printed; nothing is derived here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from etl import spec
from etl.model import RejectedInput
from etl.parse.rows import Row
from etl.parse.values import Number, Slot, read_slot

# 表三 rows, most specific first: the first pattern that matches a label decides its row.
_T3_PATTERNS: tuple[tuple[str, str], ...] = (
    ("other_no_correction", r"不补正|逾期不补"),
    ("other_no_fee", r"缴纳费用|收费通知"),
    ("carried_forward", r"结转下年|下年度继续"),
    ("carried_over", r"上年结转|上年度结转"),
    ("new_received", r"本年新收|新收政府"),
    ("partially_granted", r"部分公开"),
    ("granted", r"予以公开"),
    ("denied_state_secret", r"国家秘密"),
    ("denied_prohibited_by_law", r"禁止公开|法律行政|行政法规|止公开"),
    ("denied_three_security_one_stability", r"三安全|一稳定|危及"),
    ("denied_third_party_rights", r"第三方"),
    ("denied_internal_affairs", r"内部事务"),
    ("denied_process_information", r"过程性"),
    ("denied_enforcement_file", r"执法案卷"),
    ("denied_administrative_query", r"行政查询|查询事项"),
    ("unable_not_held", r"不掌握"),
    ("unable_needs_creation", r"另行制作|现成信息"),
    ("unable_still_unclear", r"补正后|仍不明确"),
    ("not_processed_petition", r"信访|举报投诉"),
    ("not_processed_duplicate", r"重复申请"),
    ("not_processed_publication", r"出版物"),
    ("not_processed_mass_repeated", r"大量反复"),
    ("not_processed_confirm_existing", r"确认或重新|重新出具"),
    ("total", r"\(七\)|七[、.]总计|^总计$|^合计$"),
    ("other_other", r"3\.?其他$"),
    ("other", r"\(六\)其他处理$|^其他处理$"),
)
_T3_RE = tuple((key, re.compile(p)) for key, p in _T3_PATTERNS)

_T2_PATTERNS: tuple[tuple[str, str], ...] = (
    ("regulation", r"规章"),
    ("normative_document", r"规范性文件"),
    ("licensing", r"行政许可"),
    ("other_management_service", r"其他对外管理服务"),
    ("penalty", r"行政处罚"),
    ("coercion", r"行政强制"),
    ("fees", r"事业性收费|行政收费"),
    ("procurement", r"集中采购"),
)
_T2_RE = tuple((key, re.compile(p)) for key, p in _T2_PATTERNS)

# Column headers that only one template prints: they decide the template (not the year).
_MARKERS_2021 = (
    "本年制发件数",
    "本年废止件数",
    "现行有效件数",
    "本年处理决定数量",
    "本年收费金额",
    "逾期不补正",
    "缴纳费用",
)
_MARKERS_2019 = (
    "本年新制作数量",
    "本年新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "本年增/减",
    "集中采购",
    "其他对外管理服务",
)

_T4_HEAD = re.compile(r"复议|诉讼")  # also the typo'd heading "行政法复议"
_END = re.compile(r"^(五|六)、|存在的主要问题|改进情况")
_SPACES = re.compile(r"\s+")
_ITEM_NO = re.compile(r"(?<!\d)(\d{1,2})[、,]")  # "1、" and "1," numbering -> "1."
# a plain-text line "行政许可 97" / "规范性文件 13 0 55": a label, then numbers separated by spaces
# (no digits in the label but item numbers "1." "1、": a sentence of the narrative ending in a number has them)
_LABEL_NUMBERS = re.compile(
    r"^(?P<label>(?:[^\d。;]|\d{1,2}[.、](?!\d))*[\u4e00-\u9fff)”])"
    r"(?P<nums>(?:\s+(?:-?[\d,]+(?:\.\d+)?(?:万元|元|件|项|个|条|次|宗)?|[-/—–\\]{1,2}))+)$"
)
# a note printed right after a number in its cell: "22(其中修订 16 件)", "55(含自然失效29件)"; its numbers are
# the note's, never other cells' values
_NOTE = re.compile(r"(?<=[\d件项个条次宗元])\s*\([^()]*\)")
_ORDER = ("t2", "t3", "t4", "done")
_OTHER_SUBROWS = re.compile(r"不补正|逾期不补|缴纳费用|收费通知")
# column headers a converter made up ("数据1".."数据6", "Column 1"): no label, and not worth a tail slot
_GENERIC_HEAD = re.compile(r"^(?:项目|指标|名称|内容)?(?:(?:数据|列|字段|column|col)\d+)+$", re.IGNORECASE)
_TAIL = 3  # label lines kept: a label wraps onto at most three lines
# a page footer or page number printed inside a table where it broke across pages ("第 3 页 共 8 页", "- 5 -",
# "3/8"); a bare number is not taken for one: it may be a value
_FOOTER = re.compile(
    r"^(?:[-—–]\d+[-—–]|第\d+页(?:[,/]?共\d+页)?|共\d+页第\d+页|\d+/\d+|page\d+(?:of\d+)?)$", re.I
)
# a 表二 row labelled only by the 第二十条 item it reports ("第二十条第(五)项"), or such a section heading
_T2_ITEM = re.compile(r"第二十条第\(([一二三四五六七八九十]+)\)项")
# a heading line naming the year of the tables under it ("2020年度政府信息公开情况统计表", "2020年")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
_YEAR_HEADING_MAX = 40  # characters: longer lines are sentences of the narrative
_SENTENCE = re.compile(r"[。至]|期限")  # a sentence or the 统计期限 span, not a heading over tables
_T2_HEAD = re.compile(r"^[二2][、.]?主动公开")
_T4_BLOCK_LABELS = (
    ("litigation_after_review", re.compile(r"复议后起诉")),
    ("litigation_direct", re.compile(r"直接起诉")),
    ("review", re.compile(r"^(?:\d[.、])?行政复议$|^行政复议[(（]?件?[)）]?$")),
)


@dataclass
class TableRead:
    template: str
    cells: dict[str, Number | None]
    blank_cells: list[str] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _DataRow:
    label: str
    slots: list[Slot]
    where: str
    breaks: list[int]
    from_text: bool = False  # split out of one line of text ("行政许可 97"): a table row only inside a table


@lru_cache(maxsize=64)
def t2_items(template: str) -> dict[str, tuple[str, ...]]:
    """第二十条 item number ("一", "五") -> the 表二 rows the template prints under it, in template order."""
    out: dict[str, list[str]] = {}
    for c in spec.cells(template):
        if c.table == "二" and (m := _T2_ITEM.search(c.section.replace("（", "(").replace("）", ")"))):
            rows = out.setdefault(m.group(1), [])
            if c.row not in rows:
                rows.append(c.row)
    return {k: tuple(v) for k, v in out.items()}


def _row_labels(template: str) -> dict[str, str]:
    """Spec code prefix "t2.regulation" -> its printed row label, for reasons a reader can follow."""
    return {".".join(c.code.split(".")[:2]): c.row_label for c in spec.cells(template)}


def is_footer(row: Row) -> bool:
    """A page footer: one cell (a row of values joined together could read as "3/8")."""
    cells = [c for c in row.cells if c.strip()]
    return len(cells) == 1 and len(text := _compact(cells[0])) <= 16 and bool(_FOOTER.match(text))


def _compact(text: str) -> str:
    return _SPACES.sub("", text)


@lru_cache(maxsize=65536)
def canon_label(text: str) -> str:
    """Label text as matched: no spaces, item numbers written one way ("3、其他" -> "3.其他")."""
    return _ITEM_NO.sub(r"\1.", _compact(text))


def _unglue(cells: list[str]) -> list[str]:
    """A label cell that ends in space-separated numbers, with only values after it, is a label and values:
    a plain-text line "行政许可 97", or a PDF line whose first number sat close to the label."""
    for i, cell in enumerate(cells):
        if read_slot(cell) is not None:
            return cells
        rest = cells[i + 1 :]
        line = _NOTE.sub("", cell.strip()) if "(" in cell else cell.strip()
        if (m := _LABEL_NUMBERS.match(line)) and all(read_slot(c) is not None for c in rest):
            return [*cells[:i], m.group("label"), *m.group("nums").split(), *rest]
    return cells


def _join_notes(cells: list[str]) -> list[str]:
    """A cell's note split over the following cells ("22(其中修订" | "16件)") is one cell again: the note's
    numbers must not become values of the cells after it."""
    if not any("(" in c for c in cells):
        return cells
    out: list[str] = []
    open_note = False
    for cell in cells:
        if open_note:
            out[-1] += cell
            open_note = "(" in out[-1] and ")" not in out[-1][out[-1].rindex("(") :]
            continue
        out.append(cell)
        slot = read_slot(cell)
        open_note = (
            slot is not None and not slot.is_blank and "(" in cell and ")" not in cell[cell.rindex("(") :]
        )
    return out


def split_row(row: Row) -> _DataRow:
    """Label = the text cells before the first number; slots = the number/blank cells after the label."""
    label, slots, breaks, from_text = _split_cells(tuple(row.cells), tuple(row.breaks))
    return _DataRow(label, list(slots), row.where, list(breaks), from_text)


@lru_cache(maxsize=65536)
def _split_cells(
    row_cells: tuple[str, ...], row_breaks: tuple[int, ...]
) -> tuple[str, tuple[Slot, ...], tuple[int, ...], bool]:
    # cached: the same rows ("(一)予以公开 | 0 | 0 | …") recur across reports; the result is immutable
    cells = list(row_cells) if row_breaks else _unglue(list(row_cells))  # (breaks index the cells as read)
    if not row_breaks:
        cells = _join_notes(cells)
    from_text = len(cells) != len(row_cells)
    kinds = [read_slot(c) for c in cells]
    first_num = next((i for i, s in enumerate(kinds) if s is not None and not s.is_blank), len(kinds))
    text_idx = [i for i, s in enumerate(kinds[:first_num]) if s is None]
    last_label = text_idx[-1] if text_idx else -1
    label = "".join(canon_label(cells[i]) for i in text_idx)
    slots, breaks = [], []
    for i in range(last_label + 1, len(kinds)):
        if i in row_breaks:
            breaks.append(len(slots))
        s = kinds[i]
        if s is not None:  # text after the values is spam or a note: not a slot
            slots.append(s)
    if not label and len(cells) == 1 and not slots:
        label = canon_label(cells[0])
    return label, tuple(slots), tuple(breaks), from_text


def detect_template(rows: list[Row], year: int | None) -> str:
    text = "".join(_compact("".join(r.cells)) for r in rows)
    n21 = sum(text.count(m) for m in _MARKERS_2021)
    n19 = sum(text.count(m) for m in _MARKERS_2019)
    if n21 != n19:
        return "2021" if n21 > n19 else "2019"
    return "2021" if (year or 2021) >= 2021 else "2019"


@lru_cache(maxsize=65536)
def match_t3(label: str, template: str) -> str | None:
    rows = spec.t3_rows(template)
    for key, rx in _T3_RE:
        if key in rows and rx.search(label):
            return key
    if template == "2021" and re.search(r"\(六\)其他处理$|^其他处理$", label):
        return "other_single"  # a 2021 report printing the old single （六） row
    return None


def _t3_hits(text: str, template: str) -> list[tuple[int, str]]:
    rows = spec.t3_rows(template)
    return sorted((m.start(), key) for key, rx in _T3_RE if key in rows and (m := rx.search(text)))


def named_t3(text: str, template: str) -> list[str]:
    """表三 rows that a run of label lines names, in the order they are named."""
    return [key for _, key in _t3_hits(text, template)]


@lru_cache(maxsize=65536)
def match_t2(label: str, template: str) -> str | None:
    rows = dict(spec.t2_rows(template))
    for key, rx in _T2_RE:
        if key in rows and rx.search(label):
            return key
    return None


def _is_other_subrow(row: Row) -> bool:
    """A table line (not a sentence of the narrative) naming one of the 2021 （六） sub-rows."""
    text = _compact("".join(row.cells))
    return len(text) <= 80 and "。" not in text and bool(_OTHER_SUBROWS.search(text))


class _Reader:
    def __init__(self, template: str) -> None:
        self.t = template
        self.out = TableRead(template=template, cells=dict.fromkeys(spec.codes(template)))
        self.t2_cols = dict(spec.t2_rows(template))
        self.filled: set[str] = set()
        self.t4_slots: list[tuple[Slot, str]] = []
        self.t4_breaks: list[int] = []  # slot positions where 表四's values were split across lines
        self.t2_units: dict[str, str] = {}
        self.short: tuple[str, str, tuple[str, ...], _DataRow] | None = None  # a row still short of values
        self.section: str | None = None  # None -> t2 -> t3 -> t4 -> done; only ever moves forward
        self.tail: list[str] = []  # label-only lines since the last row with values
        self.named: list[str] = []  # 表三 rows named by label-only lines, in the order they were named
        self.t3_order = spec.t3_rows(template)
        self.last_t3 = -1  # template index of the 表三 row placed last
        self.other_subrows = False  # the table prints the 2021 （六） sub-rows
        self.year: int | None = None  # the report's year: tables printed for another year are skipped
        self.other_year: int | None = None  # the year of the tables being skipped
        self.year_cols: list[int] = []  # years of a header printing two years side by side, in order
        self.t2_item: str | None = None  # the 第二十条 item heading the 表二 rows are under
        self.t2_unlabelled: dict[str | None, list[_DataRow]] = {}  # 表二 rows without a row label, by item
        self.t3_positional: list[str] = []  # 表三 rows read by their position only (no label line named them)
        self.t3_unplaced = 0  # 表三-shaped rows without a label that found no row
        self.t4_blocks: dict[str, tuple[list[Slot], str]] = {}  # 表四 rows that name their block

    # -- assignment -------------------------------------------------------------------------------------
    def _put(self, code: str, slot: Slot, where: str) -> None:
        self.out.unresolved.pop(code, None)
        if slot.is_blank:
            self.out.cells[code] = 0
            self.out.blank_cells.append(code)
        else:
            self.out.cells[code] = slot.value
        self.out.provenance[code] = where
        if slot.unit in ("元", "万元") and code.endswith(".amount"):
            self.out.units[code] = slot.unit

    def put_row(self, table: str, key: str, cols: tuple[str, ...], dr: _DataRow) -> bool:
        if key in self.filled:
            self.out.notes.append(f"{dr.where}: second row for {table}.{key} ignored")
            return True
        slots = self._fit(dr, len(cols), f"{table}.{key}")
        if slots is None:
            for col in cols:
                self.out.unresolved[f"{table}.{key}.{col}"] = (
                    f"{dr.where}: row has {len(dr.slots)} values, {len(cols)} expected"
                )
            return False
        self.filled.add(key)
        if table == "t3":
            self.last_t3 = self.t3_order.index(key)
        for col, slot in zip(cols, slots, strict=True):
            self._put(f"{table}.{key}.{col}", slot, dr.where)
        return True

    def _fit(self, dr: _DataRow, n: int, what: str) -> list[Slot] | None:
        slots = dr.slots
        if len(slots) == n:
            return slots
        if (k := len(self.year_cols)) > 1 and len(slots) == n * k and self.year in self.year_cols:
            at = self.year_cols.index(self.year)  # two years side by side: the report year's columns
            self.out.notes.append(f"{dr.where}: {what} printed for {self.year_cols}; {self.year}'s taken")
            return slots[at * n : (at + 1) * n]
        if len(slots) == n - 1 and dr.breaks:
            # a line break inside the row swallowed an empty cell: it stood where the line broke
            at = dr.breaks[0]
            self.out.notes.append(f"{dr.where}: {what} broken across lines; empty cell assumed at the break")
            return [*slots[:at], Slot(None, ""), *slots[at:]]
        if len(slots) > n:
            printed = [s for s in slots if not s.is_blank]
            if len(printed) == n:
                return printed
        return None

    # -- the walk ---------------------------------------------------------------------------------------
    def read(self, rows: list[Row]) -> TableRead:
        self.other_subrows = self.t == "2021" and any(_is_other_subrow(r) for r in rows)
        for row in rows:
            if self.section == "done":
                break
            if is_footer(row):
                self.out.notes.append(f"{row.where}: page footer inside the tables skipped")
                continue
            dr = split_row(row)
            if self._other_year(dr):
                continue
            if row.stacked and self.section == "t3" and self._split_stacked(dr):
                continue
            if self.section == "t3" and _T4_HEAD.search(dr.label) and self.filled & set(self.t3_order):
                self.section, self.tail, self.named, self.short = "t4", [], [], None
                if not dr.slots:
                    continue
            if self.section == "t4":
                self.section = self._t4_row(dr)
            elif self.short is not None and not dr.label and dr.slots and self._continue_short(dr):
                pass  # the rest of a row broken across lines, blanks included
            elif self._is_text(dr):
                self._text_row(dr)
            else:
                self._value_row(dr)
        self._finish_t2_unlabelled()
        self._check_t3_positional()
        self._finish_t4()
        self._finish_missing()
        return self.out

    def _split_stacked(self, dr: _DataRow) -> bool:
        """A one-cell-per-line 表三 run of k × 7 values: k rows (the first under the label above them, the
        others label-less rows, as printed apart from their labels)."""
        n = len(spec.APPLICANT_COLUMNS)
        if len(dr.slots) <= n or len(dr.slots) % n:
            return False
        for k in range(0, len(dr.slots), n):
            part = _DataRow(dr.label if k == 0 else "", dr.slots[k : k + n], dr.where, [])
            if self._is_text(part):
                self._text_row(part)
            else:
                self._value_row(part)
        return True

    def _other_year(self, dr: _DataRow) -> bool:
        """True for a row of tables printed for another year than the report's (reports that print last
        year's tables beside this year's): from a heading naming that year to one naming the report's."""
        if self.year is None:
            return False
        if not dr.slots and dr.label:
            years = [int(y) for y in _YEAR.findall(dr.label)]
            if len(set(years)) > 1 and len(years) <= 4:
                self.year_cols = list(dict.fromkeys(years))  # a header over two years' columns
            elif len(years) == 1 and len(dr.label) <= _YEAR_HEADING_MAX and not _SENTENCE.search(dr.label):
                self.other_year = years[0] if years[0] != self.year else None
                return True  # a year heading over tables: no row of them
        if self.other_year is not None:
            if not dr.slots and _END.search(dr.label):
                self.other_year = None  # the tables are over: the narrative resumes
                return False
            self.out.notes.append(f"{dr.where}: row of the {self.other_year} tables skipped")
            return True
        return False

    def _is_text(self, dr: _DataRow) -> bool:
        """No values: a heading, a column header, or a label waiting for its numbers. Empty padding cells
        are not values, unless the label names a row (a row printed all blank)."""
        if not dr.slots:
            return True
        if any(not s.is_blank for s in dr.slots):
            return False
        for label in (dr.label, "".join(self.tail) + dr.label if self.tail else ""):
            if label and (match_t3(label, self.t) or match_t2(label, self.t)):
                return False
        # nameless and all blank: a 表三 row only if its blanks are printed marks ("/", "—"), not padding
        n = len(spec.APPLICANT_COLUMNS)
        return not (self.section == "t3" and len(dr.slots) == n and all(s.raw.strip() for s in dr.slots))

    def _text_row(self, dr: _DataRow) -> None:
        self.section = self._heading(dr.label, self.section)
        if not dr.label or self.section not in ("t2", "t3") or _GENERIC_HEAD.match(dr.label):
            return
        self.tail = [*self.tail, dr.label][-_TAIL:]
        if self.last_t3 >= 0:  # past the column headers: a label here may be detached from its numbers
            for key in named_t3("".join(self.tail), self.t):
                if key in self.t3_positional:  # its label printed after its values: not by position alone
                    self.t3_positional.remove(key)
                elif key not in self.named:
                    self.named.append(key)

    def _value_row(self, dr: _DataRow) -> None:
        tail, self.tail = self.tail, []
        if dr.from_text and self.section is None:
            return  # a sentence of the narrative that ends in a number
        if not dr.label and self.short is not None and self._continue_short(dr):
            return
        self.short = None
        # its own label, else its label wrapped onto the lines above it (numbers on the label's last line)
        candidates = [dr.label] if dr.label else []
        if tail and dr.label:
            candidates.append(self._wrapped_label("".join(tail) + dr.label))
        for label in candidates:
            if placed := self._place(label, dr):
                if (
                    self.short is None
                ):  # a row short of values (or a sentence of the narrative) is no evidence
                    self.section = max(self.section or "t2", placed, key=_ORDER.index)
                return
        if self._place_detached(dr) or self._hold_t2_unlabelled(dr):
            return
        if dr.label:
            self.tail = [*tail, dr.label][-_TAIL:]
        if self.section in ("t2", "t3"):
            self.out.notes.append(
                f"{dr.where}: row with {len(dr.slots)} values not placed ({dr.label or 'no label'})"
            )

    def _hold_t2_unlabelled(self, dr: _DataRow) -> bool:
        """A 表二 row without its row label (or labelled only by its 第二十条 item): kept until the table is
        read, then placed by the template's order of that item's rows if, and only if, the counts agree."""
        if self.section not in (None, "t2") or (dr.label and not _T2_ITEM.search(dr.label)):
            return False
        if self.section is None and not self.t2_item:
            return False
        item = m.group(1) if (m := _T2_ITEM.search(dr.label)) else self.t2_item
        if item is not None and item not in t2_items(self.t):
            return False
        self.t2_unlabelled.setdefault(item, []).append(dr)
        return True

    def _finish_t2_unlabelled(self) -> None:
        items = t2_items(self.t)
        labels = _row_labels(self.t)
        for item, drs in self.t2_unlabelled.items():
            rows = items[item] if item else tuple(r for r, _ in spec.t2_rows(self.t))
            todo = [r for r in rows if r not in self.filled]
            where = f"第二十条第({item})项" if item else "表二"
            fits = len(drs) == len(todo) and all(
                len(dr.slots) == len(self.t2_cols[r]) for dr, r in zip(drs, todo, strict=False)
            )
            if fits:
                self.out.notes.append(
                    f"{where}: {len(drs)} rows without row labels read in the template's order"
                )
                for dr, r in zip(drs, todo, strict=True):
                    self.put_row("t2", r, self.t2_cols[r], dr)
                continue
            reason = (
                f"{drs[0].where}: {len(drs)} rows of {where} printed without row labels for "
                f"{len(todo)} rows ({', '.join(labels[f't2.{r}'] for r in todo) or 'none left'}): "
                "which is which is unknown"
            )
            for r in todo:
                for col in self.t2_cols[r]:
                    self.out.unresolved.setdefault(f"t2.{r}.{col}", reason)

    def _check_t3_positional(self) -> None:
        """表三 rows read by position only stand if the count is right (every row filled, no row left over) and
        the table's identities hold; otherwise they are left null with the reason."""
        if not self.t3_positional:
            return
        from etl.validate.rules import holds, identities

        missing = [r for r in self.t3_order if r not in self.filled]
        cells = self.out.cells
        # the column identities test where rows stand (a row's own total does not depend on its position)
        broken = [
            r.rule_id
            for r in identities(self.t)
            if r.rule_id.startswith(("t3.col_outcomes.", "t3.col_balance."))
            and any(c.split(".")[1] in self.t3_positional for c in r.cells)
            and holds(r, cells) is False
        ]
        if not missing and not self.t3_unplaced and not broken:
            return
        why = (
            f"{len(self.t3_positional) + self.t3_unplaced} unlabelled rows for {len(self.t3_positional) + len(missing)} rows"
            if missing or self.t3_unplaced
            else f"read by position they break {', '.join(broken[:3])}"
        )
        for key in [*self.t3_positional, *missing]:
            self.filled.discard(key)
            for col in spec.APPLICANT_COLUMNS:
                code = f"t3.{key}.{col}"
                cells[code] = None
                if code in self.out.blank_cells:
                    self.out.blank_cells.remove(code)
                self.out.provenance.pop(code, None)
                self.out.unresolved[code] = f"表三 row printed without its label, not read by position: {why}"

    def _wrapped_label(self, text: str) -> str:
        """The label lines above a row joined to its own label: from where the last row still unread is named
        (the lines may also hold labels of rows printed apart from their numbers)."""
        hits = [(pos, key) for pos, key in _t3_hits(text, self.t) if key not in self.filled]
        return text[hits[-1][0] :] if hits else text

    def _place_detached(self, dr: _DataRow) -> bool:
        """A 表三 row whose label is missing or unrecognised: the row a label line named but left without
        numbers (labels and values printed apart), else the next row in template order."""
        if self.section != "t3" or self._fit(dr, len(spec.APPLICANT_COLUMNS), "") is None:
            return False
        after = [k for k in self.t3_order[self.last_t3 + 1 :] if k not in self.filled]
        named = [k for k in self.named if k in after]
        key = named[0] if named else (after[0] if after else None)
        if key is None:
            self.t3_unplaced += not dr.label
            return False
        how = "named by an earlier label line" if named else "next row in template order"
        self.out.notes.append(f"{dr.where}: unlabelled row taken as t3.{key} ({how})")
        if not named and not dr.label:  # no label at all (a part-label wrapped from a line is still one)
            self.t3_positional.append(key)
        return self.put_row("t3", key, spec.APPLICANT_COLUMNS, dr)

    def _heading(self, label: str, section: str | None) -> str | None:
        if re.search(r"\d", label):
            return section  # a sentence of the narrative ("本年新收申请34件"), not a table heading
        if section in (None, "t2") and (m := _T2_ITEM.search(label)):
            self.t2_item = m.group(1)
        if section is None and ("第二十条" in label or "信息内容" in label or _T2_HEAD.match(label)):
            section = "t2"
        if section in (None, "t2") and (
            "申请人情况" in label or "本年新收" in label or "收到和处理" in label
        ):
            section = "t3"
        if section == "t2" and "收费" in label and (m := re.search(r"万元|元", label)):
            self.t2_units["fees"] = m.group(0)
        if section == "t2" and "采购" in label and (m := re.search(r"万元|元", label)):
            self.t2_units["procurement"] = m.group(0)
        return section

    def _t4_row(self, dr: _DataRow) -> str:
        if not dr.slots and _END.search(dr.label):
            return "done"
        block = next((b for b, rx in _T4_BLOCK_LABELS if rx.search(dr.label)), None) if dr.label else None
        if block and len(dr.slots) == len(spec.T4_COLUMNS) and not self.t4_slots:
            self.t4_blocks[block] = (dr.slots, dr.where)  # a 表四 printed one block per labelled row
            return "done" if len(self.t4_blocks) == len(spec.T4_BLOCKS) else "t4"
        if all(s.is_blank for s in dr.slots):
            # a header row's padding, or an empty spacer row, is no value; a nameless row of blanks that
            # fills 表四 exactly is its (all blank) value row
            remaining = 15 - len(self.t4_slots)
            fills = len(dr.slots) == remaining or (len(dr.slots) == remaining - 1 and dr.breaks)
            if dr.label or not fills:
                return "t4"
        at = len(self.t4_slots)
        self.t4_breaks += [at + b for b in dr.breaks] + ([at] if at else [])
        self.t4_slots.extend((s, dr.where) for s in dr.slots)
        return "done" if len(self.t4_slots) >= 15 else "t4"

    def _continue_short(self, dr: _DataRow) -> bool:
        """A row of bare numbers right after a row that was short of values: the same row, broken. False when
        together they are too long: then the short row stays unresolved and this row stands alone."""
        table, key, cols, prev = self.short
        merged = _DataRow(prev.label, prev.slots + dr.slots, prev.where, [*prev.breaks, len(prev.slots)])
        if len(merged.slots) > len(cols) and self._fit(merged, len(cols), "") is None:
            return False
        self.short = None if self.put_row(table, key, cols, merged) else (table, key, cols, merged)
        return True

    def _place(self, label: str, dr: _DataRow) -> str | None:
        """Place a labelled row; returns the table it went to, or None."""
        key3 = match_t3(label, self.t)
        if key3 in self.filled and label != dr.label:
            return None  # the lines above named a row already read: they are not this row's label
        if key3 == "other_single" and self.other_subrows:
            key3 = (
                None  # the table prints the （六） sub-rows: this is their heading, wrapped onto the values
            )
        if key3 == "other_single":
            return "t3" if self._put_single_other(dr) else None
        if key3:
            if self.put_row("t3", key3, spec.APPLICANT_COLUMNS, dr):
                return "t3"
            self.short = ("t3", key3, spec.APPLICANT_COLUMNS, dr)
            return "t3"
        key2 = match_t2(label, self.t)
        if key2:
            cols = self.t2_cols[key2]
            if not self.put_row("t2", key2, cols, dr):
                self.short = ("t2", key2, cols, dr)
            return "t2"
        return None

    def _put_single_other(self, dr: _DataRow) -> bool:
        slots = self._fit(dr, 7, "t3.other")
        if slots is None:
            return False
        subrows = ("other_no_correction", "other_no_fee", "other_other")
        self.last_t3 = self.t3_order.index(subrows[-1])
        if all(s.is_blank or s.value == 0 for s in slots):
            for sub in subrows:
                self.filled.add(sub)
                for col, slot in zip(spec.APPLICANT_COLUMNS, slots, strict=True):
                    self._put(f"t3.{sub}.{col}", slot, f"{dr.where} (single （六） row, all zero)")
        else:
            for sub in subrows:
                self.filled.add(sub)
                for col in spec.APPLICANT_COLUMNS:
                    self.out.unresolved[f"t3.{sub}.{col}"] = (
                        f"{dr.where}: old single （六）其他处理 row cannot be split into the 2021 sub-rows"
                    )
        return True

    def _finish_t4(self) -> None:
        if self.t4_blocks and not self.t4_slots:
            for block, (row, where) in self.t4_blocks.items():
                for col, slot in zip(spec.T4_COLUMNS, row, strict=True):
                    self._put(f"t4.{block}.{col}", slot, where)
            return
        slots = self.t4_slots
        if not slots:
            return
        k = len(self.year_cols)
        if k > 1 and len(slots) == 15 * k and self.year in self.year_cols:
            at = self.year_cols.index(self.year)
            slots = slots[at * 15 : (at + 1) * 15]
            self.out.notes.append(f"表四 printed for {self.year_cols}: {self.year}'s values taken")
        if len(slots) == 14 and self.t4_breaks:
            # a line break swallowed an empty cell, as in 表三's broken rows
            at = self.t4_breaks[0]
            slots = [*slots[:at], (Slot(None, ""), slots[min(at, 13)][1]), *slots[at:]]
            self.out.notes.append("表四: one value short at a line break; empty cell assumed there")
        if len(slots) != 15:
            self.out.notes.append(f"表四: {len(slots)} values found, 15 expected")
            if len(slots) < 15:
                return
        codes = [f"t4.{b}.{c}" for b in spec.T4_BLOCKS for c in spec.T4_COLUMNS]
        for code, (slot, where) in zip(codes, slots[:15], strict=True):
            self._put(code, slot, where)

    def _finish_missing(self) -> None:
        # a row the table does not print is not zero: null, and the reason says which row is missing
        printed = {c.split(".")[0] for c in self.out.provenance}
        labels = _row_labels(self.t)
        for code, value in self.out.cells.items():
            if value is None and code not in self.out.unresolved:
                table, row = code.split(".")[:2]
                self.out.unresolved[code] = (
                    f"not found in the tables: {_TABLE_NAMES[table]} prints no {labels[f'{table}.{row}']} row "
                    "(left null: a missing row is not a zero)"
                    if table in printed
                    else "not found in the tables"
                )
        for key, unit in self.t2_units.items():
            code = "t2.fees.amount" if key == "fees" else "t2.procurement.amount"
            if code in self.out.cells and code not in self.out.units:
                self.out.units[code] = unit


_TABLE_NAMES = {"t2": "表二", "t3": "表三", "t4": "表四"}


def read_tables(rows: list[Row], year: int | None = None, template: str | None = None) -> TableRead:
    template = template or detect_template(rows, year)
    reader = _Reader(template)
    reader.year = year
    result = reader.read(rows)
    if not any(c.startswith("t3.") for c in result.provenance):
        raise RejectedInput("tables not found (no 表三 收到和处理政府信息公开申请情况 rows)")
    return result
