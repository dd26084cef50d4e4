"""What a person sees in the Dagster UI of the running product (issue #9, item 7), in headless Chromium.

The product runs as the README starts it; a second job (one good, one unparseable SQL file) is
submitted to its local server and the sensor loads it. Selenium then opens the asset graph, a
lineage asset's page with its partition's metadata, the checks of both jobs and the sensor's
ticks, and asserts on the text on the page. Each page's screenshot is kept as a test artifact.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from sqlflow_assets_tests.support import poll, text_with

LOCATION = "sqlflow_assets"  # workspace.yaml
PAGE_TIMEOUT = 60  # the UI fetches over GraphQL after the page loads; on 2 busy cores that can take a while
SENSOR_WAIT = 120




class Page:
    """Opens UI routes, waits for text to show, and keeps a screenshot of what was seen."""

    def __init__(self, driver, product) -> None:
        self.driver, self.product = driver, product

    def open(self, route: str, name: str, *texts: str) -> str:
        """The page's visible text once every one of `texts` shows; its screenshot is saved as `name`.png."""
        self.driver.get(self.product.ui_url + route)
        return self.wait_for(name, *texts)

    def click(self, label: str) -> None:
        """Click the link or tab a person reads as `label`, once nothing (Dagster's dialog) covers it."""
        from selenium.common.exceptions import WebDriverException

        def clicked() -> bool:
            text_with(self.driver)  # Dagster's dialog first, if it is over the page
            try:
                self.driver.find_element("xpath", f"//a[normalize-space()='{label}'] | //button[normalize-space()='{label}']").click()
                return True
            except WebDriverException:
                return False

        poll(clicked, PAGE_TIMEOUT, f"a click on {label!r}")

    def wait_for(self, name: str, *texts: str) -> str:
        """The current page's text once every one of `texts` shows; its screenshot is saved as `name`.png."""
        try:
            return poll(lambda: text_with(self.driver, *texts), PAGE_TIMEOUT, f"{texts} on {self.driver.current_url}")
        finally:
            self.driver.save_screenshot(str(self.product.artifacts / f"ui-{name}.png"))

    def icons(self, name: str) -> int:
        """How many status icons of that name (`warning_outline`, `cancel`, `check_circle`) the page shows."""
        return sum(icon.is_displayed() for icon in self.driver.find_elements("css selector", f'[role="img"][aria-label="{name}"]'))


@pytest.fixture(scope="module")
def partial_job(product) -> str:
    """A second job with one good and one unparseable SQL file, loaded by the sensor's run."""
    client = product.client()
    files = [("good.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;"), ("bad.sql", b"SELEC nonsense FROM WHERE ;")]
    job_id = client.submit_user_job("partial e2e", files, "dbvpostgresql")["jobId"]
    assert client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)["status"] == "partial_success"
    poll(lambda: product.runs(statuses=["SUCCESS"], tags={"sqlflow/job_id": job_id}), SENSOR_WAIT,
         "the sensor's lineage run of the partial job")
    return job_id


@pytest.fixture(scope="module")
def page(browser, product, partial_job: str) -> Page:
    return Page(browser, product)


def test_the_asset_graph_shows_every_group_and_the_lineage_assets(page: Page):
    text = page.open("/asset-groups", "asset-graph", "sqlflow_raw", "lineage_graph")
    assert all(group in text for group in ("sqlflow", "sqlflow_raw", "lineage", "lineage_graph"))
    # the group's graph draws the nodes in view: the central one, with its partitions, and its upstream neighbours
    page.open(f"/locations/{LOCATION}/asset-groups/lineage", "lineage-group-graph", "end_to_end_edges", "2 partitions", "relationships")
    page.click("List")
    text = page.wait_for("lineage-group-list", "table_edges", "column_edges", "end_to_end_edges", "objects", "columns")
    assert "Table-level lineage between real tables and views" in text  # the assets' descriptions are listed too


def test_a_lineage_asset_page_shows_each_partition_with_its_job_metadata(page: Page, product):
    sample_job, sample_key = product.sample_run["tags"]["sqlflow/job_id"], product.sample_run["tags"]["dagster/partition"]
    assert " @ " in sample_key and sample_key.endswith(f" ({sample_job})")  # the partition reads as the job: name @ time (id)
    text = page.open("/assets/lineage/table_edges", "table-edges", "table_edges", "Metadata", "sqlflow/job_name")
    assert all(label in text for label in ("dagster/partition_row_count", "sqlflow/status", "sqlflow/files", "lineage.table_edges"))
    text = page.open(f"/assets/lineage/table_edges?view=partitions&partition={quote(sample_key)}", "table-edges-partition",
                     sample_key, "sqlflow/job_name", "Materialized")
    assert "sqlflow_lineage" in text and "02_marts.sql" in text  # the run's job and the sample job's files
    rows = product.table_counts(sample_job, ["lineage.table_edges"])["lineage.table_edges"]
    assert f"dagster/partition_row_count\n{rows}\n" in text  # the row count shown is the table's


def test_the_lineage_checks_pass_on_the_sample_job(page: Page, product):
    text = page.open("/assets/lineage/column_edges?view=checks", "column-edges-checks",
                     "column_edges_present", "edge_endpoints_resolve", "edges_not_duplicated")
    assert "Succeeded" in text and "Failed" not in text
    assert page.icons("check_circle") >= 3 and page.icons("cancel") == 0


def test_the_partial_job_shows_a_warn_sql_errors_check(page: Page):
    text = page.open("/assets/sqlflow_raw/errors?view=checks", "errors-check-warn", "sql_errors", "Failed",
                     "1 statement SQLFlow could not analyse")
    assert "non-blocking" in text
    assert page.icons("warning_outline") >= 1, "a failed WARN check shows the warning icon"
    assert page.icons("cancel") == 0, "no ERROR: the good statement was analysed"


def test_the_partial_jobs_run_page_shows_its_sql_errors_check(page: Page, product, partial_job: str):
    [run, *_] = product.runs(statuses=["SUCCESS"], tags={"sqlflow/job_id": partial_job})
    text = page.open(f"/runs/{run['runId']}", "partial-run", "Check sql_errors failed for materialization of sqlflow_raw / errors")
    assert "RUN_SUCCESS" in text  # the run is green (the good statement loaded); the WARN lives in the check


def test_the_sensor_page_lists_its_ticks_and_requested_runs(page: Page):
    text = page.open(f"/locations/{LOCATION}/sensors/sqlflow_job_sensor", "sensor-ticks",
                     "sqlflow_job_sensor", "runs requested", "partition created")
    assert "sqlflow_lineage" in text and "Running" in text
    # one tick per job added its partition and requested its lineage run and a jobs-list refresh
    assert text.count("(1 partition created)") >= 2 and text.count("2 runs requested") >= 2


def test_the_lineage_picture_shows_on_the_asset_page(page: Page):
    """The job's table picture is Markdown metadata: Dagster lists it as a link that opens it in a dialog."""
    page.open("/assets/lineage/table_edges", "table-edges-metadata", "lineage/table_picture", "lineage/fdd_edges")
    page.click("[Show Markdown]")  # the first Markdown entry of the job's metadata is its table picture

    def picture():
        shown = [img for img in page.driver.find_elements("css selector", '[role="dialog"] img')
                 if (img.get_attribute("src") or "").startswith("data:image/svg+xml") and img.is_displayed()]
        return shown or None

    [drawn] = poll(picture, PAGE_TIMEOUT, "the lineage picture in the Markdown dialog")
    page.driver.save_screenshot(str(page.product.artifacts / "ui-table-edges-picture.png"))
    assert drawn.size["width"] > 200 and drawn.size["height"] > 50, drawn.size
