"""The user's warehouse tables in Dagster's own catalog (issue #19, item 1), in headless Chromium.

The product runs as the README starts it with the sample job. Nothing is reloaded by hand: the
graph step writes the catalog snapshot, `warehouse_catalog_reload` has the code server load it,
and the tables appear. Selenium then searches a table in the asset catalog, opens it, and reads its
upstream tables and its column lineage on its page (Dagster OSS shows `dagster/column_lineage` nowhere,
so the column lineage is read from the Markdown table `sqlflow/column_lineage` of its Metadata section).
Each page's screenshot is kept as an artifact.
"""

from __future__ import annotations

import pytest

from sqlflow_assets_tests.support import poll, text_with

PAGE_TIMEOUT = 60
CATALOG_WAIT = 300  # the graph's automation tick (30 s), its run, the reload sensor's tick (15 s) and a code server load, on busy cores
TABLE = ["warehouse", "marts", "customer_revenue"]
ASSET_QUERY = """
query Asset($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset { definition { groupName dependencyKeys { path } } }
  }
}
"""




@pytest.fixture(scope="module")
def catalogued(product) -> dict:
    """The sample's tables once Dagster serves them as assets (no manual reload)."""

    def served():
        found = product.graphql(ASSET_QUERY, {"key": {"path": TABLE}})["assetOrError"]
        return found if found["__typename"] == "Asset" and found["definition"] else None

    return poll(served, CATALOG_WAIT, "the warehouse tables served by the reloaded code location")


def wait_for(driver, product, name: str, *texts: str) -> str:
    try:
        return poll(lambda: text_with(driver, *texts), PAGE_TIMEOUT, f"{texts} on {driver.current_url}")
    finally:
        driver.save_screenshot(str(product.artifacts / f"ui-catalog-{name}.png"))


def column_lineage_rows(driver) -> dict[str, str] | None:
    """The rows of the table drawn in the `sqlflow/column_lineage` row of the page's metadata: column -> upstream columns."""
    cells = driver.find_elements(
        "xpath", "//tr[td[1][contains(normalize-space(), 'sqlflow/column_lineage')]]//table//tr[td]"
    )  # fmt: skip
    rows = {}
    for row in cells:
        texts = [cell.text.strip() for cell in row.find_elements("tag name", "td")]
        if len(texts) == 2 and texts[0]:
            rows[texts[0]] = texts[1]
    return rows or None


def test_the_reloaded_location_serves_the_tables_with_their_upstream(catalogued):
    assert catalogued["definition"]["groupName"] == "warehouse_marts"
    assert {tuple(key["path"]) for key in catalogued["definition"]["dependencyKeys"]} == {
        ("warehouse", "staging", "orders"), ("warehouse", "raw", "customers")
    }


def test_search_a_table_open_it_and_read_its_upstream_and_column_lineage(browser, product, catalogued):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{product.ui_url}/assets")
    wait_for(browser, product, "catalog", "Assets", "lineage_graph")  # the list draws the rows in view; warehouse/ sorts last

    def search_box():
        """The catalog's filter: an input, or Dagster's selection editor showing its placeholder text."""
        found = browser.find_elements(
            "xpath", "//input[starts-with(@placeholder, 'Search')] | //*[contains(@class, 'CodeMirror')] | "
                     "//*[normalize-space()='Search and filter assets']",
        )  # fmt: skip
        shown = [element for element in found if element.is_displayed()]
        return shown[0] if shown else None

    box = poll(search_box, PAGE_TIMEOUT, "the catalog's search box")
    text_with(browser)  # Dagster's dialog, if it came meanwhile
    browser.execute_script("(arguments[0].CodeMirror || arguments[0]).focus()", box)  # its placeholder covers the editor
    ActionChains(browser).send_keys("customer_revenue").send_keys(Keys.ENTER).perform()
    wait_for(browser, product, "search", "customer_revenue")

    def open_result() -> bool:
        links = [a for a in browser.find_elements("css selector", "a[href*='/assets/warehouse/marts/customer_revenue']") if a.is_displayed()]
        if links:
            browser.get(links[0].get_attribute("href"))  # the editor's suggestions overlay the first row: follow the link
        return bool(links)

    poll(open_result, PAGE_TIMEOUT, "the search result")
    poll(lambda: "/assets/warehouse/marts/customer_revenue" in browser.current_url, PAGE_TIMEOUT, "the table's page")
    text = wait_for(browser, product, "table-page", "customer_revenue", "Upstream assets", "revenue")
    assert "orders" in text and "customers" in text  # its upstream tables: staging.orders, raw.customers
    assert "marts.customer_revenue" in text  # dagster/table_name
    assert "02_marts.sql" in text  # the SQL file that writes it

    # its column lineage: Dagster OSS hides `dagster/column_lineage` (its column view is Dagster+'s), so the page's
    # Metadata section shows it as the `sqlflow/column_lineage` table: each column beside its upstream columns
    lineage = poll(lambda: column_lineage_rows(browser), PAGE_TIMEOUT, "the column lineage table on the table's page")
    browser.save_screenshot(str(product.artifacts / "ui-catalog-column-lineage.png"))
    assert "staging.orders.amount" in lineage["revenue"].split(", "), lineage  # SUM(p.amount) (and its GROUP BY columns)
    assert lineage["customer_name"] == "raw.customers.name", lineage
    assert lineage["country"] == "raw.customers.country", lineage

    # its lineage tab draws its upstream tables in their schemas' groups (Dagster's column view needs a click: not tested)
    browser.get(f"{product.ui_url}/assets/warehouse/marts/customer_revenue?view=lineage")
    wait_for(browser, product, "lineage", "warehouse_raw", "customers", "warehouse_staging", "orders", "country_revenue")
