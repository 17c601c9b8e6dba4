"""GE's verdicts turned into failure rows an analyst can act on: which cells, what was expected, what was found.

GE decides which reports failed which expectation (by report_id); these functions only read the failing
reports' rows back (cells, report columns, derived columns) to name the cells and print the numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from etl.validate import FAILURE_COLUMNS
from etl.validate.suites import flagged, on_purpose

Hit = tuple[dict[str, Any], list[str]]  # (expectation meta, failing report ids)
_LISTED = 8  # cells named in a message; the cells column lists them all


def failing_ids(result: dict | None) -> list[str]:
    """The failing report ids of an expectation's COMPLETE result (RESULT_FORMAT of etl.validate.run)."""
    rows = (result or {}).get("unexpected_index_list") or []
    if len(rows) == 1 and isinstance(rows[0].get("report_id"), list):
        return list(rows[0]["report_id"])
    return [row["report_id"] for row in rows]


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in FAILURE_COLUMNS})


def fmt(values: pd.Series) -> pd.Series:
    """Numbers as printed in a report: 25 rather than 25.0, decimals kept."""
    integral = (values % 1 == 0).to_numpy()
    out = values.astype(str).to_numpy(dtype=object)
    out[integral] = values[integral].astype("int64").astype(str).to_numpy(dtype=object)
    return pd.Series(out, index=values.index, dtype="str")


def _rows(
    meta: dict[str, Any], ids: list[str], cells: Any, expected: Any, found: Any, message: Any
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_id": ids,
            "rule_id": meta["rule_id"],
            "severity": meta["severity"],
            "cells": cells,
            "expected": expected,
            "found": found,
            "message": message,
        }
    )[FAILURE_COLUMNS]


def _sum(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    rows = data.loc[ids]
    parts, totals = fmt(rows[meta["parts"]].sum(axis=1)), fmt(rows[meta["totals"]].sum(axis=1))
    cells = json.dumps(meta["cells"], ensure_ascii=False)
    if meta["kind"] == "at_most":  # Σ parts <= Σ totals: the bound is what was expected
        return _rows(
            meta,
            ids,
            cells,
            totals.to_numpy(),
            parts.to_numpy(),
            (f"{description}: expected at most " + totals + ", found " + parts).to_numpy(),
        )
    return _rows(
        meta,
        ids,
        cells,
        parts.to_numpy(),
        totals.to_numpy(),
        (f"{description}: expected " + parts + ", found " + totals).to_numpy(),
    )


def _max(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    (cell,) = meta["cells"]
    found = cell + "=" + fmt(data.loc[ids, cell])
    expected = f"at most {meta['limit']:g}"
    return _rows(
        meta, ids, json.dumps([cell]), expected, found.to_numpy(), (f"{description}: " + found).to_numpy()
    )


def _presence(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    """The null cells, with the parser's reason for each."""
    cells = meta["cells"]
    rows = data.loc[ids]
    null = rows[cells].isna().to_numpy()
    purposeful = on_purpose(rows["unresolved"], cells)
    if meta["kind"] == "unresolved":
        hits = null & purposeful
    else:
        hits = null & ~(purposeful & np.isin(np.array(cells), meta["tolerated"]))
    out = []
    for i, rid in enumerate(ids):
        named = [cells[j] for j in np.flatnonzero(hits[i])]
        reasons = (
            json.loads(rows["unresolved"].iloc[i]) if isinstance(rows["unresolved"].iloc[i], str) else {}
        )
        listed = "; ".join(f"{c} ({reasons.get(c) or 'no reason given'})" for c in named[:_LISTED])
        more = f"; … {len(named)} cells in all" if len(named) > _LISTED else ""
        out.append((rid, json.dumps(named, ensure_ascii=False), f"{len(named)} null: {listed}{more}"))
    frame = pd.DataFrame(out, columns=["report_id", "cells", "found"])
    expected = "no null cell" if meta["kind"] == "complete" else "表二 cells resolved"
    return _rows(
        meta,
        ids,
        frame["cells"].to_numpy(),
        expected,
        frame["found"].to_numpy(),
        (f"{description}: " + frame["found"]).to_numpy(),
    )


def _flagged(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    """The flagged cells, with their values and reasons."""
    cells = meta["cells"]
    rows = data.loc[ids]
    hits = flagged(rows["unresolved"], cells, meta["flag"])
    out = []
    for i, rid in enumerate(ids):
        named = [cells[j] for j in np.flatnonzero(hits[i])]
        raw = rows["unresolved"].iloc[i]
        reasons = json.loads(raw) if isinstance(raw, str) else {}
        listed = "; ".join(f"{c} ({reasons.get(c)})" for c in named[:_LISTED])
        more = f"; … {len(named)} cells in all" if len(named) > _LISTED else ""
        out.append((rid, json.dumps(named, ensure_ascii=False), f"{len(named)} flagged: {listed}{more}"))
    frame = pd.DataFrame(out, columns=["report_id", "cells", "found"])
    return _rows(
        meta,
        ids,
        frame["cells"].to_numpy(),
        "no flagged cell",
        frame["found"].to_numpy(),
        (f"{description}: " + frame["found"]).to_numpy(),
    )


def _authority(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    (cell,) = meta["cells"]
    rows = data.loc[ids]
    found = cell + "=" + fmt(rows[cell])
    who = "scope=" + rows["scope"].astype(str) + ", adcode=" + rows["adcode"].astype(str)
    return _rows(
        meta,
        ids,
        json.dumps([cell]),
        ("0 (" + who + ")").to_numpy(),
        found.to_numpy(),
        (f"{description}: " + found + " reported by an issuer without that power (" + who + ")").to_numpy(),
    )


def _stated(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    rows = data.loc[ids]
    readings = [fmt(rows[alt].sum(axis=1)) for alt in meta["alternatives"]]
    expected = readings[0]
    for r in readings[1:]:
        expected = expected + " or " + r
    found = fmt(rows[meta["stated"]])
    return _rows(
        meta,
        ids,
        json.dumps(meta["cells"], ensure_ascii=False),
        expected.to_numpy(),
        found.to_numpy(),
        (f"{description}: the text states " + found + " 件, the table " + expected).to_numpy(),
    )


def _ratio(data: pd.DataFrame, meta: dict[str, Any], ids: list[str], description: str) -> pd.DataFrame:
    rows = data.loc[ids]
    this, last = fmt(rows[meta["parts"][0]]), fmt(rows[meta["totals"][0]])
    limit = meta["limit"]
    expected = f"×{1 / limit:g} … ×{limit:g} of last year's " + last
    return _rows(
        meta,
        ids,
        json.dumps(meta["cells"]),
        expected.to_numpy(),
        this.to_numpy(),
        (f"{description}: last year " + last + ", this year " + this).to_numpy(),
    )


# Which cells of a failing report broke a cell family's check (GE only says the report failed it).
_OFFENDING = {
    "non_negative": lambda v: v < 0,
    "integer": lambda v: v.notna() & (v % 1 != 0),
}


def _cell_families(data: pd.DataFrame, hits: list[Hit]) -> pd.DataFrame:
    """One row per (report, cell family): the offending cells named, with their values."""
    longs = []
    for meta, ids in hits:
        values = data.loc[ids, meta["cells"]]
        values.index.name, values.columns.name = "report_id", "cell"
        bad = values.where(_OFFENDING[meta["check"]](values)).stack().dropna().rename("value").reset_index()
        longs.append(
            bad.assign(rule_id=meta["rule_id"], severity=meta["severity"], expected=meta["expected"])
        )
    # A cell like -2.5 breaks both checks of its family: name it once, in the family's cell order.
    long = pd.concat(longs, ignore_index=True).drop_duplicates(["report_id", "rule_id", "cell"])
    order = {cell: i for meta, _ in hits for i, cell in enumerate(meta["cells"])}
    long = long.sort_values("cell", key=lambda c: c.map(order), kind="stable")
    long["item"] = long["cell"] + "=" + fmt(long["value"])
    grouped = long.groupby(["report_id", "rule_id", "severity", "expected"], sort=False).agg(
        cells=("cell", list), found=("item", "; ".join)
    )
    out = grouped.reset_index()
    out["message"] = "cells must be " + out["expected"] + ": " + out["found"]
    out["cells"] = [json.dumps(c, ensure_ascii=False) for c in out["cells"]]
    return out[FAILURE_COLUMNS]


_EXPLAIN: dict[str, Callable[[pd.DataFrame, dict[str, Any], list[str], str], pd.DataFrame]] = {
    "sum": _sum,
    "at_most": _sum,
    "max": _max,
    "complete": _presence,
    "unresolved": _presence,
    "flagged": _flagged,
    "authority": _authority,
    "stated": _stated,
    "ratio": _ratio,
}


def explain(data: pd.DataFrame, hits: list[Hit], rules_meta: list[dict[str, Any]]) -> pd.DataFrame:
    """Failure rows for GE's hits, in batch order then rule order. data: indexed by report_id, with the
    cells, the report columns and the derived columns."""
    if not hits:
        return empty()
    descriptions = {r["rule_id"]: r["description"] for r in rules_meta}
    frames = [
        _EXPLAIN[m["kind"]](data, m, ids, descriptions[m["rule_id"]])
        for m, ids in hits
        if m["kind"] != "cells"
    ]
    family_hits = [(m, ids) for m, ids in hits if m["kind"] == "cells"]
    if family_hits:
        frames.append(_cell_families(data, family_hits))
    out = pd.concat(frames, ignore_index=True)
    rule_order = {r["rule_id"]: i for i, r in enumerate(rules_meta)}
    report_order = pd.Series(range(len(data)), index=data.index)
    keys = pd.DataFrame(
        {"report": report_order.loc[out["report_id"]].to_numpy(), "rule": out["rule_id"].map(rule_order)}
    )
    return out.iloc[keys.sort_values(["report", "rule"], kind="stable").index].reset_index(drop=True)
