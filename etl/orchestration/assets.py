"""The Assets that connect the DAGs: data, not clocks, decides when the marts and the dashboard refresh.

FACTS is updated by a load that published something (the ingest and the rebuild DAGs); the warehouse DAG is
scheduled on it.  MARTS is updated by the marts task: a BI extract or report DAG can be scheduled on it.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetAlias

FACTS = Asset(name="annual_reports_facts", uri="warehouse://annual_reports/facts", group="warehouse")
MARTS = Asset(name="annual_reports_marts", uri="warehouse://annual_reports/marts", group="warehouse")

# The load task's outlet.  Through an alias, the task itself decides whether FACTS gets an event: a run that
# changed nothing (the incremental pipeline published no partition) triggers no warehouse run.
FACTS_CHANGES = AssetAlias(name="annual_reports_facts_changes")
