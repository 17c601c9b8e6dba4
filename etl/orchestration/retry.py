"""The retry policy of every task: retries are for what can pass on a second try, not for bugs."""

from __future__ import annotations

from airflow.sdk import RetryDecision, RetryPolicy


class FailFastOnDeterministicErrors(RetryPolicy):
    """Fail at once on an error that fails the same way on every try; anything else gets the normal retries.

    Deterministic: a bug (TypeError, KeyError, ...), a bad value (ValueError, pyarrow's ArrowInvalid, ...),
    and the DB-API errors that mean the SQL or the data is wrong (ProgrammingError, DataError, ...: DuckDB's
    BinderException or CatalogException, say, after a warehouse schema change).  Retried: I/O, a locked
    warehouse file (DuckDB's IOException is an OperationalError), a killed worker, anything unknown.
    DB-API classes are matched by name so that parsing a DAG file imports no database driver.
    """

    BUILTIN = (
        ImportError,
        SyntaxError,
        TypeError,
        ValueError,
        LookupError,
        AttributeError,
        AssertionError,
        NotImplementedError,
    )
    DBAPI = frozenset({"ProgrammingError", "DataError", "IntegrityError", "NotSupportedError"})
    # the pipeline's own deterministic failures (a ledger that does not add up, a failed warehouse audit)
    PIPELINE = frozenset({"LedgerError", "AuditError", "CorrectionsError", "SchemaMismatch"})

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        if isinstance(exception, self.BUILTIN) or any(
            (cls.__name__ in self.DBAPI and cls.__module__ != "builtins")
            or (cls.__name__ in self.PIPELINE and cls.__module__.startswith("etl."))
            for cls in type(exception).__mro__
        ):
            return RetryDecision.fail(f"{type(exception).__name__} fails the same way on every try")
        return RetryDecision.default()
