-- vendor: dbvteradata
-- stmt: insert_select | expect: lineage
INSERT INTO edw.fact_sales (sale_id, store_id, amount)
SELECT s.sale_id, s.store_id, s.qty * p.price FROM stg.sales s INNER JOIN edw.product p ON p.product_id = s.product_id;
-- stmt: ctas_with_data_pi | expect: lineage
CREATE TABLE edw.sales_2024 AS (SELECT * FROM edw.fact_sales WHERE sale_date >= DATE '2024-01-01') WITH DATA PRIMARY INDEX (sale_id);
-- stmt: volatile_table | expect: lineage
CREATE VOLATILE TABLE vt_stores AS (SELECT store_id, region FROM edw.store WHERE active_flag = 'Y') WITH DATA ON COMMIT PRESERVE ROWS;
-- stmt: ins_sel_abbreviations | expect: lineage
INS INTO edw.daily_totals SEL sale_date, SUM(amount) FROM edw.fact_sales GROUP BY 1;
-- stmt: update_from | expect: lineage
UPDATE t FROM edw.customer t, stg.customer_upd s SET email = s.email WHERE t.customer_id = s.customer_id;
-- stmt: del_where | expect: lineage
DEL FROM edw.fact_sales WHERE store_id IN (SELECT store_id FROM edw.closed_stores);
-- stmt: merge | expect: lineage
MERGE INTO edw.customer t USING stg.customer s ON t.customer_id = s.customer_id
WHEN MATCHED THEN UPDATE SET name = s.name
WHEN NOT MATCHED THEN INSERT (customer_id, name) VALUES (s.customer_id, s.name);
-- stmt: replace_view | expect: lineage
REPLACE VIEW edw.v_sales AS SELECT sale_id, store_id, amount FROM edw.fact_sales;
-- stmt: multiset_table | expect: lineage
CREATE MULTISET TABLE edw.sales_copy AS (SELECT sale_id, amount FROM edw.fact_sales) WITH DATA;
-- stmt: qualify | expect: lineage
INSERT INTO edw.latest_price SELECT product_id, price FROM edw.price_hist QUALIFY ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY valid_from DESC) = 1;
-- stmt: column_titles | expect: lineage
CREATE VIEW edw.v_customer AS SELECT customer_id (TITLE 'Customer'), name (TITLE 'Name') FROM edw.customer;
-- stmt: procedure | expect: lineage
REPLACE PROCEDURE edw.sp_load_sales()
BEGIN
  DELETE FROM edw.fact_sales WHERE sale_date = CURRENT_DATE;
  INSERT INTO edw.fact_sales SELECT * FROM stg.sales WHERE sale_date = CURRENT_DATE;
END;
-- stmt: locking_row_view | expect: lineage
REPLACE VIEW edw.v_store AS LOCKING ROW FOR ACCESS SELECT store_id, region FROM edw.store;
-- stmt: sample | expect: lineage
INSERT INTO edw.sales_sample SELECT * FROM edw.fact_sales SAMPLE 1000;
-- stmt: ctas_no_data | expect: lineage
CREATE TABLE edw.sales_empty AS edw.fact_sales WITH NO DATA;
-- stmt: insert_case_coalesce | expect: lineage
INSERT INTO edw.customer_band SELECT customer_id, CASE WHEN COALESCE(spend, 0) > 1000 THEN 'A' ELSE 'B' END FROM edw.customer_spend;
-- stmt: view_join | expect: lineage
CREATE VIEW edw.v_sales_region AS SELECT f.sale_id, s.region FROM edw.fact_sales f LEFT JOIN edw.store s ON s.store_id = f.store_id;
-- stmt: update_subquery | expect: lineage
UPDATE edw.store SET region = (SELECT region FROM edw.region_map m WHERE m.store_id = edw.store.store_id);
-- stmt: insert_extract | expect: lineage
INSERT INTO edw.sales_month SELECT sale_id, EXTRACT(MONTH FROM sale_date) FROM edw.fact_sales;
-- stmt: ctas_group | expect: lineage
CREATE TABLE edw.store_totals AS (SELECT store_id, SUM(amount) AS total FROM edw.fact_sales GROUP BY store_id) WITH DATA;
-- stmt: with_data_and_stats | expect: lineage
CREATE TABLE edw.sales_stats AS (SELECT store_id, amount FROM edw.fact_sales) WITH DATA AND STATS;
