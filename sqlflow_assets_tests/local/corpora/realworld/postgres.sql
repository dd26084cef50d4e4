-- vendor: dbvpostgresql
-- stmt: upsert_excluded | expect: lineage
INSERT INTO inventory (sku, qty, updated_at)
SELECT sku, SUM(delta), now() FROM inventory_moves GROUP BY sku
ON CONFLICT (sku) DO UPDATE SET qty = inventory.qty + EXCLUDED.qty, updated_at = EXCLUDED.updated_at;
-- stmt: upsert_row_subquery | expect: lineage
INSERT INTO accounts (id, balance) SELECT id, opening FROM account_openings
ON CONFLICT (id) DO UPDATE SET (balance) = (SELECT sum(amount) FROM ledger l WHERE l.account_id = excluded.id);
-- stmt: materialized_view | expect: lineage
CREATE MATERIALIZED VIEW mv_monthly AS
SELECT date_trunc('month', created_at) AS month, count(*) FILTER (WHERE status = 'paid') AS paid
FROM invoices GROUP BY 1;
-- stmt: view_cte | expect: lineage
CREATE OR REPLACE VIEW reporting.v_churn AS
WITH last_login AS (SELECT user_id, max(ts) AS ts FROM events WHERE kind = 'login' GROUP BY user_id)
SELECT u.id, u.email, l.ts AS last_login FROM users u LEFT JOIN last_login l ON l.user_id = u.id;
-- stmt: update_from | expect: lineage
UPDATE orders o SET customer_name = c.name FROM customers c WHERE c.id = o.customer_id;
-- stmt: delete_using | expect: lineage
DELETE FROM sessions s USING users u WHERE s.user_id = u.id AND u.disabled;
-- stmt: ctas_distinct_on | expect: lineage
CREATE TABLE latest_status AS
SELECT DISTINCT ON (order_id) order_id, status, changed_at FROM order_status_log ORDER BY order_id, changed_at DESC;
-- stmt: copy_query_to_stdout | expect: lineage
COPY (SELECT id, email FROM users WHERE created_at > now() - interval '1 day') TO STDOUT WITH CSV HEADER;
-- stmt: insert_lateral | expect: lineage
INSERT INTO top_items (customer_id, item_id)
SELECT c.id, t.item_id FROM customers c,
LATERAL (SELECT item_id FROM purchases p WHERE p.customer_id = c.id ORDER BY p.ts DESC LIMIT 3) t;
-- stmt: insert_unnest | expect: lineage
INSERT INTO post_tags (post_id, tag) SELECT id, unnest(tags) FROM posts;
-- stmt: trigger_function | expect: lineage
CREATE OR REPLACE FUNCTION audit_orders() RETURNS trigger AS $$
BEGIN
  INSERT INTO orders_audit (order_id, status, changed_at) SELECT NEW.id, NEW.status, now();
  INSERT INTO orders_history SELECT * FROM orders WHERE id = NEW.id;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- stmt: do_block | expect: lineage
DO $$
BEGIN
  INSERT INTO daily_totals (day, total) SELECT current_date, sum(amount) FROM payments WHERE paid_at::date = current_date;
END
$$;
-- stmt: select_into_new_table | expect: lineage
SELECT id, email INTO TEMP new_signups FROM users WHERE created_at > now() - interval '7 days';
-- stmt: select_for_share_of | expect: lineage
SELECT a.id, b.total FROM accounts a JOIN balances b ON b.account_id = a.id FOR SHARE OF a, b;
-- stmt: ctas_recursive | expect: lineage
CREATE TABLE org_tree AS
WITH RECURSIVE tree AS (
  SELECT id, manager_id, 1 AS depth FROM employees WHERE manager_id IS NULL
  UNION ALL
  SELECT e.id, e.manager_id, t.depth + 1 FROM employees e JOIN tree t ON e.manager_id = t.id
)
SELECT id, manager_id, depth FROM tree;
-- stmt: insert_jsonb | expect: lineage
INSERT INTO profiles (user_id, name, city) SELECT id, doc->>'name', doc#>>'{address,city}' FROM raw_users;
-- stmt: insert_unicode_escape | expect: lineage
INSERT INTO labels (id, label) SELECT id, U&'caf!00E9' UESCAPE '!' || name FROM items;
-- stmt: merge_pg15 | expect: lineage
MERGE INTO customer_account ca USING recent_transactions t ON t.customer_id = ca.customer_id
WHEN MATCHED THEN UPDATE SET balance = balance + t.transaction_value
WHEN NOT MATCHED THEN INSERT (customer_id, balance) VALUES (t.customer_id, t.transaction_value);
-- stmt: view_rollup | expect: lineage
CREATE VIEW v_sales_rollup AS SELECT region, product, sum(amount) AS total FROM sales GROUP BY ROLLUP (region, product);
-- stmt: procedure_plpgsql | expect: lineage
CREATE OR REPLACE PROCEDURE load_facts()
LANGUAGE plpgsql
AS $$
DECLARE
  n integer;
BEGIN
  TRUNCATE fact_sales;
  INSERT INTO fact_sales (sale_id, amount) SELECT id, amount FROM stg_sales WHERE amount > 0;
  GET DIAGNOSTICS n = ROW_COUNT;
  RAISE NOTICE 'loaded %', n;
END;
$$;
-- stmt: data_modifying_cte | expect: lineage
WITH moved AS (DELETE FROM queue WHERE done RETURNING id, payload)
INSERT INTO queue_done (id, payload) SELECT id, payload FROM moved;
-- stmt: rule_also_insert | expect: warning
CREATE RULE log_insert AS ON INSERT TO orders DO ALSO INSERT INTO orders_log SELECT NEW.id, now() FROM orders_meta;
