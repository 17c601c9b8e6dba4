"""Which cells a glued crawler dump leaves undetermined (the label's unresolvable_cells).

A dump prints a row's cells with no boundaries: 64/0/0/2/0/4/70 becomes "640020470". 表二 has no identities,
so a multi-cell row whose digit run splits more than one way is undetermined, every cell of it. 表三 rows must satisfy 总计 =
the six applicant columns and 表四 blocks 总计 = their four results; a row is decided when only one split
satisfies them, and rows still open are tried together against the column identities of 表三. A cell is
unresolvable when its value differs between the splits that survive.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, t2_rows, t3_rows
from etl.synth import checks

Number = int | float
_KINDS = {
    "int": re.compile(r"0|[1-9]\d*"),
    "signed": re.compile(r"-?(?:0|[1-9]\d*)"),
    "decimal": re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?"),
}
_MAX_COMBOS = 5000  # joint search over undecided 表三 rows; beyond this the rows stay undecided


def _kind(code: str) -> str:
    """How a reader may cut this cell: by what the template lets it hold, never by the true value (a count
    printed negative, a source error, cannot be read back from a dump: its row stays unresolved)."""
    if code.endswith(".amount"):
        return "decimal"
    return "signed" if code.endswith(".items_change") else "int"


def run_text(printed: Sequence[str]) -> str:
    """The digit run a dump shows for these cells (full-width folded, units dropped)."""
    text = "".join(unicodedata.normalize("NFKC", t) for t in printed)
    return re.sub(r"[^\d.\-]", "", text)


def splits(run: str, kinds: Sequence[str], limit: int = 200_000) -> Iterator[tuple[Number | None, ...]]:
    """Every way to cut `run` into len(kinds) numbers of those kinds (no leading zeros), or blanks (a lone
    "-", None)."""
    budget = [limit]

    def go(i: int, k: int) -> Iterator[tuple[Number | None, ...]]:
        budget[0] -= 1
        if budget[0] < 0:
            return
        if k == len(kinds):
            if i == len(run):
                yield ()
            return
        left = len(kinds) - k - 1
        for j in range(i + 1, len(run) - left + 1):
            piece = run[i:j]
            if piece == "-":  # a lone dash is also how reports print a blank cell: a reader must allow it
                for rest in go(j, k + 1):
                    yield (None, *rest)
            elif _KINDS[kinds[k]].fullmatch(piece):
                value = float(piece) if "." in piece else int(piece)
                for rest in go(j, k + 1):
                    yield (value, *rest)

    return go(0, 0)


def _differing(codes: Sequence[str], candidates: list[tuple[Number, ...]] | None) -> list[str]:
    if candidates is None:
        return list(codes)
    return [c for i, c in enumerate(codes) if len({cand[i] for cand in candidates}) > 1]


def _candidates(
    run: str, kinds: Sequence[str], truth: tuple[Number, ...], ok: Callable[[tuple[Number, ...]], bool]
) -> list[tuple[Number, ...]] | None:
    """Splits of the run that pass the identities `ok` (all splits when the printed truth itself fails them);
    None when the printed cells cannot be read back from the run at all."""
    every = list(splits(run, kinds))
    if truth not in every:
        return None
    return [s for s in every if ok(s)] if ok(truth) else every


def unresolvable(template: str, text: dict[str, str], values: dict[str, Number]) -> list[str]:
    """Codes a reader of the glued dump cannot determine, in template order."""
    out: list[str] = []
    for row, cols in t2_rows(template):
        codes = [f"t2.{row}.{c}" for c in cols]
        if len(codes) > 1:
            cands = _candidates(
                run_text([text[c] for c in codes]),
                [_kind(c) for c in codes],
                tuple(values[c] for c in codes),
                lambda s: True,
            )
            # a multi-cell 表二 row that splits several ways is unresolved whole, as the real labels have it
            # ("2648-18538": even the 2648 no split disputes is left to the reader of the original page)
            if cands is None or len(cands) > 1:
                out += codes
    out += _t3(template, text, values)
    # 表四's 15 cells are one run in a dump; each block's identity covers its own five
    codes4 = [f"t4.{b}.{c}" for b in T4_BLOCKS for c in T4_COLUMNS]
    truth4 = tuple(values[c] for c in codes4)

    def blocks_ok(s: tuple[Number, ...]) -> bool:
        return all(sum(s[i : i + 4]) == s[i + 4] for i in range(0, 15, 5))

    cands = _candidates(run_text([text[c] for c in codes4]), ["int"] * 15, truth4, blocks_ok)
    out += _differing(codes4, cands)
    return out


def _t3(template: str, text: dict[str, str], values: dict[str, Number]) -> list[str]:
    cols = APPLICANT_COLUMNS
    open_rows: dict[str, list[tuple[Number, ...]] | None] = {}
    for row in t3_rows(template):
        codes = [f"t3.{row}.{c}" for c in cols]
        truth = tuple(values[c] for c in codes)
        cands = _candidates(
            run_text([text[c] for c in codes]), ["int"] * 7, truth, lambda s: sum(s[:6]) == s[6]
        )
        if cands is None or len(cands) > 1:
            open_rows[row] = cands
    if not open_rows:
        return []
    combos = 1
    for cands in open_rows.values():
        combos *= len(cands) if cands is not None else _MAX_COMBOS + 1
    surviving = open_rows
    if combos <= _MAX_COMBOS:
        # the 表三 column identities the printed values satisfy decide between the rows' splits
        holds = [
            r
            for r in checks.sum_rules(template)
            if r[0].startswith(("t3.col_",)) and sum(values[p] for p in r[1]) == sum(values[t] for t in r[2])
        ]
        names = list(open_rows)
        kept: list[tuple[tuple[Number, ...], ...]] = []
        for combo in itertools.product(*(open_rows[r] or [] for r in names)):
            trial = dict(values)
            for r, split_ in zip(names, combo, strict=True):
                trial.update({f"t3.{r}.{c}": v for c, v in zip(cols, split_, strict=True)})
            if all(
                sum(trial[p] for p in parts) == sum(trial[t] for t in totals) for _, parts, totals in holds
            ):
                kept.append(combo)
        surviving = {r: [k[i] for k in kept] for i, r in enumerate(names)}
    out = []
    for row, cands in surviving.items():
        out += _differing([f"t3.{row}.{c}" for c in cols], cands)
    return out


def uncertain(template: str, text: dict[str, str], values: dict[str, Number]) -> list[str]:
    """Cells no reader can be held to when the printed values break a 表三/表四 identity (a labelled
    violation): a row or block whose digits alone split more than one way is read through identities the
    source itself breaks, so which split is the printed one is undecidable. The label lists them as
    uncertain_cells (not scored, as in the real corpus); the report must still be quarantined."""
    if all(
        sum(values[p] for p in parts) == sum(values[t] for t in totals)
        for _, parts, totals in checks.sum_rules(template)
    ):
        return []
    groups = [[f"t3.{row}.{c}" for c in APPLICANT_COLUMNS] for row in t3_rows(template)]
    groups.append([f"t4.{b}.{c}" for b in T4_BLOCKS for c in T4_COLUMNS])
    out: list[str] = []
    for codes in groups:
        run = run_text([text[c] for c in codes])
        if len(list(itertools.islice(splits(run, ["int"] * len(codes)), 2))) > 1:
            out += codes
    return out
