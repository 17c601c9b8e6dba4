"""Labelled rule violations, one per affected report, shaped like the errors real reports print.

Each class changes the values the way a compiler of a real report gets them wrong; which rules end up broken
is not decided here but by etl.synth.checks on the changed values (one change often breaks several rules).
"""

from __future__ import annotations

import random

from etl.spec import t3_outcome_rows, t3_rows
from etl.synth.values import APPLICANTS

Number = int | float

CLASSES = ("row_total", "col_outcomes", "col_balance", "t4_block", "negative", "carry_over")


def _delta(rng: random.Random, current: int) -> int:
    """A plausible slip: small, or a tens-digit typo; never takes a cell below 0."""
    d = rng.choice((1, 1, 2, 3, 10))
    return -d if current >= d and rng.random() < 0.4 else d


def inject(cls: str, template: str, values: dict[str, Number], rng: random.Random) -> None:
    """Apply one violation of class `cls` in place (carry_over is made by the model, not here)."""
    if cls == "row_total":  # a 总计 cell mistyped (结转 rows left alone: they chain into next year)
        rows = [r for r in t3_rows(template) if r not in ("carried_over", "carried_forward")]
        busy = [r for r in rows if values[f"t3.{r}.total"]] or rows
        code = f"t3.{rng.choice(busy)}.total"
        values[code] += _delta(rng, int(values[code]))
    elif cls == "col_outcomes":  # an outcome row overstated, its own total kept in step
        row, col = rng.choice(t3_outcome_rows(template)), rng.choice(APPLICANTS[:2])
        d = _delta(rng, int(values[f"t3.{row}.{col}"]))
        values[f"t3.{row}.{col}"] += d
        values[f"t3.{row}.total"] += d
    elif cls == "col_balance":  # 结转下年度 that does not follow from 一 + 二 - （七）
        col = rng.choice(APPLICANTS[:2])
        d = _delta(rng, int(values[f"t3.carried_forward.{col}"]))
        values[f"t3.carried_forward.{col}"] += d
        values["t3.carried_forward.total"] += d
    elif cls == "t4_block":  # 表四 总计 wrong, or printed 0 beside non-zero results
        block = rng.choice(("review", "litigation_direct", "litigation_after_review"))
        code = f"t4.{block}.total"
        values[code] = (
            0 if values[code] and rng.random() < 0.5 else values[code] + _delta(rng, int(values[code]))
        )
    elif cls == "negative":  # a count printed with a minus sign (a 处理决定数量: no other rule reads it)
        codes = [c for c in values if c.startswith("t2.") and c.endswith(".decisions")]
        code = rng.choice(codes)
        values[code] = -values[code] if values[code] else -rng.randint(1, 5)
    else:
        raise ValueError(f"unknown violation class {cls!r}")


def broken_carry(last_forward: dict[str, int], rng: random.Random) -> dict[str, int]:
    """This year's 二、上年结转 that does not match last year's 结转下年度 in one column."""
    carried = {c: last_forward[c] for c in APPLICANTS}
    col = rng.choice(APPLICANTS[:2])
    carried[col] += _delta(rng, carried[col])
    return carried
