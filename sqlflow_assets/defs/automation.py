"""The sensor that evaluates automation conditions: the current graph rebuilds after lineage lands.

Declared here (not left to Dagster's implicit default) so it is on from the first `dagster dev`.
"""

import dagster as dg

from sqlflow_assets.defs.assets import lineage_graph

graph_automation_sensor = dg.AutomationConditionSensorDefinition(
    "sqlflow_graph_automation",
    target=dg.AssetSelection.assets(lineage_graph),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
