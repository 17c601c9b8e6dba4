"""OCR'd cells after the table reader: provenance, low confidence, and repair by the table identities.

OCR never loads a wrong number silently:
- every placed cell carries provenance `ocr page P box x0,y0,x1,y1 conf C (row where)`;
- low-confidence cells covered by the identities (表三, 表四 sums of etl.validate.rules) are judged by them:
  when every identity holds the readings stand; when some fail, the readings OCR offered for the
  low-confidence cells in the failing identities are tried, and a combination is taken only when it is the
  one and only combination that makes every identity hold (marked `ocr_repaired`); otherwise those cells
  are left null with the reason, and the report is quarantined by `report.complete` as any missing cell;
- low-confidence 表二 cells (no identity reads them) keep their reading and are flagged: the rule
  `t2.ocr_low_confidence` (a warning) names them, from the reason recorded here;
- a misread at high confidence that breaks an identity is quarantined by the identity as usual.
"""

from __future__ import annotations

import itertools
from typing import Any

from etl.parse.scan import LOW_CONF, CellRead, ScanRead
from etl.parse.tables import TableRead
from etl.parse.values import read_slot
from etl.validate.rules import OCR_LOW_CONFIDENCE, holds, identities

_MAX_COMBINATIONS = 4096


def _value_cells(cells: list[CellRead]) -> list[CellRead]:
    """The row's value cells: those after its last label cell (a text cell that is not a number)."""
    last_label = -1
    for i, c in enumerate(cells):
        if c.text and read_slot(c.text) is None:
            last_label = i
    return cells[last_label + 1 :]


def _as_number(text: str) -> float | int | None:
    slot = read_slot(text)
    if slot is None or slot.is_blank:
        return None
    return slot.value


def place(tables: TableRead, read: ScanRead) -> dict[str, CellRead]:
    """code -> the OCR reading it came from; provenance rewritten to name page, box and confidence."""
    by_where: dict[str, list[str]] = {}
    for code, where in tables.provenance.items():
        by_where.setdefault(where, []).append(code)
    out: dict[str, CellRead] = {}
    for where, codes in by_where.items():
        # a where with a note ("page 4 table 1 row 7 (single （六） row, all zero)") names its row first
        cells = read.cells.get(where) or read.cells.get(where.split(" (")[0])
        if not cells:
            continue
        values = _value_cells(cells)
        if len(values) != len(codes):  # a row the reader merged or trimmed: match by value, in order
            pending = list(values)
            pairs = []
            for code in codes:
                v = tables.cells.get(code)
                k = next(
                    (i for i, c in enumerate(pending) if _as_number(c.text) == v or (not c.text and v == 0)),
                    None,
                )
                if k is not None:
                    pairs.append((code, pending[k]))
                    pending = pending[k + 1 :]
        else:
            pairs = list(zip(codes, values, strict=True))
        for code, cell in pairs:
            out[code] = cell
            tables.provenance[code] = f"{cell.provenance()} ({where})"
        for code in codes:
            if code not in out:  # placed from this row, but which cell is not certain: the row, its weakest
                row = values or cells
                box = (
                    min(c.box[0] for c in row),
                    min(c.box[1] for c in row),
                    max(c.box[2] for c in row),
                    max(c.box[3] for c in row),
                )
                conf = min(c.conf for c in row)
                out[code] = CellRead(str(tables.cells.get(code)), cells[0].page, box, conf)
                tables.provenance[code] = f"{out[code].provenance()} ({where}, cell not matched)"
    return out


def _candidates(code: str, cell: CellRead, value: Any) -> list[Any]:
    out = [value]
    for alt in cell.alternatives:
        v = _as_number(alt)
        if v is not None and v not in out and v >= 0 and float(v).is_integer():
            out.append(int(v))
    return out


def judge(tables: TableRead, placed: dict[str, CellRead]) -> dict[str, Any]:
    """Low-confidence cells judged by the identities (see the module doc); the OCR summary of the report."""
    low = {c: r for c, r in placed.items() if r.conf < LOW_CONF and tables.cells.get(c) is not None}
    rules = identities(tables.template)
    failing = [r for r in rules if holds(r, tables.cells) is False]
    suspects = sorted({c for r in failing for c in r.cells if c in low})
    repaired: dict[str, list[Any]] = {}
    nulled: list[str] = []
    if suspects:
        options = [_candidates(c, low[c], tables.cells[c]) for c in suspects]
        n = 1
        for o in options:
            n *= len(o)
        touched = [r for r in rules if set(r.cells) & set(suspects)]
        solutions = []
        if n <= _MAX_COMBINATIONS:
            for combo in itertools.product(*options):
                trial = dict(tables.cells)
                trial.update(zip(suspects, combo, strict=True))
                if all(holds(r, trial) is not False for r in touched) and all(
                    holds(r, trial) is not False for r in failing
                ):
                    solutions.append(combo)
                    if len(solutions) > 1:
                        break
        if len(solutions) == 1:
            for code, v in zip(suspects, solutions[0], strict=True):
                if v != tables.cells[code]:
                    repaired[code] = [tables.cells[code], v]
                    tables.provenance[code] += f" ocr_repaired (read {tables.cells[code]})"
                    tables.cells[code] = v
        else:
            why = "no reading" if not solutions else "more than one reading"
            for code in suspects:
                r = low[code]
                tables.unresolved[code] = (
                    f"{OCR_LOW_CONFIDENCE}: read {r.text!r} at {r.conf:.2f}; {why} among OCR's alternatives "
                    "satisfies the table identities"
                )
                tables.cells[code] = None
                nulled.append(code)
    flagged = {}
    for code, r in low.items():
        if code.startswith("t2.") and tables.cells.get(code) is not None:
            tables.unresolved[code] = f"{OCR_LOW_CONFIDENCE}: read {r.text!r} at {r.conf:.2f} (value kept)"
            flagged[code] = round(r.conf, 2)
    return {
        "low_confidence": {c: round(r.conf, 2) for c, r in low.items()},
        "repaired": repaired,
        "nulled": nulled,
        "flagged": flagged,
    }
