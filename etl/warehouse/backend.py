"""Two warehouse backends behind one small interface: embedded DuckDB (default) and PostgreSQL.

The loader and the marts only use: execute / fetch (`?` parameters), a transaction, the list of tables and
columns, and `append_arrow` to bulk-load a stream of Arrow record batches (DuckDB scans the stream; PostgreSQL
gets COPY ... FROM STDIN fed one CSV-encoded batch at a time, so memory stays bounded by one batch).
"""

from __future__ import annotations

import hashlib
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from etl.warehouse.sql import SQL_DIR, script, to_pyformat

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_ARROW_SQL = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
}


@dataclass(frozen=True)
class Target:
    """Where the warehouse lives: a DuckDB file, or a PostgreSQL database and schema."""

    duckdb_path: Path | None = None
    pg_url: str | None = None
    pg_schema: str = "annual_reports"

    def __post_init__(self) -> None:
        if (self.duckdb_path is None) == (self.pg_url is None):
            raise ValueError("a warehouse target is either a DuckDB file or a PostgreSQL URL")
        if not _IDENT.match(self.pg_schema):
            raise ValueError(f"invalid PostgreSQL schema name {self.pg_schema!r}")

    @property
    def dialect(self) -> str:
        return "duckdb" if self.duckdb_path else "postgres"

    def describe(self) -> str:
        if self.duckdb_path:
            return str(self.duckdb_path)
        return f"{re.sub(r'//[^@/]*@', '//', self.pg_url or '')} schema {self.pg_schema}"  # no credentials


def sql_type(t: pa.DataType) -> str:
    return _ARROW_SQL[t]


class Warehouse(ABC):
    """One connection; `?` parameters on both backends."""

    dialect: str

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    @abstractmethod
    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...

    @abstractmethod
    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing: commits on exit, rolls back on any exception."""

    @abstractmethod
    def append_arrow(self, table: str, reader: pa.RecordBatchReader) -> None:
        """Bulk-append a stream of record batches (columns by name) to an existing table."""

    @abstractmethod
    def table_schema(self) -> str:
        """The information_schema.table_schema holding the warehouse's tables."""

    @abstractmethod
    def close(self) -> None: ...

    # -- shared -----------------------------------------------------------------------------------------
    def run_script(self, name: str) -> None:
        for stmt in script(name):
            self.execute(stmt)

    def fetchone(self, sql: str, params: Sequence[Any] | None = None) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def tables(self, kind: str = "BASE TABLE") -> list[str]:
        rows = self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = ?",
            [self.table_schema(), kind],
        )
        return sorted(r[0] for r in rows)

    def columns(self, table: str) -> list[str]:
        rows = self.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [self.table_schema(), table],
        )
        return [r[0] for r in rows]

    def create_temp(self, table: str, schema: pa.Schema) -> None:
        cols = ", ".join(f"{f.name} {sql_type(f.type)}" for f in schema)
        self.execute(f"CREATE TEMP TABLE {table} ({cols})")

    def append_table(self, table: str, data: pa.Table) -> None:
        self.append_arrow(table, pa.RecordBatchReader.from_batches(data.schema, data.to_batches()))

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBWarehouse(Warehouse):
    dialect = "duckdb"

    def __init__(self, path: Path, read_only: bool = False) -> None:
        import duckdb

        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        from etl.config import load_settings

        # a bounded buffer pool: DuckDB spills staging and sorts to disk instead of growing with the batch
        config = {"memory_limit": load_settings().duckdb_memory_limit}
        self.con = duckdb.connect(str(path), read_only=read_only, config=config)
        self.con.execute("SET enable_progress_bar = false")  # batch logs, not a terminal

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def append_arrow(self, table: str, reader: pa.RecordBatchReader) -> None:
        cols = ", ".join(reader.schema.names)
        self.con.register("_arrow_src", reader)  # scanned batch by batch, never materialized
        try:
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _arrow_src")
        finally:
            self.con.unregister("_arrow_src")

    def table_schema(self) -> str:
        return "main"

    def close(self) -> None:
        self.con.close()


class PostgresWarehouse(Warehouse):
    dialect = "postgres"

    def __init__(self, url: str, schema: str, create: bool = True) -> None:
        import psycopg

        self.schema = schema
        # one lock id per warehouse schema: serializes concurrent loads and mart builds on it
        self.lock_id = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)
        # autocommit: temp staging tables outlive statements; writes run in explicit transactions
        self.con = psycopg.connect(url, autocommit=True)
        if create:
            with self.transaction():
                self.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        self.execute(f'SET search_path TO "{schema}"')

    def _run(self, sql: str, params: Sequence[Any] | None) -> Any:
        # no parameters: the text goes as is (a literal % must not be read as a placeholder)
        return self.con.execute(to_pyformat(sql), params) if params else self.con.execute(sql)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self._run(sql, params).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cur = self._run(sql, params)
        names = [d.name for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.con.transaction():
            self.execute("SELECT pg_advisory_xact_lock(?)", [self.lock_id])
            yield

    def append_arrow(self, table: str, reader: pa.RecordBatchReader) -> None:
        cols = ", ".join(reader.schema.names)
        # all_valid: values quoted, NULLs bare, so '' and NULL stay distinct in PostgreSQL's CSV format
        options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
        with self.con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
            for batch in reader:
                buf = io.BytesIO()
                pa_csv.write_csv(batch, buf, options)
                copy.write(buf.getbuffer())

    def table_schema(self) -> str:
        return self.schema

    def close(self) -> None:
        self.con.close()


def connect(target: Target, read_only: bool = False) -> Warehouse:
    """Open the warehouse; the writer also creates or updates the schema (idempotent DDL)."""
    if target.duckdb_path is not None:
        wh: Warehouse = DuckDBWarehouse(target.duckdb_path, read_only=read_only)
    else:
        wh = PostgresWarehouse(target.pg_url or "", target.pg_schema, create=not read_only)
    if not read_only:
        try:
            with wh.transaction():
                wh.run_script("schema.sql")
                _check_schema_version(wh, target)
        except BaseException:
            wh.close()
            raise
    return wh


class SchemaMismatch(RuntimeError):
    """The warehouse was created by another version of warehouse/schema.sql."""


def schema_version() -> str:
    return hashlib.sha256((SQL_DIR / "schema.sql").read_bytes()).hexdigest()[:12]


def _check_schema_version(wh: Warehouse, target: Target) -> None:
    """CREATE TABLE IF NOT EXISTS adds new tables but never new columns: a warehouse made by another schema
    is refused with a clear message instead of failing later on a missing column."""
    current = schema_version()
    row = wh.fetchone("SELECT value FROM meta WHERE key = 'schema_version'")
    if row is None:
        if wh.fetchone("SELECT count(*) FROM run_log")[0] == 0:  # a new warehouse: stamp it
            wh.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", [current])
            return
        stored = "unknown (made before schemas were stamped)"
    else:
        stored = row[0]
        if stored == current:
            return
    raise SchemaMismatch(
        f"warehouse {target.describe()} has schema {stored}, this code expects {current}: it is derived data, so "
        "rebuild it (remove the DuckDB file, or drop the PostgreSQL schema) and re-run over the landing folder"
    )
