"""The sensor that evaluates automation conditions: the current graph rebuilds after lineage lands
(and OpenLineage events follow it).

Declared here (not left to Dagster's implicit default) so it is on from the first `dagster dev`.
"""

import dagster as dg

from sqlflow_assets.defs.assets import lineage_graph
from sqlflow_assets.defs.openlineage import openlineage_events

graph_automation_sensor = dg.AutomationConditionSensorDefinition(
    "sqlflow_graph_automation",
    target=dg.AssetSelection.assets(lineage_graph, openlineage_events),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
