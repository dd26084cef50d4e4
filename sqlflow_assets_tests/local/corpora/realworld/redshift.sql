-- vendor: dbvredshift
-- stmt: insert_select_join | expect: lineage
INSERT INTO analytics.fact_sales (sale_id, store_key, amount)
SELECT s.id, d.store_key, s.amount FROM staging.sales s JOIN analytics.dim_store d ON d.store_code = s.store_code;
-- stmt: ctas_dist_sort | expect: lineage
CREATE TABLE analytics.sales_by_day DISTKEY(store_key) SORTKEY(day) AS
SELECT store_key, trunc(sold_at) AS day, sum(amount) AS revenue FROM analytics.fact_sales GROUP BY 1, 2;
-- stmt: temp_ctas | expect: lineage
CREATE TEMP TABLE recent AS SELECT * FROM analytics.fact_sales WHERE sold_at > dateadd(day, -7, getdate());
-- stmt: select_into_temp | expect: lineage
SELECT store_key, count(*) AS n INTO TEMP TABLE store_counts FROM analytics.fact_sales GROUP BY store_key;
-- stmt: unload | expect: lineage
UNLOAD ('SELECT * FROM analytics.fact_sales WHERE sold_at > ''2024-01-01''') TO 's3://bucket/sales_' IAM_ROLE 'arn:aws:iam::1:role/r' PARQUET;
-- stmt: merge | expect: lineage
MERGE INTO analytics.customers USING staging.customers s ON customers.id = s.id
WHEN MATCHED THEN UPDATE SET name = s.name
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name);
-- stmt: update_from | expect: lineage
UPDATE analytics.products SET price = p.price FROM staging.prices p WHERE products.sku = p.sku;
-- stmt: delete_using | expect: lineage
DELETE FROM analytics.events USING staging.bad_users b WHERE events.user_id = b.user_id;
-- stmt: materialized_view_auto_refresh | expect: lineage
CREATE MATERIALIZED VIEW analytics.mv_store AUTO REFRESH YES AS SELECT store_key, sum(amount) AS total FROM analytics.fact_sales GROUP BY store_key;
-- stmt: late_binding_view | expect: lineage
CREATE OR REPLACE VIEW analytics.v_sales AS SELECT sale_id, amount FROM analytics.fact_sales WITH NO SCHEMA BINDING;
-- stmt: procedure_plpgsql | expect: lineage
CREATE OR REPLACE PROCEDURE analytics.sp_load()
AS $$
BEGIN
  INSERT INTO analytics.fact_sales (sale_id, amount) SELECT id, amount FROM staging.sales WHERE loaded = false;
  UPDATE staging.sales SET loaded = true;
END;
$$ LANGUAGE plpgsql;
-- stmt: listagg | expect: lineage
INSERT INTO analytics.store_products SELECT store_key, listagg(product, ',') WITHIN GROUP (ORDER BY product) FROM analytics.fact_sales GROUP BY store_key;
-- stmt: approximate_count | expect: lineage
CREATE TABLE analytics.uniques AS SELECT day, APPROXIMATE COUNT(DISTINCT user_id) AS users FROM analytics.events GROUP BY day;
-- stmt: insert_parenthesised | expect: lineage
INSERT INTO analytics.archive (SELECT * FROM analytics.events WHERE day < '2023-01-01');
-- stmt: insert_with | expect: lineage
INSERT INTO analytics.top_stores WITH t AS (SELECT store_key, sum(amount) AS total FROM analytics.fact_sales GROUP BY store_key)
SELECT store_key, total FROM t ORDER BY total DESC LIMIT 10;
-- stmt: ctas_like_json | expect: lineage
CREATE TABLE analytics.events_parsed AS SELECT json_extract_path_text(payload, 'id') AS id, json_extract_path_text(payload, 'kind') AS kind FROM staging.events_raw;
-- stmt: view_case_nvl | expect: lineage
CREATE VIEW analytics.v_customer_status AS SELECT id, nvl(name, 'unknown') AS name, CASE WHEN churned THEN 'c' ELSE 'a' END AS status FROM analytics.customers;
-- stmt: insert_datediff | expect: lineage
INSERT INTO analytics.tenure SELECT id, datediff(day, signup_at, getdate()) FROM analytics.customers;
-- stmt: ctas_backup_no | expect: lineage
CREATE TABLE analytics.scratch BACKUP NO AS SELECT id FROM analytics.customers;
-- stmt: insert_split_part | expect: lineage
INSERT INTO analytics.domains SELECT id, split_part(email, '@', 2) FROM analytics.customers;
