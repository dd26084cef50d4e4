-- vendor: dbvsparksql
-- stmt: insert_overwrite_partition | expect: lineage
INSERT OVERWRITE TABLE dw.fact_orders PARTITION (dt = '2024-05-01')
SELECT order_id, customer_id, amount FROM ods.orders WHERE dt = '2024-05-01';
-- stmt: lateral_view_explode | expect: lineage
INSERT INTO dw.order_tags SELECT o.order_id, tag FROM ods.orders o LATERAL VIEW explode(o.tags) t AS tag;
-- stmt: ctas_using_parquet | expect: lineage
CREATE TABLE dw.customers_pq USING parquet AS SELECT id, name, country FROM ods.customers;
-- stmt: temp_view | expect: lineage
CREATE OR REPLACE TEMPORARY VIEW recent_orders AS SELECT * FROM ods.orders WHERE order_ts > current_date() - INTERVAL 7 DAYS;
-- stmt: cache_table | expect: lineage
CACHE TABLE hot_customers AS SELECT customer_id, count(*) AS n FROM ods.orders GROUP BY customer_id HAVING count(*) > 10;
-- stmt: merge_update_star | expect: lineage
MERGE INTO dw.customers t USING (SELECT id, name, email FROM ods.customers_delta) s ON t.id = s.id
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
-- stmt: unpivot_include_nulls | expect: lineage
INSERT INTO dw.sales_long SELECT store, quarter, revenue FROM dw.sales_wide UNPIVOT INCLUDE NULLS (revenue FOR quarter IN (q1, q2, q3, q4));
-- stmt: pivot | expect: lineage
CREATE TABLE dw.sales_pivot AS SELECT * FROM (SELECT year, quarter, revenue FROM dw.sales) PIVOT (sum(revenue) FOR quarter IN ('Q1', 'Q2'));
-- stmt: view_cte | expect: lineage
CREATE VIEW dw.v_top AS WITH agg AS (SELECT customer_id, sum(amount) AS total FROM dw.fact_orders GROUP BY customer_id)
SELECT customer_id, total FROM agg WHERE total > 1000;
-- stmt: insert_table | expect: lineage
INSERT INTO dw.orders_backup TABLE dw.fact_orders;
-- stmt: cte_insert | expect: lineage
WITH d AS (SELECT DISTINCT customer_id FROM ods.orders) INSERT INTO dw.active_customers SELECT customer_id FROM d;
-- stmt: insert_overwrite_directory | expect: lineage
INSERT OVERWRITE DIRECTORY '/exports/orders' USING parquet SELECT order_id, amount FROM dw.fact_orders;
-- stmt: ctas_window | expect: lineage
CREATE TABLE dw.order_rank AS SELECT order_id, customer_id, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC) AS rnk FROM dw.fact_orders;
-- stmt: update_delta | expect: lineage
UPDATE dw.customers SET segment = 'vip' WHERE id IN (SELECT customer_id FROM dw.vip_list);
-- stmt: delete_subquery | expect: lineage
DELETE FROM dw.fact_orders WHERE customer_id IN (SELECT id FROM dw.deleted_customers);
-- stmt: ctas_partitioned | expect: lineage
CREATE TABLE dw.events_by_day USING delta PARTITIONED BY (day) AS SELECT event_id, user_id, to_date(ts) AS day FROM ods.events;
-- stmt: struct_collect | expect: lineage
INSERT INTO dw.customer_orders SELECT customer_id, collect_list(named_struct('id', order_id, 'amount', amount)) FROM dw.fact_orders GROUP BY customer_id;
-- stmt: global_temp_view | expect: lineage
CREATE GLOBAL TEMPORARY VIEW gv_orders AS SELECT order_id, amount FROM dw.fact_orders;
-- stmt: alter_view_as | expect: lineage
ALTER VIEW dw.v_orders AS SELECT order_id, amount, dt FROM dw.fact_orders;
-- stmt: insert_into_table_keyword | expect: lineage
INSERT INTO TABLE dw.dim_country SELECT DISTINCT country, upper(country) FROM ods.customers;
