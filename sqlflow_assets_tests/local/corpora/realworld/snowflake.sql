-- vendor: dbvsnowflake
-- stmt: ctas_flatten | expect: lineage
CREATE OR REPLACE TABLE analytics.order_items AS
SELECT o.order_id, f.value:sku::STRING AS sku, f.value:qty::NUMBER AS qty
FROM raw.orders o, LATERAL FLATTEN(input => o.payload:items) f;
-- stmt: insert_overwrite | expect: lineage
INSERT OVERWRITE INTO analytics.daily_kpis SELECT CURRENT_DATE, COUNT(*), SUM(amount) FROM analytics.payments;
-- stmt: multi_table_insert | expect: lineage
INSERT ALL
  WHEN amount > 1000 THEN INTO big_payments (id, amount) VALUES (id, amount)
  ELSE INTO small_payments (id, amount) VALUES (id, amount)
SELECT id, amount FROM raw.payments;
-- stmt: merge_subquery | expect: lineage
MERGE INTO analytics.customers t
USING (SELECT customer_id, email, updated_at FROM raw.customers QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY updated_at DESC) = 1) s
ON t.customer_id = s.customer_id
WHEN MATCHED THEN UPDATE SET t.email = s.email
WHEN NOT MATCHED THEN INSERT (customer_id, email) VALUES (s.customer_id, s.email);
-- stmt: view_qualify | expect: lineage
CREATE OR REPLACE VIEW analytics.v_latest AS
SELECT id, status FROM raw.status_log QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) = 1;
-- stmt: transient_ctas | expect: lineage
CREATE OR REPLACE TRANSIENT TABLE scratch.active_users AS SELECT user_id, last_seen FROM analytics.users WHERE last_seen > DATEADD(day, -30, CURRENT_DATE);
-- stmt: dynamic_table | expect: lineage
CREATE OR REPLACE DYNAMIC TABLE analytics.dt_orders TARGET_LAG = '10 minutes' WAREHOUSE = transform_wh AS
SELECT order_id, customer_id, total FROM raw.orders WHERE status <> 'test';
-- stmt: secure_view | expect: lineage
CREATE OR REPLACE SECURE VIEW shared.v_customers AS SELECT customer_id, region FROM analytics.customers;
-- stmt: copy_into_stage | expect: lineage
COPY INTO @exports/orders/ FROM (SELECT order_id, total FROM analytics.orders WHERE order_date = CURRENT_DATE) FILE_FORMAT = (TYPE = PARQUET);
-- stmt: update_from | expect: lineage
UPDATE analytics.products p SET price = s.price FROM raw.price_feed s WHERE s.sku = p.sku;
-- stmt: delete_using | expect: lineage
DELETE FROM analytics.sessions USING analytics.bots WHERE sessions.ip = bots.ip;
-- stmt: procedure_scripting | expect: lineage
CREATE OR REPLACE PROCEDURE analytics.load_orders()
RETURNS VARCHAR
LANGUAGE SQL
AS
$$
DECLARE
  cnt INTEGER DEFAULT 0;
BEGIN
  INSERT INTO analytics.orders (order_id, total) SELECT order_id, total FROM raw.orders WHERE loaded = FALSE;
  cnt := SQLROWCOUNT;
  UPDATE raw.orders SET loaded = TRUE WHERE order_id IN (SELECT order_id FROM analytics.orders);
  RETURN 'loaded ' || cnt;
END;
$$;
-- stmt: execute_immediate_block | expect: lineage
EXECUTE IMMEDIATE $$
BEGIN
  INSERT INTO analytics.audit (table_name, row_count) SELECT 'orders', COUNT(*) FROM analytics.orders;
END;
$$;
-- stmt: task | expect: lineage
CREATE OR REPLACE TASK analytics.t_hourly WAREHOUSE = transform_wh SCHEDULE = '60 MINUTE' AS
INSERT INTO analytics.hourly (hour, n) SELECT DATE_TRUNC('hour', ts), COUNT(*) FROM raw.events GROUP BY 1;
-- stmt: variant_paths | expect: lineage
INSERT INTO analytics.events (id, kind, user_id) SELECT v:id::STRING, v:kind::STRING, v:user.id::NUMBER FROM raw.events_json;
-- stmt: pivot_ctas | expect: lineage
CREATE OR REPLACE TABLE analytics.sales_by_quarter AS
SELECT * FROM (SELECT region, quarter, amount FROM analytics.sales) PIVOT (SUM(amount) FOR quarter IN ('Q1', 'Q2', 'Q3', 'Q4'));
-- stmt: materialized_view | expect: lineage
CREATE MATERIALIZED VIEW analytics.mv_totals AS SELECT customer_id, SUM(total) AS total FROM analytics.orders GROUP BY customer_id;
-- stmt: view_lateral_flatten | expect: lineage
CREATE VIEW analytics.v_tags AS SELECT p.id, t.value::STRING AS tag FROM raw.posts p, LATERAL FLATTEN(input => p.tags) t;
-- stmt: temporary_table | expect: lineage
CREATE OR REPLACE TEMPORARY TABLE tmp_orders AS SELECT * FROM raw.orders WHERE order_date = CURRENT_DATE;
-- stmt: unpivot | expect: lineage
INSERT INTO analytics.metrics_long (id, metric, value)
SELECT id, metric, value FROM analytics.metrics_wide UNPIVOT (value FOR metric IN (clicks, views, likes));
-- stmt: javascript_procedure_sql_in_strings | expect: error
CREATE OR REPLACE PROCEDURE analytics.js_load() RETURNS STRING LANGUAGE JAVASCRIPT AS
$$
  snowflake.execute({sqlText: "INSERT INTO analytics.t SELECT a FROM raw.s"});
  return 'ok';
$$;
