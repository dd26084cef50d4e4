"""A replaced job's lineage change where users look (issue #21, item 2), in headless Chromium.

The product runs as the README starts it. A source is submitted to its local server in two
versions: the sensor loads each job, the graph's automation refreshes the graph after each, and
the second refresh records what changed. Selenium opens `lineage/lineage_changes`, the
materialisation's change Markdown, and reads the summary and the picture. Screenshots are artifacts.
"""

from __future__ import annotations

import base64
import contextlib
import xml.etree.ElementTree as ET

import pytest

from sqlflow_assets_tests.support import INGEST, MARTS_V1, MARTS_V2, NS, XLINK_TITLE, poll, text_with

PAGE_TIMEOUT = 60
GRAPH_WAIT = 300  # the sensor's tick and lineage run, the graph's automation tick (30 s) and its run, on busy cores
SOURCE = "review e2e"
REPORT = b"CREATE TABLE bi.report AS SELECT customer_id, revenue FROM marts.revenue;"


LATEST_QUERY = """
query Latest($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset { assetMaterializations(limit: 1) {
      runId
      metadataEntries { label ... on IntMetadataEntry { intValue } ... on MarkdownMetadataEntry { mdStr } }
    } }
  }
}
"""
RUN_QUERY = "query Run($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { startTime endTime } } }"


def run_times(product, run_id: str) -> dict:
    return product.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]


def latest(product, *key: str) -> dict | None:
    """The asset's latest materialisation (run id, metadata by label), through Dagster's GraphQL: the
    product's DuckDB file is left to the product (a reader's lock fails a writer that opens it)."""
    found = product.graphql(LATEST_QUERY, {"key": {"path": list(key)}})["assetOrError"]
    if found["__typename"] != "Asset" or not found["assetMaterializations"]:
        return None
    [event] = found["assetMaterializations"]
    return {"run_id": event["runId"], **{e["label"]: e.get("intValue", e.get("mdStr")) for e in event["metadataEntries"]}}


def settle(product, lineage_run_id: str) -> None:
    """Until a graph run that started after `lineage_run_id` ended has materialised the graph.

    Dagster's eager condition drops a dependency update that lands in the tick its own run's
    request or materialisation resets it (a job loaded while the graph refreshes waits for the next
    job: a known issue, see the session note), so the test loads a version only into an idle graph.
    """
    loaded = run_times(product, lineage_run_id)["endTime"]

    def refreshed_after() -> bool:
        graph = latest(product, "lineage", "current_jobs")
        return bool(graph) and (run_times(product, graph["run_id"])["startTime"] or 0) > loaded

    poll(refreshed_after, GRAPH_WAIT, "a graph refresh after the lineage run")


def load_version(product, marts: bytes) -> str:
    """Submit a version of the source into an idle graph; its job id once the graph refreshed after its lineage run."""
    settle(product, product.runs(statuses=["SUCCESS"])[0]["runId"])  # the last lineage run (the sample's, the previous version's)
    client = product.client()
    files = [("ingest.sql", INGEST), ("marts.sql", marts), ("report.sql", REPORT)]
    job_id = client.submit_user_job(SOURCE, files, "dbvpostgresql")["jobId"]
    assert client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)["status"] == "success"
    [run] = poll(lambda: product.runs(statuses=["SUCCESS"], tags={"sqlflow/job_id": job_id}), GRAPH_WAIT, "the job's lineage run")[:1]
    settle(product, run["runId"])
    return job_id


@pytest.fixture(scope="module")
def changed(product) -> tuple[str, str]:
    first = load_version(product, MARTS_V1)
    second = load_version(product, MARTS_V2)
    poll(lambda: SOURCE in ((latest(product, "lineage", "lineage_changes") or {}).get("lineage/changes") or ""), 60, "the change record")
    return first, second


def test_the_change_summary_and_picture_show_on_the_graph_s_materialisation(browser, product, changed):
    from selenium.common.exceptions import WebDriverException

    browser.get(f"{product.ui_url}/assets/lineage/lineage_changes")
    try:
        poll(lambda: text_with(browser, "lineage/changes", "lineage/changed_sources"), PAGE_TIMEOUT, "the change metadata")
    finally:
        browser.save_screenshot(str(product.artifacts / "ui-review-lineage-changes.png"))

    def dialog() -> str | None:
        """The open dialog's text once it shows the summary; until then a click on the change Markdown's link."""
        text_with(browser)  # first Dagster's newsletter dialog away (a dialog too)
        shown = [d.text for d in browser.find_elements("css selector", '[role="dialog"]') if d.is_displayed() and "Skip" not in d.text]
        if not shown:
            links = browser.find_elements("xpath", "//a[normalize-space()='[Show Markdown]'] | //button[normalize-space()='[Show Markdown]']")
            with contextlib.suppress(WebDriverException, StopIteration):
                next(link for link in links if link.is_displayed()).click()  # the materialisation's one Markdown entry
            return None
        return next((text for text in shown if SOURCE in text and "downstream column" in text), None)

    try:
        text = poll(dialog, PAGE_TIMEOUT, "the change summary in the Markdown dialog")
        images = poll(lambda: [img for img in browser.find_elements("css selector", '[role="dialog"] img')
                               if (img.get_attribute("src") or "").startswith("data:image/svg+xml") and img.is_displayed()] or None,
                      PAGE_TIMEOUT, "the change picture")  # fmt: skip
    finally:
        browser.save_screenshot(str(product.artifacts / "ui-review-change-dialog.png"))
    assert "-" in text and "edges" in text and "bi.report.revenue" in text, text[:500]  # the summary, the consumer listed
    [picture] = images
    assert picture.size["width"] > 100 and picture.size["height"] > 50, picture.size
    svg = base64.b64decode(picture.get_attribute("src").split(",", 1)[1]).decode()
    assert 'stroke="#c0392b"' in svg and 'stroke-dasharray="5,2"' in svg and 'stroke="#2e8b57"' in svg  # removed red dashed, added green
    arrows = {link.get(XLINK_TITLE) for link in ET.fromstring(svg).iterfind(".//svg:g[@class='edge']//svg:a", NS)}
    assert "removed: staging.orders.amount -> marts.revenue.revenue (fdd)" in arrows, arrows
