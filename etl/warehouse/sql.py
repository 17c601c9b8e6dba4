"""The warehouse's SQL files and the few dialect differences between DuckDB and PostgreSQL.

schema.sql and marts.sql are written once in the common subset of both dialects. What cannot be written
portably is a macro expanded here, so the files stay identical for both backends:

    round4(x)        x rounded to 4 decimals, as DOUBLE PRECISION (PostgreSQL has no ROUND(double, int))
    ratio4(n, d)     n / d rounded to 4 decimals; NULL when d is 0 or NULL (no integer division on PG)

Statement parameters are written `?` (DuckDB) and become `%s` for psycopg.
"""

from __future__ import annotations

import re

from etl.config import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "warehouse"

# NUMERIC(30, 12): exact rounding on both backends (DuckDB's bare NUMERIC is DECIMAL(18, 3)).
_MACROS = {
    "round4": lambda x: f"CAST(ROUND(CAST({x} AS NUMERIC(30, 12)), 4) AS DOUBLE PRECISION)",
    "ratio4": lambda n, d: (
        f"CAST(ROUND(CAST(CAST({n} AS DOUBLE PRECISION) / NULLIF({d}, 0) AS NUMERIC(30, 12)), 4) "
        f"AS DOUBLE PRECISION)"
    ),
}
_MACRO_CALL = re.compile(r"\b(" + "|".join(_MACROS) + r")\s*\(")


def _split_args(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of a call whose '(' is at text[start - 1]; returns (args, end)."""
    depth, args, begin = 0, [], start
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                args.append(text[begin:i].strip())
                return args, i + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[begin:i].strip())
            begin = i + 1
    raise ValueError(f"unbalanced parentheses after {text[max(0, start - 20) : start]!r}")


def expand_macros(sql: str) -> str:
    while m := _MACRO_CALL.search(sql):
        args, end = _split_args(sql, m.end())
        sql = sql[: m.start()] + _MACROS[m.group(1)](*(expand_macros(a) for a in args)) + sql[end:]
    return sql


def statements(sql: str) -> list[str]:
    """The statements of a script: `--` comments dropped, split on `;` (neither appears in our literals)."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


def script(name: str) -> list[str]:
    """A warehouse/*.sql file as ready-to-run statements (macros expanded)."""
    return [expand_macros(s) for s in statements((SQL_DIR / name).read_text(encoding="utf-8"))]


def to_pyformat(sql: str) -> str:
    """`?` placeholders -> psycopg's `%s` (a literal % is doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")
