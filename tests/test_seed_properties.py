"""Property tests: the seed's values survive random re-layouts of its tables.

Each example re-renders the seed with layout noise real reports show (spacing, separators, full-width digits,
spam anywhere, rows and labels broken across lines) and must give the same 200 cells.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.parse import parse_bytes, parse_file
from tests.conftest import SEED

SPAM = ("365bet提款规则_365bet中国客服电话_怎样获得免费office365", "澳门威尼斯人官网", "点击进入>>")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
EXPECTED = parse_file(SEED).cells
LINES = SEED.read_text(encoding="utf-8").splitlines()
# the seed's table rows: lines with separators between 二、主动公开 and 五、存在的主要问题
_START = next(i for i, line in enumerate(LINES) if line.startswith("二、主动公开"))
_END = next(i for i, line in enumerate(LINES) if line.startswith("五、存在的主要问题"))


def _relayout(
    rng: random.Random, sep: str, pad: int, full_width: float, spam: float, breaks: float, label_breaks: float
) -> str:
    out = LINES[:_START]
    for line in LINES[_START:_END]:
        if "|" not in line:
            out.append(line)
            continue
        cells = [c.strip() for c in line.split("|")]
        if rng.random() < full_width:
            cells = [c.translate(FULL_WIDTH) for c in cells]
        if rng.random() < spam:  # spam after a number, as a cell of its own, or on a line of its own
            where = rng.randrange(3)
            i = rng.randrange(len(cells))
            if where == 0 and cells[i][:1].isdigit():
                cells[i] = f"{cells[i]} {rng.choice(SPAM)}"
            elif where == 1:  # an extra cell at the end of the row, before the row's closing separator
                cells.insert(len(cells) - 1 if cells[-1] == "" else len(cells), rng.choice(SPAM))
            else:
                out.append(rng.choice(SPAM))
        if rng.random() < label_breaks and len(cells[0]) > 6 and not cells[0][:1].isdigit():
            cut = rng.randrange(2, len(cells[0]) - 1)
            out.append(cells[0][:cut])  # a label wrapped onto the next line, numbers with its second half
            cells[0] = cells[0][cut:]
        joiner = " " * pad + sep + " " * pad
        if rng.random() < breaks and len(cells) > 4:
            cut = rng.randrange(2, len(cells) - 1)
            out.append(joiner.join(cells[:cut]) + joiner.rstrip())
            out.append(sep + " " * pad + joiner.join(cells[cut:]))
        else:
            out.append(joiner.join(cells))
    out += LINES[_END:]
    return "\n".join(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    sep=st.sampled_from(["|", "｜", "\t"]),
    pad=st.integers(0, 3),
    full_width=st.floats(0, 1),
    spam=st.floats(0, 0.3),
    breaks=st.floats(0, 0.2),
    label_breaks=st.floats(0, 0.2),
)
def test_seed_relayouts_give_the_same_cells(seed, sep, pad, full_width, spam, breaks, label_breaks):
    text = _relayout(random.Random(seed), sep, pad, full_width, spam, breaks, label_breaks)
    got = parse_bytes(text.encode("utf-8"), "seed.txt").cells
    assert {c: (got[c], v) for c, v in EXPECTED.items() if got[c] != v} == {}
