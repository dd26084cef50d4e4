"""The sensor that evaluates automation conditions: the jobs list hourly, the current graph after
lineage lands (and OpenLineage events after the graph).

It targets every asset, so an asset added with an automation condition (a scaffolded defs file,
say) is evaluated without touching this module. Declared here, not left to Dagster's implicit
default, so it is on from the first `dagster dev`.
"""

import dagster as dg

graph_automation_sensor = dg.AutomationConditionSensorDefinition(
    "sqlflow_graph_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
