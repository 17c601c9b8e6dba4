"""Validation stage: the rule catalogue as Great Expectations suites, run once per batch and suite."""

import os

# Before anything imports great_expectations (the submodules below do): no usage analytics.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from etl.parse.narrative import stated_figures  # noqa: E402
from etl.validate.rules import Rule, crossyear_rules, rules  # noqa: E402
from etl.validate.run import FAILURE_COLUMNS, SuiteRun, validate_frame, validate_reports  # noqa: E402
from etl.validate.suites import build_suite, load_suite, write_suites  # noqa: E402

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
