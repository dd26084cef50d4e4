-- vendor: dbvdatabricks
-- stmt: ctas_replace | expect: lineage
CREATE OR REPLACE TABLE main.sales.daily AS SELECT order_date, sum(amount) AS revenue FROM main.raw.orders GROUP BY order_date;
-- stmt: merge_set_star_except | expect: lineage
MERGE INTO main.sales.customers t USING main.raw.customers_cdc s ON t.id = s.id
WHEN MATCHED AND s.op = 'U' THEN UPDATE SET * EXCEPT (op, _ingested_at)
WHEN MATCHED AND s.op = 'D' THEN DELETE
WHEN NOT MATCHED THEN INSERT (id, name, email) VALUES (s.id, s.name, s.email);
-- stmt: merge_insert_star | expect: lineage
MERGE INTO main.sales.orders t USING (SELECT order_id, customer_id, amount FROM main.raw.orders_delta) s ON t.order_id = s.order_id
WHEN NOT MATCHED THEN INSERT *;
-- stmt: insert_replace_where | expect: lineage
INSERT INTO main.sales.events REPLACE WHERE event_date = '2024-05-01'
SELECT event_id, user_id, event_date FROM main.raw.events WHERE event_date = '2024-05-01';
-- stmt: materialized_view | expect: lineage
CREATE MATERIALIZED VIEW main.sales.mv_customer_totals AS SELECT customer_id, sum(amount) AS total FROM main.sales.orders GROUP BY customer_id;
-- stmt: streaming_table | expect: lineage
CREATE OR REFRESH STREAMING TABLE main.bronze.events AS SELECT event_id, payload FROM STREAM(main.landing.events_raw);
-- stmt: alter_view_identifier_rename | expect: lineage
ALTER VIEW IDENTIFIER('main.sales.v_old') RENAME TO IDENTIFIER('main.sales.v_new');
-- stmt: alter_view_as | expect: lineage
ALTER VIEW main.sales.v_orders AS SELECT order_id, amount FROM main.sales.orders WHERE amount > 0;
-- stmt: insert_overwrite | expect: lineage
INSERT OVERWRITE main.sales.top_customers SELECT customer_id, total FROM main.sales.mv_customer_totals ORDER BY total DESC LIMIT 100;
-- stmt: merge_not_matched_by_source | expect: lineage
MERGE INTO main.sales.products t USING main.raw.products s ON t.sku = s.sku
WHEN MATCHED THEN UPDATE SET t.price = s.price
WHEN NOT MATCHED THEN INSERT (sku, price) VALUES (s.sku, s.price)
WHEN NOT MATCHED BY SOURCE THEN DELETE;
-- stmt: temp_view | expect: lineage
CREATE OR REPLACE TEMP VIEW v_recent AS SELECT * FROM main.sales.orders WHERE order_date >= date_sub(current_date(), 7);
-- stmt: update_exists | expect: lineage
UPDATE main.sales.customers c SET c.active = false WHERE NOT EXISTS (SELECT 1 FROM main.sales.orders o WHERE o.customer_id = c.id);
-- stmt: insert_by_name | expect: lineage
INSERT INTO main.sales.orders_copy BY NAME SELECT amount, order_id, customer_id FROM main.sales.orders;
-- stmt: ctas_qualify | expect: lineage
CREATE TABLE main.sales.latest AS SELECT id, status FROM main.raw.status QUALIFY row_number() OVER (PARTITION BY id ORDER BY ts DESC) = 1;
-- stmt: sql_table_function | expect: lineage
CREATE OR REPLACE FUNCTION main.sales.orders_of(cid BIGINT) RETURNS TABLE (order_id BIGINT, amount DOUBLE)
RETURN SELECT order_id, amount FROM main.sales.orders WHERE customer_id = cid;
-- stmt: delete_where | expect: lineage
DELETE FROM main.sales.orders WHERE customer_id IN (SELECT id FROM main.sales.gdpr_erasures);
-- stmt: cache_table | expect: lineage
CACHE TABLE hot AS SELECT * FROM main.sales.orders WHERE amount > 1000;
-- stmt: view_identifier | expect: lineage
CREATE OR REPLACE VIEW IDENTIFIER('main.sales.v_big') AS SELECT order_id FROM main.sales.orders WHERE amount > 1000;
-- stmt: ctas_explode | expect: lineage
CREATE TABLE main.sales.order_lines AS SELECT order_id, explode(items) AS item FROM main.raw.orders_json;
-- stmt: insert_with_cte | expect: lineage
WITH c AS (SELECT customer_id, count(*) AS n FROM main.sales.orders GROUP BY customer_id)
INSERT INTO main.sales.order_counts SELECT customer_id, n FROM c;
