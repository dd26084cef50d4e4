-- vendor: dbvbigquery
-- stmt: ctas_partition_cluster | expect: lineage
CREATE OR REPLACE TABLE analytics.daily_sessions
PARTITION BY DATE(session_start) CLUSTER BY user_id AS
SELECT user_id, MIN(event_ts) AS session_start, COUNT(*) AS events
FROM analytics.events WHERE _PARTITIONTIME >= TIMESTAMP('2024-01-01')
GROUP BY user_id, session_id;
-- stmt: insert_unnest | expect: lineage
INSERT INTO analytics.order_lines (order_id, sku, qty)
SELECT o.order_id, item.sku, item.qty FROM raw.orders o, UNNEST(o.items) AS item;
-- stmt: merge_insert_row | expect: lineage
MERGE analytics.customers T USING staging.customers S ON T.customer_id = S.customer_id
WHEN MATCHED THEN UPDATE SET email = S.email, updated_at = S.updated_at
WHEN NOT MATCHED THEN INSERT ROW;
-- stmt: merge_not_matched_by_source | expect: lineage
MERGE dataset.inventory T USING dataset.new_arrivals S ON T.product = S.product
WHEN MATCHED THEN UPDATE SET quantity = T.quantity + S.quantity
WHEN NOT MATCHED BY TARGET THEN INSERT (product, quantity) VALUES (product, quantity)
WHEN NOT MATCHED BY SOURCE THEN DELETE;
-- stmt: export_data | expect: lineage
EXPORT DATA OPTIONS (uri = 'gs://exports/orders-*.parquet', format = 'PARQUET', overwrite = true) AS
SELECT order_id, customer_id, total FROM analytics.orders WHERE order_date = CURRENT_DATE();
-- stmt: table_function | expect: lineage
CREATE OR REPLACE TABLE FUNCTION analytics.orders_of(cust STRING) AS
SELECT order_id, total FROM analytics.orders WHERE customer_id = cust;
-- stmt: view_struct_array_agg | expect: lineage
CREATE OR REPLACE VIEW analytics.customer_orders AS
SELECT c.customer_id, ARRAY_AGG(STRUCT(o.order_id, o.total) ORDER BY o.order_date DESC LIMIT 5) AS recent
FROM analytics.customers c JOIN analytics.orders o USING (customer_id) GROUP BY c.customer_id;
-- stmt: delete_without_from | expect: lineage
DELETE analytics.sessions WHERE user_id IN (SELECT user_id FROM analytics.deleted_users);
-- stmt: update_from | expect: lineage
UPDATE analytics.products p SET p.category = m.category FROM staging.category_map m WHERE m.sku = p.sku;
-- stmt: for_in_loop | expect: lineage
FOR rec IN (SELECT table_name FROM analytics.INFORMATION_SCHEMA.TABLES WHERE table_name LIKE 'tmp_%') DO
  INSERT INTO analytics.cleanup_log (table_name) SELECT rec.table_name FROM analytics.config WHERE enabled;
END FOR;
-- stmt: script_block | expect: lineage
BEGIN
  DECLARE run_date DATE DEFAULT CURRENT_DATE();
  SET run_date = DATE_SUB(run_date, INTERVAL 1 DAY);
  INSERT INTO analytics.daily_revenue (day, revenue)
  SELECT run_date, SUM(total) FROM analytics.orders WHERE order_date = run_date;
END;
-- stmt: procedure | expect: lineage
CREATE OR REPLACE PROCEDURE analytics.refresh_dim()
BEGIN
  CREATE TEMP TABLE changed AS SELECT DISTINCT customer_id FROM staging.customer_changes;
  DELETE analytics.dim_customer WHERE customer_id IN (SELECT customer_id FROM changed);
  INSERT INTO analytics.dim_customer SELECT * FROM staging.customers WHERE customer_id IN (SELECT customer_id FROM changed);
END;
-- stmt: temp_table | expect: lineage
CREATE TEMP TABLE top_users AS SELECT user_id, COUNT(*) AS n FROM analytics.events GROUP BY user_id ORDER BY n DESC LIMIT 100;
-- stmt: insert_qualify | expect: lineage
INSERT INTO analytics.latest_status (order_id, status)
SELECT order_id, status FROM analytics.status_log
WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY changed_at DESC) = 1;
-- stmt: materialized_view | expect: lineage
CREATE MATERIALIZED VIEW analytics.mv_daily AS
SELECT DATE(order_ts) AS day, SUM(total) AS revenue FROM analytics.orders GROUP BY day;
-- stmt: select_except_replace | expect: lineage
CREATE OR REPLACE TABLE analytics.users_clean AS
SELECT * EXCEPT (password_hash) REPLACE (LOWER(email) AS email) FROM raw.users;
-- stmt: backtick_project | expect: lineage
INSERT INTO `my-project.analytics.events_flat` (event_id, user_id)
SELECT event_id, user_id FROM `my-project.raw.events` WHERE event_date = '2024-05-01';
-- stmt: wildcard_table | expect: lineage
CREATE OR REPLACE VIEW analytics.all_events AS
SELECT event_name, user_pseudo_id, _TABLE_SUFFIX AS day FROM `ga4.analytics_123.events_*`
WHERE _TABLE_SUFFIX BETWEEN '20240101' AND '20240131';
-- stmt: if_then_insert | expect: lineage
IF (SELECT COUNT(*) FROM staging.orders) > 0 THEN
  INSERT INTO analytics.orders SELECT * FROM staging.orders;
END IF;
-- stmt: set_from_query | expect: lineage
SET max_ts = (SELECT MAX(event_ts) FROM analytics.events);
-- stmt: ctas_window_struct | expect: lineage
CREATE TABLE analytics.user_first_order AS
SELECT user_id, FIRST_VALUE(order_id) OVER (PARTITION BY user_id ORDER BY order_ts) AS first_order FROM analytics.orders;
-- stmt: create_model | expect: lineage
CREATE OR REPLACE MODEL analytics.churn_model OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churned']) AS
SELECT tenure_days, orders_90d, churned FROM analytics.customer_features;
