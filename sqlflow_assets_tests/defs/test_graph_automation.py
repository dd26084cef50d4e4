"""The current graph's automation (`GRAPH_AUTOMATION`), evaluated tick by tick as the
`sqlflow_graph_automation` sensor evaluates it, over real job lineage materialisations and real
graph runs: a run is created the way the sensor launches one (starting, targeting what the tick
requested) and executed later, so a job's lineage can land while it is in progress."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run

from sqlflow_assets_tests.support import INGEST, MARTS_V1, load_jobs, materialize_job_lineage

GRAPH_GROUP = "lineage_graph"  # the graph's tables and OpenLineage's events: what the automation refreshes


class Automation:
    """The sensor's evaluations on one instance, its cursor carried from tick to tick."""

    def __init__(self) -> None:
        from sqlflow_assets.definitions import defs

        self.defs = defs
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: AssetDaemonCursor | None = None
        self.graph_keys = dg.AssetSelection.groups(GRAPH_GROUP).resolve(defs.resolve_asset_graph())
        refresh_job = dg.define_asset_job("graph_refresh", selection=dg.AssetSelection.groups(GRAPH_GROUP), executor_def=dg.in_process_executor)
        self.job = dg.Definitions.merge(defs, dg.Definitions(jobs=[refresh_job])).resolve_job_def("graph_refresh")

    def tick(self) -> set[dg.AssetKey]:
        """One evaluation: the graph's keys it requests (the jobs list's hourly request left out)."""
        result = dg.evaluate_automation_conditions(defs=self.defs, instance=self.instance, cursor=self.cursor)
        self.cursor = result.cursor
        return {r.key for r in result.results if r.true_subset.size and isinstance(r.key, dg.AssetKey)} & self.graph_keys

    def start(self, requested: set[dg.AssetKey]) -> dg.DagsterRun:
        """The run the sensor launches for a request, started but not yet executed."""
        assert requested == self.graph_keys, requested  # the whole graph (one multi-asset) and its events
        return self.instance.create_run_for_job(self.job, asset_selection=frozenset(requested), status=dg.DagsterRunStatus.STARTING)

    def finish(self, run: dg.DagsterRun) -> None:
        assert execute_run(InMemoryJob(self.job), run, self.instance).success


def test_a_job_landing_while_the_graph_run_is_in_progress_is_refreshed_after_it(project_env):
    """Eager's `since_last_handled` counts the graph run's own materialisation as handling the job
    that landed during it: the graph stayed stale until the next job. Also: a never-loaded and a
    failed partition hold nothing back, and nothing is requested again once the graph is current."""
    automation = Automation()
    automation.instance.add_dynamic_partitions("sqlflow_jobs", ["never-loaded"])
    assert not materialize_job_lineage(automation.instance, "no-such-job", raise_on_error=False).success
    assert automation.tick() == set()

    load_jobs(project_env, automation.instance, ("ingest", INGEST))
    run = automation.start(automation.tick())  # the first job: a refresh
    assert automation.tick() == set()  # its run is in progress
    load_jobs(project_env, automation.instance, ("marts", MARTS_V1))  # lands during the run
    assert automation.tick() == set()  # still in progress
    automation.finish(run)  # read before "marts" landed
    again = automation.tick()
    assert again == automation.graph_keys  # "marts" is refreshed now, not at the next job

    automation.finish(automation.start(again))
    assert [automation.tick() for _ in range(3)] == [set()] * 3  # current: nothing more


def test_a_job_landing_in_the_tick_after_the_request_is_refreshed_after_the_run(project_env):
    """The tick after a request resets what was pending: a job that landed just before it (the run
    started, not finished) was dropped with it."""
    automation = Automation()
    assert automation.tick() == set()
    load_jobs(project_env, automation.instance, ("ingest", INGEST))
    run = automation.start(automation.tick())
    load_jobs(project_env, automation.instance, ("marts", MARTS_V1))
    assert automation.tick() == set()  # the run is in progress
    automation.finish(run)
    again = automation.tick()
    assert again == automation.graph_keys

    automation.finish(automation.start(again))
    assert [automation.tick() for _ in range(2)] == [set()] * 2
