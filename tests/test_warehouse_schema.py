"""The warehouse schema: figures.sql matches its table; a warehouse made by another schema is refused."""

from __future__ import annotations

import duckdb

from etl.warehouse.sql import script


def test_figures_select_matches_the_table():
    con = duckdb.connect()
    for stmt in script("schema.sql"):
        con.execute(stmt)
    table = [r[0] for r in con.execute("DESCRIBE fact_report_figures").fetchall()]
    con.execute("CREATE TEMP TABLE c (report_id VARCHAR, year INTEGER, code VARCHAR, value DOUBLE)")
    con.execute("CREATE TEMP TABLE ids (report_id VARCHAR)")
    (select,) = script("figures.sql")
    selected = [d[0] for d in con.execute(select.format(cells="c", reports="ids")).description]
    assert selected == table


def test_a_warehouse_from_another_schema_is_refused(tmp_path):
    import pytest

    from etl.warehouse import Target, connect
    from etl.warehouse.backend import SchemaMismatch

    target = Target(duckdb_path=tmp_path / "w.duckdb")
    with connect(target) as wh:  # a new warehouse is stamped with the current schema
        wh.execute("UPDATE meta SET value = 'older' WHERE key = 'schema_version'")
    with pytest.raises(SchemaMismatch, match="rebuild"):
        connect(target)
