"""Validation stage: the rule catalogue as Great Expectations suites, run once per batch and suite.

The suite runner's names are loaded on first use (PEP 562): the rule catalogue (`etl.validate.rules`) is also read
by the parser (positional 表三 rows, OCR repairs), and importing this package must not drag Great
Expectations (seconds of import, hundreds of MB) into every parse worker.
"""

import importlib
import os

# Before anything imports great_expectations (etl.validate.run and suites do): no usage analytics.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

# Light and eager: `rules` must name the function, not the submodule of the same name.
from etl.parse.narrative import stated_figures  # noqa: E402
from etl.validate.rules import Rule, crossyear_rules, rules  # noqa: E402

# The failure table's columns: light, so a run with nothing to validate writes its empty table without GE.
FAILURE_COLUMNS = ["report_id", "rule_id", "severity", "cells", "expected", "found", "message"]

_EXPORTS = {
    "SuiteRun": "etl.validate.run",
    "validate_frame": "etl.validate.run",
    "validate_reports": "etl.validate.run",
    "build_suite": "etl.validate.suites",
    "load_suite": "etl.validate.suites",
    "write_suites": "etl.validate.suites",
}

__all__ = [
    "FAILURE_COLUMNS",
    "Rule",
    "SuiteRun",
    "build_suite",
    "crossyear_rules",
    "load_suite",
    "rules",
    "stated_figures",
    "validate_frame",
    "validate_reports",
    "write_suites",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
