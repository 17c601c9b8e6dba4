"""Validation stage: the rule catalogue as Great Expectations suites, run once per batch and template."""

import os

# Before anything imports great_expectations (the submodules below do): no usage analytics.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from etl.validate.rules import Rule, rules  # noqa: E402
from etl.validate.run import FAILURE_COLUMNS, validate_frame, validate_reports  # noqa: E402
from etl.validate.suites import build_suite, load_suite, write_suites  # noqa: E402

__all__ = [
    "FAILURE_COLUMNS",
    "Rule",
    "build_suite",
    "load_suite",
    "rules",
    "validate_frame",
    "validate_reports",
    "write_suites",
]
